"""daemon: a daemon child, an ordinary child, a parent that waits for one of them.  python3 starter.py

Protocol (see README.md): one daemon child prints `tick` every 0.2 s forever; one ordinary child works 1 s
then prints `done`; the parent joins the ordinary child and prints `main: end`.
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
    # TODO: start both children (which one is the daemon, and when must that be said?), wait for the right one
    print("main: end", flush=True)


if __name__ == "__main__":
    main()
