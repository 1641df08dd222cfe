"""The baseline the queue lesson's plumbing is measured against: a bare multiprocessing.managers queue.

    python3 -m nodes.queuebase broker [--port P] [--maxsize M] [--key FILE]
    python3 -m nodes.queuebase produce HOST --count N [--port P]      put 0..N-1, then one None
    python3 -m nodes.queuebase consume HOST [--port P]                get until None

No leases, no history, no logging, no guard: what the course's `Queue` costs across two hosts and nothing
more. `make bench` runs it beside nodes.queues.
"""
import argparse
import queue
import sys
import time
from multiprocessing.managers import BaseManager

from nodes.lib import keys, ports, program

PORT = ports.QUEUE_BASELINE


class Bare(BaseManager):
    pass


def broker(args):
    shared = queue.Queue(args.maxsize)
    Bare.register("q", callable=lambda: shared)
    server = Bare(address=("", args.port), authkey=keys.load(args.key)).get_server()
    print("listening", file=sys.stderr, flush=True)
    server.serve_forever()


def connect(args):
    Bare.register("q")
    manager = Bare(address=(args.host, args.port), authkey=keys.load(args.key))
    manager.connect()
    return manager.q()


def produce(args):
    q, started = connect(args), time.monotonic()
    for i in range(args.count):
        q.put(i)
    q.put(None)
    return {"produced": args.count, "seconds": round(time.monotonic() - started, 3)}


def consume(args):
    """Get until None; busy_s runs from the first item to the None: the queue's own pace, without the start
    and end of either program."""
    q = connect(args)
    print("consuming", file=sys.stderr, flush=True)
    started, count = time.monotonic(), 0
    item = q.get()
    first = time.monotonic()
    while item is not None:
        count += 1
        item = q.get()
    return {"consumed": count, "seconds": round(time.monotonic() - started, 3),
            "busy_s": round(time.monotonic() - first, 4)}


def run(argv):
    parser = argparse.ArgumentParser(prog="nodes.queuebase")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, handler in (("broker", broker), ("produce", produce), ("consume", consume)):
        p = commands.add_parser(name)
        if name != "broker":
            p.add_argument("host")
        if name == "produce":
            p.add_argument("--count", type=int, required=True)
        if name == "broker":
            p.add_argument("--maxsize", type=int, default=0, help="as Queue(maxsize): 0 is unbounded")
        p.add_argument("--port", type=int, default=PORT)
        p.add_argument("--key", default=keys.QUEUE)
        p.set_defaults(handler=handler)
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    program.main(run)
