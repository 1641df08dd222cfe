"""The ticket-grabbing race: buyers read the count, pause, and write it back one less.

    python3 -m nodes.tickets local [--buyers N] [--tickets T] [--pause S] [--lock]
        buyers are processes on this node; the "db" is a JSON file; --lock: a multiprocessing.Lock
    python3 -m nodes.tickets serve [--port P] [--lease S]
        on the server: the ticket store, and a lock service for buyers on other hosts
    python3 -m nodes.tickets buy HOST [--port P] [--buyers N] [--pause S] [--lock] [--at EPOCH]
        buyers on this node against the store; --at starts them all at one wall-clock moment
    python3 -m nodes.tickets reset HOST --tickets T [--fenced]   /  status HOST
    python3 -m nodes.tickets stale-holder HOST                  /  unfenced-write HOST --tickets T

Across hosts a multiprocessing.Lock cannot help (it lives in one kernel). The store's lock is a lease:
`acquire` waits in line and returns a token; a holder that dies or stalls loses it when the lease runs out;
a write must carry the current token (a fencing token), so a buyer whose lease expired cannot write.
The store speaks frames (nodes/lib/framing.py), one thread per connection; a peer that sends garbage or stalls
loses its connection, never the store.
"""
import argparse
import json
import multiprocessing as mp
import os
import signal
import socket
import sys
import tempfile
import threading
import time

from nodes.lib import framing, ports, program, serving

PORT = ports.TICKETS


def buy_local(db, pause, lock, results, started):
    """One buyer: read, pause (a slow network, a slow user), then take a ticket if one was left. Reports
    (pid, bought, times): when it started waiting for the lock, read, decided and wrote (seconds since
    `started`, one monotonic clock for every process of the node)."""
    at = lambda: round(time.monotonic() - started, 4)
    times = {"wait": at()}
    if lock:
        lock.acquire()
    try:
        times["read"] = at()
        with open(db) as f:
            count = json.load(f)["count"]
        time.sleep(pause)
        times["decide"] = at()
        bought = count > 0
        if bought:
            aside = f"{db}.{os.getpid()}"  # written aside and renamed: no reader sees a half-written file
            with open(aside, "w") as f:
                json.dump({"count": count - 1}, f)
            os.replace(aside, db)
            times["write"] = at()
        results.put((os.getpid(), bought, times))
    finally:
        if lock:
            lock.release()


def local(args):
    db = os.path.join(tempfile.mkdtemp(prefix="tickets-"), "db.json")
    with open(db, "w") as f:
        json.dump({"count": args.tickets}, f)
    lock, results = mp.Lock() if args.lock else None, mp.Queue()
    started = time.monotonic()
    buyers = [mp.Process(target=buy_local, args=(db, args.pause, lock, results, started)) for _ in range(args.buyers)]
    for buyer in buyers:
        buyer.start()
    for buyer in buyers:
        buyer.join(60)
    failed = [b.exitcode for b in buyers if b.exitcode != 0]
    if failed:
        raise program.ProgramError(f"{len(failed)} buyer(s) failed, exit codes {failed}")
    outcomes = [results.get(timeout=5) for _ in buyers]
    with open(db) as f:
        left = json.load(f)["count"]
    sold = sum(1 for _, bought, _ in outcomes if bought)
    return {"buyers": args.buyers, "tickets": args.tickets, "lock": args.lock, "successful_buyers": sold,
            "oversold": max(0, sold - args.tickets), "count_left": left,
            "seconds": round(time.monotonic() - started, 3),
            "timeline": sorted(({"pid": pid, "bought": bought, **times} for pid, bought, times in outcomes),
                               key=lambda buyer: buyer["read"])}


