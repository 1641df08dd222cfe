"""tickets: BUYERS processes race for the tickets in DB.  python3 starter.py DB BUYERS

Protocol (see README.md): DB is a JSON file {"count": 1}. Start BUYERS processes; each searches (reads the
count and prints it), then buys: reads the count, waits 0.1 s, and if a ticket is left, writes the count
back one less and prints `buyer K: bought`; else prints `buyer K: sold out`. Exactly one may buy.
"""
import json
import sys
import time
from multiprocessing import Process


def buyer(db, k):
    with open(db) as f:
        print(f"buyer {k}: search: {json.load(f)['count']} left", flush=True)
    # TODO: the buy, so that two buyers can never both take the last ticket


def main():
    db, buyers = sys.argv[1], int(sys.argv[2])
    processes = [Process(target=buyer, args=(db, k)) for k in range(1, buyers + 1)]
    for p in processes:
        p.start()
    for p in processes:
        p.join()


if __name__ == "__main__":
    main()
