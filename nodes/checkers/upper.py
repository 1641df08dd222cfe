"""Drive a learner's concurrent line server (each line received comes back upper-cased).

    python3 -m nodes.checkers.upper HOST PORT [--lines 50] [--pause-ms 20] [--clients 8]

Cases: one client alone (timed before and after the others), then CLIENTS clients at once while one more
connection stays open and silent, then a client that sends half a line and vanishes while another is in
the middle of its lines. Each client reports how many replies were right and its first bad one.
"""
import argparse
import threading
import time

from nodes.lib.wire import Reader, connect
from nodes.lib import program

WORDS = ["socket", "粘包", "recv", "accept", "thread", "select", "queue", "lock"]


def client(address, index, lines, pause, deadline):
    """One client: LINES lines, each answered before the next; {"right", "lines", "failure", "seconds",
    "span"}: span is [connected, first answered, done] on the wall clock (first answered null if never)."""
    started, span = time.monotonic(), [round(time.time(), 3), None, None]
    try:
        sock = connect(*address)
    except OSError as exc:
        return {"right": 0, "lines": lines, "failure": {"line": 0, "verdict": "refused", "error": str(exc)},
                "seconds": 0.0, "span": span}
    reader, right, failure = Reader(sock), 0, None
    with sock:
        for n in range(lines):
            line = f"client {index} line {n} {WORDS[n % len(WORDS)]}\n".encode()
            try:
                sock.sendall(line)
            except OSError as exc:
                failure = {"line": n, "verdict": "closed", "error": str(exc)}
                break
            got, why = reader.read(len(line), max(0.1, deadline - time.monotonic()))
            if why:
                failure = {"line": n, "verdict": "no-reply" if why == "timeout" and not got else why,
                           "got": got.decode(errors="replace")[:60]}
                break
            if got != line.decode().upper().encode():
                failure = {"line": n, "verdict": "wrong", "sent": line.decode()[:60], "got": got.decode(errors="replace")[:60]}
                break
            right += 1
            span[1] = span[1] or round(time.time(), 3)
            time.sleep(pause)
    span[2] = round(time.time(), 3)
    return {"right": right, "lines": lines, "failure": failure, "seconds": round(time.monotonic() - started, 3),
            "span": span}


def together(address, count, lines, pause, deadline, extra=None):
    results = [None] * count
    def one(i):
        results[i] = client(address, i + 1, lines, pause, deadline)
    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(count)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    if extra:
        extra()
    for thread in threads:
        thread.join(max(0.1, deadline - time.monotonic()) + 2)
    return results, round(time.monotonic() - started, 3)


def run(argv):
    parser = argparse.ArgumentParser(prog="nodes.checkers.upper")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--lines", type=int, default=50)
    parser.add_argument("--pause-ms", type=float, default=20)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args(argv)
    address, pause = (args.host, args.port), args.pause_ms / 1000
    alone_budget = args.lines * (pause + 0.2) + 3
    marks = [time.time()]  # the wall clock at each case's start and at the end, for the orchestrator's timeline
    before = client(address, 0, args.lines, pause, time.monotonic() + alone_budget)
    alone = before["seconds"]
    idle = None
    try:
        idle = connect(*address)  # open and silent for the whole of the next case
    except OSError:
        pass
    limit = 1.5 * alone if not before["failure"] else alone_budget
    marks.append(time.time())
    crowd, crowd_s = together(address, args.clients, args.lines, pause, time.monotonic() + limit + 1.0)
    if idle:
        idle.close()
    marks.append(time.time())
    after = client(address, 0, args.lines, pause, time.monotonic() + alone_budget)

    def vanish():
        time.sleep(args.lines * pause / 3)
        try:
            with connect(*address) as sock:
                sock.sendall(b"half a li")
        except OSError:
            pass
    marks.append(time.time())
    survivor, _ = together(address, 1, args.lines, pause, time.monotonic() + alone_budget, extra=vanish)
    marks.append(time.time())
    at = [round(mark, 3) for mark in marks]  # alone: before the crowd, and again after it
    return {"timing": {"alone": [at[0:2], at[2:4]], "crowd": [at[1:3]], "half-line-vanish": [at[3:5]]},
            "alone": {"before": before, "after": after},
            "crowd": {"clients": crowd, "seconds": crowd_s, "idle_connection": idle is not None,
                      "alone_seconds": round((before["seconds"] + after["seconds"]) / 2, 3)},
            "vanish": survivor[0] or {"right": 0, "lines": args.lines, "failure": {"verdict": "no-reply"}}}


if __name__ == "__main__":
    program.main(run)
