"""The UDP echo server a learner's pinger is checked against: it drops, delays and records every datagram.

    python3 -m nodes.checkers.pinger --port P --count N [--seed S] [--loss 30] [--delay-ms 10,60]

Of the first N datagrams, round(N × loss %) are dropped (chosen by the seed), one other is echoed 1.3 s
late (past the pinger's 1 s timeout; the one after it is among the dropped), the rest after a delay drawn
from DELAY-MS. It says `listening` on stderr, and ends 2 s after the N-th datagram or after --idle-s without one. Result: {"datagrams": [{"n",
"bytes", "fate": "dropped"|"echoed"|"late", "delay_ms"}]}, in the order they came.
"""
import argparse
import random
import socket
import sys
import threading
import time

from nodes.lib import ports, program

LATE_S = 1.3


def fates(count, loss, rng):
    """Each datagram's fate: `loss` % dropped, one of the others late, the rest echoed. The one after the
    late one is always dropped, so the late echo comes while a pinger waits for a reply that will never
    come: a pinger that takes any reply for the current ping's is caught every time."""
    dropped = set(rng.sample(range(count), round(count * loss / 100)))
    kept = [n for n in range(count - 1) if n not in dropped]
    if not kept or not dropped:
        return ["dropped" if n in dropped else "echoed" for n in range(count)]
    late = rng.choice(kept)
    if late + 1 not in dropped:
        dropped.remove(rng.choice(sorted(dropped)))
        dropped.add(late + 1)
    return ["dropped" if n in dropped else "late" if n == late else "echoed" for n in range(count)]


def run(argv):
    parser = argparse.ArgumentParser(prog="nodes.checkers.pinger")
    parser.add_argument("--port", type=int, default=ports.PINGER_ECHO)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--loss", type=float, default=30)
    parser.add_argument("--delay-ms", default="10,60")
    parser.add_argument("--idle-s", type=float, default=20)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    low, high = (float(x) for x in args.delay_ms.split(","))
    plan, record = fates(args.count, args.loss, rng), []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("", args.port))
        print("listening", file=sys.stderr, flush=True)
        sock.settimeout(args.idle_s)
        while True:
            try:
                data, peer = sock.recvfrom(65536)
            except socket.timeout:
                break
            n = len(record)
            fate = plan[n] if n < len(plan) else "echoed"
            delay = LATE_S * 1000 if fate == "late" else round(rng.uniform(low, high), 1)
            record.append({"n": n, "bytes": len(data), "fate": fate, "delay_ms": delay})
            if fate != "dropped":
                threading.Timer(delay / 1000, sock.sendto, (data, peer)).start()
            if len(record) == args.count:
                sock.settimeout(2.0)  # a pinger that sends more is recorded; then the server is done
        time.sleep(LATE_S)  # let a late echo go out before the socket closes
    return {"datagrams": record}


if __name__ == "__main__":
    program.main(run)
