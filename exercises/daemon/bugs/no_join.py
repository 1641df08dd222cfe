"""daemon, a typical bug: the parent does not wait for the ordinary child: a daemon child that ticks, an ordinary child that works, a parent that joins.

    python3 reference.py

The daemon child prints `tick` every 0.2 s forever; the ordinary child works 1 s and prints `done`. The
parent joins the ordinary child, prints `main: end` and ends, and multiprocessing ends the daemon with it.
"""
import time
from multiprocessing import Process


def ticker():
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
    # BUG: no working.join(): `main: end` comes before `done`
    print("main: end", flush=True)


if __name__ == "__main__":
    main()
