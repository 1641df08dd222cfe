"""producer-consumer, a typical bug: the poison pills sent too early: producers and consumers around one bounded queue.

    python3 reference.py ITEMS PRODUCERS CONSUMERS MAXSIZE

Each producer P puts ITEMS items named P-I (I from 1) into a multiprocessing.Queue of size MAXSIZE; each
consumer prints `consumed P-I` for every item it gets. When the producers are done, the parent puts one
None per consumer (a poison pill): each consumer stops at its pill, and the program ends by itself.
"""
import sys
from multiprocessing import Process, Queue


def producer(queue, p, items):
    for i in range(1, items + 1):
        queue.put(f"{p}-{i}")  # blocks while the queue is full: the producers wait for the consumers


def consumer(queue):
    while (item := queue.get()) is not None:
        print(f"consumed {item}", flush=True)


def main():
    items, producers, consumers, maxsize = map(int, sys.argv[1:5])
    queue = Queue(maxsize)
    making = [Process(target=producer, args=(queue, p, items)) for p in range(1, producers + 1)]
    taking = [Process(target=consumer, args=(queue,)) for _ in range(consumers)]
    for p in making + taking:
        p.start()
    for _ in taking:
        queue.put(None)  # BUG: pills before the producers are done: a consumer stops with items still to come
    for p in making:
        p.join()
    for p in taking:
        p.join()


if __name__ == "__main__":
    main()
