"""Drive a learner's thread-pool line server (each line received comes back upper-cased).

    python3 -m nodes.checkers.pooled HOST PORT [--lines 20] [--pause-ms 50] [--clients 12] [--ratio 4]
                                     [--vanishers 6] [--workers 4]

Cases: one client alone (timed before and after the others); CLIENTS clients at once, given RATIO times
what one took alone; then VANISHERS clients that each send half a line and vanish, every other one with a
reset (as the connection of a peer whose machine died ends), the rest with a close, followed by WORKERS
clients, which must still be served all at once: a worker that died with its client serves nobody after.
Every client reports when it was connected, first answered and done, on the wall clock: how many were
served at once shows.
"""
import argparse
import socket
import struct
import threading
import time

from nodes.checkers.upper import client, together
from nodes.lib import program
from nodes.lib.wire import connect

HALF_LINE = b"half a li"


def vanish(address, held, reset):
    """Send half a line, let the server start on it, then leave: with a reset (SO_LINGER 0: an RST, no FIN),
    or with a close."""
    try:
        sock = connect(*address)
        sock.sendall(HALF_LINE)
        time.sleep(held)
        if reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
        return True
    except OSError:
        return False


def vanishing(address, count, held=0.3):
    """count clients vanish at once, every other one with a reset; how many got as far as leaving."""
    done = []
    threads = [threading.Thread(target=lambda reset: done.append(vanish(address, held, reset)), args=(n % 2 == 0,))
               for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done)


def run(argv):
    parser = argparse.ArgumentParser(prog="nodes.checkers.pooled")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--lines", type=int, default=20)
    parser.add_argument("--pause-ms", type=float, default=50)
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--ratio", type=float, default=4)
    parser.add_argument("--vanishers", type=int, default=6)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args(argv)
    address, pause = (args.host, args.port), args.pause_ms / 1000
    alone_budget = args.lines * (pause + 0.2) + 3
    marks = [time.time()]  # each case's start and the end, on the wall clock the sandbox's samples use
    before = client(address, 0, args.lines, pause, time.monotonic() + alone_budget)
    limit = args.ratio * before["seconds"] if not before["failure"] else alone_budget
    marks.append(time.time())
    crowd, crowd_s = together(address, args.clients, args.lines, pause, time.monotonic() + limit + 1.0)
    marks.append(time.time())
    after = client(address, 0, args.lines, pause, time.monotonic() + alone_budget)
    marks.append(time.time())
    vanished = vanishing(address, args.vanishers)
    later, later_s = together(address, args.workers, args.lines, pause, time.monotonic() + limit + 1.0)
    marks.append(time.time())
    at = [round(mark, 3) for mark in marks]
    return {"timing": {"alone": [at[0:2], at[2:4]], "crowd": [at[1:3]], "vanished-workers": [at[3:5]]},
            "alone": {"before": before, "after": after},
            "crowd": {"clients": crowd, "seconds": crowd_s,
                      "alone_seconds": round((before["seconds"] + after["seconds"]) / 2, 3)},
            "vanish": {"vanished": vanished, "half_line": HALF_LINE.decode(), "later": later, "seconds": later_s}}


if __name__ == "__main__":
    program.main(run)
