"""reliable-consumer, a typical bug: stopping at the first empty get: take tasks from the lab's reliable queue, do each, then ack it.

    python3 reference.py HOST PORT

The broker is a multiprocessing.managers server; its `reliable` queue hands out tasks on a lease: a task
not acknowledged before its lease runs out goes back in line for someone else. So acknowledge a task only
once its work is done: if this consumer dies first, the task is done again elsewhere (a duplicate), never
lost. Consume until idle for 3 s.
"""
import sys
import time
from multiprocessing.managers import BaseManager

IDLE_S = 3.0


class Broker(BaseManager):
    pass


Broker.register("reliable")


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    with open("/run/socklab/queue.key", "rb") as f:
        broker = Broker(address=(host, port), authkey=f.read().strip())
    broker.connect()
    queue = broker.reliable()
    idle_since = time.monotonic()
    while time.monotonic() - idle_since < IDLE_S:
        tasks = queue.get_many(10, 0.5)  # [] when nothing came within 0.5 s: not the end of the work
        if not tasks:
            break  # BUG: nothing within 0.5 s is not the end of the work
        for lease_id, item in tasks:
            time.sleep(0.005)  # the work
            print(f"done {item}", flush=True)
        queue.ack([lease_id for lease_id, _ in tasks])  # after the work, never before
        idle_since = time.monotonic()


if __name__ == "__main__":
    main()