def valid_timeout(value):
    """A lock request may wait a finite number of seconds, more than 0 and at most a minute."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= 60


class Store:
    """The ticket count and a lease lock with fencing tokens."""

    def __init__(self, lease):
        self.lease, self.count = lease, 0
        self.changed = threading.Condition()
        self.holder, self.expires, self.tokens = None, 0.0, 0
        self.fenced = False

    def _expire(self):
        if self.holder is not None and time.monotonic() > self.expires:
            self.holder = None

    def acquire(self, timeout):
        with self.changed:
            deadline = time.monotonic() + timeout
            while True:
                self._expire()
                if self.holder is None:
                    self.tokens += 1
                    self.holder, self.expires = self.tokens, time.monotonic() + self.lease
                    return self.holder
                left = min(deadline, self.expires) - time.monotonic()
                if time.monotonic() >= deadline:
                    return None
                self.changed.wait(max(0.001, left))

    def release(self, token):
        with self.changed:
            if self.holder == token:
                self.holder = None
                self.changed.notify_all()

    def write(self, count, token):
        """Set the count; refused ("fenced") if the token is not the current holder's — or, once the store is
        fenced, if there is no token at all: a write that skips the lock would bypass it."""
        with self.changed:
            self._expire()
            if (token is None and self.fenced) or (token is not None and token != self.holder):
                return False
            self.count = count
            return True

    def serve(self, conn):
        with conn:
            conn.settimeout(30)
            while (request := framing.read_frame(conn, max_body=0, max_header=4096, timeout=5)) is not None:
                kind, h = request.kind, request.header
                if kind == "read":
                    framing.send_frame(conn, kind="value", count=self.count)
                elif kind == "write" and isinstance(h.get("count"), int):
                    ok = self.write(h["count"], h.get("token"))
                    framing.send_frame(conn, kind="ok" if ok else "fenced")
                elif kind == "reset" and isinstance(h.get("count"), int):
                    with self.changed:
                        self.count, self.fenced, self.holder = h["count"], bool(h.get("fenced")), None
                    framing.send_frame(conn, kind="ok")
                elif kind == "acquire" and valid_timeout(h.get("timeout", 30)):
                    token = self.acquire(timeout=h.get("timeout", 30))
                    framing.send_frame(conn, kind="granted" if token else "timeout", token=token, lease=self.lease)
                elif kind == "release":
                    self.release(h.get("token"))
                    framing.send_frame(conn, kind="ok")
                else:
                    framing.send_frame(conn, kind="error", reason=f"unknown request {kind!r}")


def serve(args):
    store = Store(args.lease)
    listener = socket.create_server(("", args.port), backlog=64)
    print("listening", file=sys.stderr, flush=True)

    def session(conn, peer):
        with serving.contained("tickets", peer):
            store.serve(conn)
    while True:
        conn, peer = listener.accept()
        threading.Thread(target=session, args=(conn, serving.peer_name(peer)), daemon=True).start()


def call(sock, kind, **fields):
    framing.send_frame(sock, kind=kind, **fields)
    reply = framing.read_frame(sock, timeout=60)
    if reply is None:
        raise program.ProgramError("the ticket store closed the connection")
    return reply.header


def buy_remote(host, port, pause, lock, at, results):
    with socket.create_connection((host, port), timeout=60) as sock:
        time.sleep(max(0.0, at - time.time()))  # every buyer on every node starts at the same moment
        token = call(sock, "acquire")["token"] if lock else None
        count = call(sock, "read")["count"]
        time.sleep(pause)
        bought = count > 0 and call(sock, "write", count=count - 1, token=token)["kind"] == "ok"
        if lock:
            call(sock, "release", token=token)
    results.put((os.getpid(), bought))


def buy(args):
    results = mp.Queue()
    at = args.at or time.time()
    buyers = [mp.Process(target=buy_remote, args=(args.host, args.port, args.pause, args.lock, at, results))
              for _ in range(args.buyers)]
    for buyer in buyers:
        buyer.start()
    outcomes = [results.get(timeout=120) for _ in buyers]
    for buyer in buyers:
        buyer.join()
    return {"buyers": args.buyers, "lock": args.lock, "successful_buyers": sum(1 for _, b in outcomes if b)}


def reset(args):
    with socket.create_connection((args.host, args.port), timeout=10) as sock:
        return {"ok": call(sock, "reset", count=args.tickets, fenced=args.fenced)["kind"] == "ok"}


def stale_holder(args):
    """Take the lock, read, say `holding TOKEN PID`, then freeze (SIGSTOP to ourselves: a GC pause, swapping, a
    partition) until an observer sends SIGCONT, and write. Result: the token and what the store said."""
    with socket.create_connection((args.host, args.port), timeout=60) as sock:
        token = call(sock, "acquire", timeout=30)["token"]
        count = call(sock, "read")["count"]
        print(f"holding {token} {os.getpid()}", file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGSTOP)
        verdict = call(sock, "write", count=count - 1, token=token)["kind"]
        return {"token": token, "read": count, "write": verdict}


def unfenced_write(args):
    """A write that does not take the lock at all."""
    with socket.create_connection((args.host, args.port), timeout=10) as sock:
        return {"write": call(sock, "write", count=args.tickets)["kind"]}


def status(args):
    with socket.create_connection((args.host, args.port), timeout=10) as sock:
        return {"count": call(sock, "read")["count"]}


def run(argv):
    parser = argparse.ArgumentParser(prog="nodes.tickets")
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("local")
    p.add_argument("--buyers", type=int, default=10)
    p.add_argument("--tickets", type=int, default=1)
    p.add_argument("--pause", type=float, default=0.1)
    p.add_argument("--lock", action="store_true")
    p.set_defaults(handler=local)
    p = commands.add_parser("serve")
    p.add_argument("--port", type=int, default=PORT)
    p.add_argument("--lease", type=float, default=5.0)
    p.set_defaults(handler=serve)
    p = commands.add_parser("buy")
    p.add_argument("host")
    p.add_argument("--port", type=int, default=PORT)
    p.add_argument("--buyers", type=int, default=2)
    p.add_argument("--pause", type=float, default=0.1)
    p.add_argument("--lock", action="store_true")
    p.add_argument("--at", type=float, default=None, help="wall-clock start (seconds since the epoch)")
    p.set_defaults(handler=buy)
    for name, handler in (("reset", reset), ("status", status), ("stale-holder", stale_holder),
                          ("unfenced-write", unfenced_write)):
        p = commands.add_parser(name)
        p.add_argument("host")
        p.add_argument("--port", type=int, default=PORT)
        p.add_argument("--tickets", type=int, default=1)
        p.add_argument("--fenced", action="store_true", help="reset: from now on every write needs a token")
        p.set_defaults(handler=handler)
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    mp.set_start_method("fork")
    program.main(run)
