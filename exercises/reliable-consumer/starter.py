"""reliable-consumer: consume the lab's reliable queue without losing a task.  python3 starter.py HOST PORT

Protocol (see README.md): connect a BaseManager subclass with `reliable` registered to HOST:PORT with the
authkey in /run/socklab/queue.key; `manager.reliable()` is the queue: get_many(batch, timeout) gives
[(lease_id, item)] ([] when nothing came), ack(lease_ids) completes them. For each item sleep 5 ms (the
work), then print `done ITEM`. Stop once idle for 3 s.
"""
import sys
from multiprocessing.managers import BaseManager


class Broker(BaseManager):
    pass


Broker.register("reliable")


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    with open("/run/socklab/queue.key", "rb") as f:
        broker = Broker(address=(host, port), authkey=f.read().strip())
    broker.connect()
    queue = broker.reliable()
    # TODO: take tasks, do them, print `done ITEM`, acknowledge them (when?), stop after 3 s without work


if __name__ == "__main__":
    main()
