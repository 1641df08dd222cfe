"""daemon, a typical bug: the daemon starts a child of its own: a daemon child that ticks, an ordinary child that works, a parent that joins.

    python3 reference.py

The daemon child prints `tick` every 0.2 s forever; the ordinary child works 1 s and prints `done`. The
parent joins the ordinary child, prints `main: end` and ends, and multiprocessing ends the daemon with it.
"""
import time
from multiprocessing import Process


def helper():
    time.sleep(5)


def ticker():
    Process(target=helper).start()  # BUG: a daemonic process may not have children: AssertionError
    while True:
        print("tick", flush=True)
        time.sleep(0.2)


def worker():
    time.sleep(1)
    print("done", flush=True)


def main():
    ticking = Process(target=ticker, daemon=True)  # daemon: terminated when the main code ends
    working = Process(target=worker)
    ticking.start()
    working.start()
    working.join()  # the ordinary child is waited for (and reaped: no zombie)
    print("main: end", flush=True)


if __name__ == "__main__":
    main()
