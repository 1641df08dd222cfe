"""One small request server in four concurrency models.

    python3 -m nodes.reqserver MODEL [--port P] [--idle S]      MODEL: iterative, threads, fork, selectors

A request is one line: `io MS` (wait MS milliseconds for a slow backend, without using the CPU) or
`cpu N` (count to N: pure Python work, which holds the GIL). The reply is one line:
`ok PID THREAD_ID MILLISECONDS`. Anything else gets `error ...` and the connection is closed; a client
that stalls is dropped after --idle seconds; a vanished client costs nothing but its own request.

- iterative: one connection at a time, start to finish: clients wait for each other.
- threads: a thread per connection; waiting on I/O overlaps, but CPU work is serialised by the GIL.
- fork: a process per connection (os.fork); CPU work runs on every core; children are reaped (no zombies).
- selectors: one thread multiplexes every connection; an `io` wait is a timer in the loop, not a sleep.
"""
import argparse
import heapq
import os
import selectors
import signal
import socket
import sys
import threading
import time

from nodes.lib import ports, program, serving

MAX_LINE = 100


def parse(line):
    """(kind, amount) from a request line, or raise ValueError."""
    kind, _, amount = line.strip().partition(" ")
    if kind not in ("io", "cpu") or not amount.isdigit() or int(amount) > 10_000_000:
        raise ValueError(f"bad request {line[:40]!r}: expected 'io MS' or 'cpu N'")
    return kind, int(amount)


def work(kind, amount):
    if kind == "io":
        time.sleep(amount / 1000)  # stands for waiting on a backend: the CPU is free meanwhile
    else:
        total = 0
        for i in range(amount):
            total += i * i


def reply(started):
    return f"ok {os.getpid()} {threading.get_ident()} {round((time.monotonic() - started) * 1000, 1)}\n".encode()


def read_line(conn):
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(MAX_LINE)
        if not chunk:
            raise ConnectionError("client left")
        data += chunk
        if len(data) > MAX_LINE:
            raise ValueError("request line too long")
    return data.decode(errors="replace")


def handle(conn, peer, idle, server="reqserver"):
    """Serve one connection's single request, blocking: used by iterative, threads and fork (and by the pool
    of nodes.pools, which logs as `server`). Whatever the peer does (garbage, a stall, a reset) ends this
    connection only, with one log line."""
    with conn, serving.contained(server, peer):
        conn.settimeout(idle)
        started = time.monotonic()
        try:
            kind, amount = parse(read_line(conn))
        except ValueError as exc:
            conn.sendall(f"error {exc}\n".encode())
            raise
        work(kind, amount)
        conn.sendall(reply(started))


def accepted(listener):
    """The next connection and its peer's name."""
    conn, address = listener.accept()
    return conn, serving.peer_name(address)


def iterative(listener, idle):
    while True:
        handle(*accepted(listener), idle)


def threads(listener, idle):
    while True:
        threading.Thread(target=handle, args=(*accepted(listener), idle), daemon=True).start()


def fork(listener, idle):
    signal.signal(signal.SIGCHLD, lambda signum, frame: reap())
    while True:
        conn, peer = accepted(listener)
        if os.fork() == 0:
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                listener.close()
                handle(conn, peer, idle)
            finally:
                os._exit(0)  # never back into the parent's loop, whatever happened
        conn.close()


def reap():
    """Collect every finished child, so that none stays a zombie."""
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass


class Multiplexed:
    """One thread, one selector: every connection's request read without blocking, I/O waits kept as timers
    on the loop, CPU work done in the loop (multiplexing is not parallelism)."""

    def __init__(self, listener, idle):
        self.listener, self.idle = listener, idle
        self.selector = selectors.DefaultSelector()
        listener.setblocking(False)
        self.selector.register(listener, selectors.EVENT_READ)
        self.buffers, self.seen, self.peers = {}, {}, {}  # conn -> bytes read; its last activity; its peer's name
        self.timers = []  # a heap of (due, id, conn, started): the answers the loop owes

    def serve(self):
        while True:
            wait = min(1.0, max(0.0, self.timers[0][0] - time.monotonic())) if self.timers else 1.0
            for key, _ in self.selector.select(wait):
                if key.fileobj is self.listener:
                    self.accept()
                else:
                    self.read(key.fileobj)
            self.answer_due()
            self.drop_idle()

    def accept(self):
        conn, peer = accepted(self.listener)
        self.peers[conn] = peer
        conn.setblocking(False)
        self.selector.register(conn, selectors.EVENT_READ)
        self.buffers[conn], self.seen[conn] = b"", time.monotonic()

    def read(self, conn):
        """Take what came; a whole request line (or too long a one) is parsed and its answer scheduled."""
        try:
            data = conn.recv(MAX_LINE)
        except OSError:
            data = b""
        if not data:
            self.close(conn)
            return
        self.buffers[conn] += data
        self.seen[conn] = time.monotonic()
        if b"\n" not in self.buffers[conn] and len(self.buffers[conn]) <= MAX_LINE:
            return
        started = time.monotonic()
        try:
            kind, amount = parse(self.buffers[conn].decode(errors="replace"))
        except ValueError as exc:
            with serving.contained("reqserver", self.peers[conn], "reply failed"):
                conn.send(f"error {exc}\n".encode())  # a short line; a peer that does not read loses it
            self.close(conn, f"connection ended: ValueError: {exc}")
            return
        self.selector.unregister(conn)
        self.buffers.pop(conn)
        self.seen.pop(conn)
        if kind == "io":  # no sleep: the loop answers when the timer falls due
            heapq.heappush(self.timers, (started + amount / 1000, id(conn), conn, started))
        else:
            work(kind, amount)  # CPU work blocks the loop: multiplexing is not parallelism
            heapq.heappush(self.timers, (0, id(conn), conn, started))

    def answer_due(self):
        while self.timers and self.timers[0][0] <= time.monotonic():
            _, _, conn, started = heapq.heappop(self.timers)
            with serving.contained("reqserver", self.peers.get(conn), "reply failed"):
                conn.send(reply(started))
            self.close(conn)

    def drop_idle(self):
        for conn, last in list(self.seen.items()):
            if time.monotonic() - last > self.idle:
                self.close(conn, f"connection ended: silent for {self.idle} s")

    def close(self, conn, why=None):
        if why:
            serving.log("reqserver", self.peers.get(conn), why)
        if conn in self.buffers:
            self.selector.unregister(conn)
        self.buffers.pop(conn, None)
        self.seen.pop(conn, None)
        self.peers.pop(conn, None)
        conn.close()


def multiplexed(listener, idle):
    Multiplexed(listener, idle).serve()


class Stopped(Exception):
    pass


def stop(signum, frame):
    raise Stopped


MODELS = {"iterative": iterative, "threads": threads, "fork": fork, "selectors": multiplexed}


def run(argv):
    parser = argparse.ArgumentParser(prog="nodes.reqserver")
    parser.add_argument("model", choices=MODELS)
    parser.add_argument("--port", type=int, default=ports.REQSERVER)
    parser.add_argument("--idle", type=float, default=5.0)
    args = parser.parse_args(argv)
    listener = socket.create_server(("", args.port), backlog=128)
    print("listening", file=sys.stderr, flush=True)
    signal.signal(signal.SIGTERM, stop)
    try:
        MODELS[args.model](listener, args.idle)
    except Stopped:
        return {"model": args.model, "stopped": "SIGTERM"}


if __name__ == "__main__":
    program.main(run)
