"""producer-consumer: producers and consumers around one bounded queue.
    python3 starter.py ITEMS PRODUCERS CONSUMERS MAXSIZE

Protocol (see README.md): each producer P puts ITEMS items named `P-I` into a multiprocessing.Queue of
size MAXSIZE; consumers print `consumed P-I` for each item. The program must end by itself once
everything is consumed.
"""
import sys
from multiprocessing import Process, Queue


def producer(queue, p, items):
    for i in range(1, items + 1):
        queue.put(f"{p}-{i}")


def consumer(queue):
    while True:
        print(f"consumed {queue.get()}", flush=True)  # TODO: how does a consumer learn that it is done?


def main():
    items, producers, consumers, maxsize = map(int, sys.argv[1:5])
    queue = Queue(maxsize)
    # TODO: start the producers and the consumers, wait for them, and end


if __name__ == "__main__":
    main()
