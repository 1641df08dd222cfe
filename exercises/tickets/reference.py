"""tickets, a reference solution: BUYERS processes race for the tickets in DB; a Lock makes each buy whole.

    python3 reference.py DB BUYERS

DB is a JSON file {"count": N}. Each buyer searches (reads and prints the count), then buys: reads the
count, waits 0.1 s (the network), and if a ticket is left writes the count back one less. Searching needs
no lock; the buy's read, decision and write must happen as one, so they are done holding the lock.
"""
import json
import os
import sys
import time
from multiprocessing import Lock, Process


def read(db):
    with open(db) as f:
        return json.load(f)["count"]


def write(db, count):
    aside = f"{db}.{os.getpid()}"  # written aside and renamed: a search never reads half a file
    with open(aside, "w") as f:
        json.dump({"count": count}, f)
    os.replace(aside, db)


def buyer(db, k, lock):
    print(f"buyer {k}: search: {read(db)} left", flush=True)
    with lock:
        count = read(db)
        time.sleep(0.1)
        if count > 0:
            write(db, count - 1)
            print(f"buyer {k}: bought", flush=True)
        else:
            print(f"buyer {k}: sold out", flush=True)


def main():
    db, buyers = sys.argv[1], int(sys.argv[2])
    lock = Lock()
    processes = [Process(target=buyer, args=(db, k, lock)) for k in range(1, buyers + 1)]
    for p in processes:
        p.start()
    for p in processes:
        p.join()


if __name__ == "__main__":
    main()
