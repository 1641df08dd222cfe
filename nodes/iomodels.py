"""One echo service served five ways (I/O models), the clients that hold many connections against it, and what
one select() call costs.

    python3 -m nodes.iomodels threads|asyncio [--port P]
    python3 -m nodes.iomodels busy|select|epoll [--port P] [--output buffer|drop|block] [--stall S]
    python3 -m nodes.iomodels client HOST [--port P] [--connections N] [--active A] [--every S] [--seconds S]
                                          [--slow K] [--slow-bytes B] [--grace S]
    python3 -m nodes.iomodels select-cost [--sizes 10,100,500,1000] [--rounds R]

The servers echo every byte they receive:
- threads: blocking sockets, a thread per connection (阻塞IO);
- busy: non-blocking sockets tried in turn by a loop that never waits, catching BlockingIOError (非阻塞IO);
- select: one loop around select.select() (IO多路复用), which takes no descriptor ≥ FD_SETSIZE (1024): when
  select() raises ValueError, the connection with the highest descriptor is closed until it no longer does
  (connections past the limit are refused, the ones below served); the first error is kept for the report;
- epoll: one loop around selectors.DefaultSelector, epoll on Linux (IO多路复用);
- asyncio: asyncio.start_server, a coroutine per connection on an event loop (异步IO, 事件循环).
In busy, select and epoll, --output says what becomes of an echo the peer cannot take yet: `buffer` keeps it in
the connection's output buffer, sent when the socket can take it, and stops reading from that peer while the
buffer holds more than HIGH_WATER bytes; `drop` sends what fits and drops the rest; `block` waits in a blocking
sendall(), and the whole loop with it, up to --stall seconds, then drops the peer. A reset, a half-closed peer
(answered, then closed) and a peer that never reads cost one log line or their own connection, never the
service. A server raises its RLIMIT_NOFILE soft limit to the hard limit, says `listening PID` on stderr once
bound, and on SIGTERM prints {"model", "pid", "nofile": {"soft", "hard", "raised_to"}, "stopped"}, and for busy,
select and epoll also {"output", "select_error": null | {"error", "descriptor"}, "refused", "dropped_bytes",
"output_peak_bytes"} (descriptor: the lowest one select() refused).

client: opens --connections (the first --active of them active, the next --slow slow readers, the rest idle),
says `ready PID` on stderr and waits for SIGUSR1. Then for --seconds each active connection sends a line every
--every seconds and times its echo (echoes still owed are awaited up to --grace seconds more), and each slow
reader sends up to --slow-bytes without reading. It then checks which connections the server closed, says
`measured` on stderr and waits for SIGUSR1 again; then the slow readers half-close and read back what comes.
Result: {"connections", "open", "closed_by_server", "sent_lines", "missing_lines", "echoes": [[sent_ms,
latency_ms]] (sent_ms after the first SIGUSR1), "slow": [{"sent", "received", "intact", "ended": "closed" (by
the server, after its echo) or the error that ended it (ECONNRESET, EPIPE, ...)}]}.

select-cost: the median time of one select() and of one epoll poll, both with timeout 0, over N descriptors none
of which is ready (unbound UDP sockets), for each N: {"sizes", "rounds", "select_us", "epoll_us"}.
"""
import argparse
import asyncio
import collections
import errno
import hashlib
import os
import resource
import select
import selectors
import signal
import socket
import statistics
import sys
import threading
import time

from nodes.lib import ports, program, serving
from nodes.procs import say_ready
from nodes.reqserver import Stopped, accepted, stop

NAME = "iomodels"
BACKLOG = 4096  # 1,100 connections arrive at once (the kernel caps it at net.core.somaxconn)
CHUNK = 65536
HIGH_WATER = 256 * 1024  # an output buffer holding more: stop reading from that peer until it takes some
GO_WAIT = 120  # seconds a client waits for the observer's SIGUSR1
SLOW_BLOCK = os.urandom(CHUNK)  # what a slow reader sends, again and again


def raise_nofile():
    """Raise this process's soft RLIMIT_NOFILE to its hard limit: {"soft" (as it was), "hard", "raised_to"}."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):  # an unlimited hard limit cannot be a soft one: keep what there is
        pass
    return {"soft": soft, "hard": hard, "raised_to": resource.getrlimit(resource.RLIMIT_NOFILE)[0]}


# the servers

def threads(listener, args, report):
    """阻塞IO: a thread per connection, blocked in recv() or sendall() for its own peer only."""
    while True:
        conn, peer = accepted(listener)
        try:
            threading.Thread(target=echo_blocking, args=(conn, peer), daemon=True).start()
        except RuntimeError as exc:  # no thread to be had: this peer goes, the others stay
            serving.log(NAME, peer, f"refused: {exc}")
            conn.close()


def echo_blocking(conn, peer):
    with conn, serving.contained(NAME, peer):
        while data := conn.recv(CHUNK):
            conn.sendall(data)


class Peer:
    """A connection of a non-blocking loop: its socket, descriptor, peer's name and output buffer."""

    def __init__(self, conn, name):
        self.conn, self.fd, self.name = conn, conn.fileno(), name
        self.out, self.eof, self.closed, self.events = bytearray(), False, False, 0

    @property
    def reading(self):
        """Whether to read from it: not after its end, nor while it owes the peer more than HIGH_WATER."""
        return not self.eof and len(self.out) <= HIGH_WATER


class Loop:
    """What busy, select and epoll share: accept what waits, read, echo by the output policy, flush, close.
    Each subclass's serve() decides how it learns which socket is ready."""

    def __init__(self, listener, args, report):
        listener.setblocking(False)
        self.listener, self.output, self.stall, self.report = listener, args.output, args.stall, report
        self.peers = {}  # descriptor -> Peer
        report.update(output=self.output, select_error=None, refused=0, dropped_bytes=0, output_peak_bytes=0)

    def watch(self, peer):
        """Keep what this peer waits for now (to read, to write) where the loop looks for it."""
        events = (selectors.EVENT_READ if peer.reading else 0) | (selectors.EVENT_WRITE if peer.out else 0)
        if events != peer.events:
            self.rewatch(peer, events)
            peer.events = events

    def rewatch(self, peer, events):
        """Busy keeps nothing: it tries every socket every time."""

    def accept_all(self):
        while True:
            try:
                conn, name = accepted(self.listener)
            except BlockingIOError:
                return
            conn.setblocking(False)
            peer = self.peers[conn.fileno()] = Peer(conn, name)
            self.watch(peer)

    def receive(self, peer):
        """Read what came and echo it; at the end of the peer's input, close once all is sent back."""
        try:
            data = peer.conn.recv(CHUNK)
            if data:
                self.echo(peer, data)
        except BlockingIOError:
            return
        except OSError as exc:  # a reset; a blocking send that timed out (--output block)
            self.close(peer, f"connection ended: {type(exc).__name__}: {exc}")
            return
        peer.eof = peer.eof or not data
        self.settle(peer)

    def echo(self, peer, data):
        if self.output == "buffer":
            peer.out += data
            self.report["output_peak_bytes"] = max(self.report["output_peak_bytes"], len(peer.out))
            self.flush(peer)
        elif self.output == "drop":  # the mistake that loses data: what send() did not take is gone
            try:
                sent = peer.conn.send(data)
            except BlockingIOError:
                sent = 0
            self.report["dropped_bytes"] += len(data) - sent
        else:  # the mistake that stalls everyone: this loop waits for this one peer
            peer.conn.settimeout(self.stall)
            peer.conn.sendall(data)
            peer.conn.setblocking(False)

    def flush(self, peer):
        """Send what the output buffer holds, as much as the socket takes now."""
        try:
            sent = peer.conn.send(peer.out)
        except BlockingIOError:
            return
        del peer.out[:sent]

    def write(self, peer):
        try:
            self.flush(peer)
        except OSError as exc:
            self.close(peer, f"connection ended: {type(exc).__name__}: {exc}")
            return
        self.settle(peer)

    def settle(self, peer):
        """Close a peer that has ended and been answered; else watch it for what it waits for now."""
        if peer.eof and not peer.out:
            self.close(peer)
        else:
            self.watch(peer)

    def close(self, peer, why=None):
        if why:
            serving.log(NAME, peer.name, why)
        if peer.events:
            self.rewatch(peer, 0)
        del self.peers[peer.fd]
        peer.conn.close()
        peer.closed = True


class Busy(Loop):
    """非阻塞IO without waiting: every pass tries accept() and every connection's recv(), nearly all of which
    raise BlockingIOError — a core spent asking."""

    def serve(self):
        while True:
            self.accept_all()
            for peer in list(self.peers.values()):
                if peer.reading:
                    self.receive(peer)
                if peer.out and not peer.closed:
                    self.write(peer)


class Select(Loop):
    """IO多路复用 with select(): every call hands the kernel the lists of descriptors to watch, in bitmaps of
    FD_SETSIZE bits; the kernel checks, and waits on, every one of them each time."""

    def __init__(self, listener, args, report):
        super().__init__(listener, args, report)
        self.readers, self.writers = [listener.fileno()], []

    def rewatch(self, peer, events):
        for kind, watched in ((selectors.EVENT_READ, self.readers), (selectors.EVENT_WRITE, self.writers)):
            if events & kind and not peer.events & kind:
                watched.append(peer.fd)
            elif peer.events & kind and not events & kind:
                watched.remove(peer.fd)

    def serve(self):
        while True:
            try:
                readable, writable, _ = select.select(self.readers, self.writers, [], 1.0)
            except ValueError as exc:  # filedescriptor out of range in select()
                self.refuse(exc)
                continue
            if self.readers[0] in readable:
                self.accept_all()
            for fd in readable:
                if peer := self.peers.get(fd):
                    self.receive(peer)
            for fd in writable:
                if peer := self.peers.get(fd):
                    self.write(peer)

    def refuse(self, exc):
        """Close the connection with the highest descriptor: select() cannot take it. The first error is kept
        with the lowest descriptor refused, and logged once."""
        peer = max(self.peers.values(), key=lambda p: p.fd, default=None)
        if peer is None:
            raise exc
        error = self.report["select_error"]
        if error is None:
            serving.log(NAME, peer.name, f"select() failed: ValueError: {exc}; the connections whose descriptors "
                                         "it cannot take are closed")
            error = self.report["select_error"] = {"error": str(exc), "descriptor": peer.fd}
        error["descriptor"] = min(error["descriptor"], peer.fd)
        self.report["refused"] += 1
        self.close(peer)


class Epoll(Loop):
    """IO多路复用 with epoll: each socket registered once (epoll_ctl), each wait returns the ready ones only."""

    def __init__(self, listener, args, report):
        super().__init__(listener, args, report)
        self.selector = selectors.DefaultSelector()
        self.selector.register(listener, selectors.EVENT_READ)

    def rewatch(self, peer, events):
        if not events:
            self.selector.unregister(peer.conn)
        else:
            (self.selector.modify if peer.events else self.selector.register)(peer.conn, events, peer)

    def serve(self):
        while True:
            for key, events in self.selector.select(1.0):
                if key.data is None:
                    self.accept_all()
                    continue
                if events & selectors.EVENT_READ:
                    self.receive(key.data)
                if events & selectors.EVENT_WRITE and not key.data.closed:
                    self.write(key.data)


def loop(kind):
    def serve(listener, args, report):
        kind(listener, args, report).serve()
    return serve


def asyncio_model(listener, args, report):
    asyncio.run(AsyncEcho().serve(listener))


class AsyncEcho:
    """异步IO: a coroutine per connection on one event loop (事件循环). On SIGTERM every connection is closed and
    each coroutine ends by itself, none left for asyncio.run() to cancel."""

    def __init__(self):
        self.open = {}  # a connection's task -> its writer

    async def serve(self, listener):
        stopping = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
        server = await asyncio.start_server(self.echo, sock=listener, backlog=BACKLOG)
        await stopping.wait()
        server.close()
        for writer in self.open.values():
            writer.close()  # its read() returns the end, its drain() raises
        if self.open:
            await asyncio.wait(list(self.open), timeout=5)

    async def echo(self, reader, writer):
        """Each await hands the event loop to the other connections until this one's data comes."""
        task = asyncio.current_task()
        self.open[task] = writer
        try:
            with serving.contained(NAME, serving.peer_name(writer.get_extra_info("peername"))):
                try:
                    while data := await reader.read(CHUNK):
                        writer.write(data)
                        await writer.drain()  # the transport's buffer past its high-water mark: wait for the peer
                finally:
                    writer.close()
                    await writer.wait_closed()  # takes the connection's own error, if any, for the log line
        finally:
            del self.open[task]


LOOPS = {"busy": Busy, "select": Select, "epoll": Epoll}
MODELS = {"threads": threads, **{name: loop(kind) for name, kind in LOOPS.items()}, "asyncio": asyncio_model}


def serve(args):
    report = {"model": args.command, "pid": os.getpid(), "nofile": raise_nofile()}
    listener = socket.create_server(("", args.port), backlog=BACKLOG)
    signal.signal(signal.SIGTERM, stop)
    print(f"listening {os.getpid()}", file=sys.stderr, flush=True)
    try:
        MODELS[args.command](listener, args, report)
    except Stopped:
        pass
    return {**report, "stopped": "SIGTERM"}


# the clients

class Active:
    """An active connection: a line every `every` seconds, each echo timed from its send."""

    def __init__(self, conn, due):
        self.conn, self.due, self.seq, self.closed = conn, due, 0, False
        self.owed, self.got = collections.deque(), bytearray()  # (line, when sent) not echoed yet; bytes read

    def send_due(self, now, every):
        while self.due <= now and not self.closed:
            line = f"{self.seq:015d}\n".encode()
            try:
                self.conn.send(line)  # 16 bytes: taken whole, or not at all
            except OSError:  # the server closed it, or has not read for a long while
                self.closed = True
                return
            self.owed.append((line, time.monotonic()))
            self.seq, self.due = self.seq + 1, self.due + every

    def read(self, echoes, start):
        """Take what came back; each whole line echoed as sent is timed. False once the server closed it."""
        try:
            data = self.conn.recv(CHUNK)
        except OSError:
            data = b""
        now = time.monotonic()
        self.got += data
        while (end := self.got.find(b"\n")) >= 0 and self.owed:
            line, sent = self.owed.popleft()
            if self.got[:end + 1] == line:
                echoes.append([round((sent - start) * 1000, 1), round((now - sent) * 1000, 2)])
            del self.got[:end + 1]
        self.closed = self.closed or not data
        return not self.closed

    @property
    def waiting(self):
        """Whether an echo is still owed on a connection still open."""
        return bool(self.owed) and not self.closed


class Slow:
    """A slow reader: sends up to `budget` bytes and reads nothing until it is drained."""

    def __init__(self, conn, budget):
        self.conn, self.left, self.sent, self.digest, self.ended = conn, budget, 0, hashlib.sha256(), None

    def write(self):
        """Send what the socket takes now; False when done (budget spent, or the server dropped it)."""
        chunk = SLOW_BLOCK[:self.left]
        try:
            sent = self.conn.send(chunk)
        except BlockingIOError:
            return True
        except OSError as exc:
            self.ended = ending(exc)
            return False
        self.digest.update(chunk[:sent])
        self.sent, self.left = self.sent + sent, self.left - sent
        return self.left > 0

    def drain(self, wait):
        """Half-close, then read what comes back until the server closes (or nothing comes for `wait` s)."""
        received, digest = 0, hashlib.sha256()
        self.conn.settimeout(wait)
        try:
            self.conn.shutdown(socket.SHUT_WR)
            while data := self.conn.recv(CHUNK):
                received += len(data)
                digest.update(data)
            self.ended = self.ended or "closed"
        except OSError as exc:
            self.ended = self.ended or ending(exc)
        intact = received == self.sent and digest.digest() == self.digest.digest()
        return {"sent": self.sent, "received": received, "intact": intact, "ended": self.ended}


def ending(exc):
    """What ended a connection, said short: ECONNRESET, EPIPE, ENOTCONN, TimeoutError…"""
    return errno.errorcode.get(exc.errno) or type(exc).__name__


def go_within(seconds):
    """Wait for the observer's SIGUSR1 (blocked since the start), at most seconds."""
    if signal.sigtimedwait({signal.SIGUSR1}, seconds) is None:
        raise program.ProgramError(f"no SIGUSR1 within {seconds} s")


def still_open(conn):
    """Whether the server still holds the connection: nothing to read yet, or data; not an end or a reset."""
    try:
        return conn.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def exchange(active, slow, args):
    """The measuring window: active lines sent and timed, slow readers sending; [[sent_ms, latency_ms]]."""
    selector, echoes, start = selectors.DefaultSelector(), [], time.monotonic()
    end = start + args.seconds
    for a in active:
        selector.register(a.conn, selectors.EVENT_READ, a)
    for s in slow:
        selector.register(s.conn, selectors.EVENT_WRITE, s)
    while True:
        now = time.monotonic()
        if now >= end + args.grace or now >= end and not any(a.waiting for a in active):
            return echoes
        if now < end:
            for a in active:
                a.send_due(now, args.every)
            wake = min([a.due for a in active if not a.closed] + [end])
        else:
            for key in [k for k in selector.get_map().values() if isinstance(k.data, Slow)]:
                selector.unregister(key.fileobj)
            wake = end + args.grace
        for key, _ in selector.select(max(0.0, wake - time.monotonic())):
            if not (key.data.read(echoes, start) if isinstance(key.data, Active) else key.data.write()):
                selector.unregister(key.fileobj)


def client(args):
    raise_nofile()
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})  # kept for sigtimedwait(), not the default action
    address = socket.getaddrinfo(args.host, args.port, type=socket.SOCK_STREAM)[0][4][:2]  # one look-up for all
    conns = [socket.create_connection(address, timeout=10) for _ in range(args.connections)]
    for conn in conns:
        conn.setblocking(False)
    say_ready(os.getpid())
    go_within(GO_WAIT)
    start, count = time.monotonic(), max(1, args.active)
    active = [Active(conn, start + i * args.every / count) for i, conn in enumerate(conns[:args.active])]
    slow = [Slow(conn, args.slow_bytes) for conn in conns[args.active:args.active + args.slow]]
    echoes = exchange(active, slow, args)
    held = conns[:args.active] + conns[args.active + args.slow:]  # active and idle
    still = sum(still_open(conn) for conn in held)
    print("measured", file=sys.stderr, flush=True)
    go_within(GO_WAIT)
    drained = [s.drain(args.grace) for s in slow]
    for conn in conns:
        conn.close()
    sent = sum(a.seq for a in active)
    return {"connections": len(conns), "open": still, "closed_by_server": len(held) - still, "sent_lines": sent,
            "missing_lines": sent - len(echoes), "echoes": echoes, "slow": drained}


# the cost of one call

def select_cost(args):
    """Median µs of one select() and one epoll.poll(), timeout 0, over N ready-less descriptors, each N."""
    sizes = [int(n) for n in args.sizes.split(",")]
    costs = {"select_us": [], "epoll_us": []}
    for n in sizes:
        socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(n)]
        fds = [s.fileno() for s in socks]
        with select.epoll() as poller:
            for fd in fds:
                poller.register(fd, select.EPOLLIN)
            for name, median in zip(costs, timed(fds, poller, args.rounds)):
                costs[name].append(median)
        for s in socks:
            s.close()
    return {"sizes": sizes, "rounds": args.rounds, **costs}


def timed(fds, poller, rounds):
    """(median µs of select(), of poll()) over rounds, taken in turns; an fd that is ready is a mistake."""
    samples = ([], [])
    for _ in range(rounds):
        started = time.perf_counter_ns()
        ready = select.select(fds, [], [], 0)[0]
        samples[0].append(time.perf_counter_ns() - started)
        started = time.perf_counter_ns()
        ready += poller.poll(0)
        samples[1].append(time.perf_counter_ns() - started)
        if ready:
            raise program.ProgramError(f"{len(ready)} descriptors were ready")
    return [round(statistics.median(s) / 1000, 2) for s in samples]


def run(argv):
    parser = argparse.ArgumentParser(prog="nodes.iomodels")
    sub = parser.add_subparsers(dest="command", required=True)
    served = argparse.ArgumentParser(add_help=False)
    served.add_argument("--port", type=int, default=ports.IOMODELS)
    looped = argparse.ArgumentParser(add_help=False)
    looped.add_argument("--output", choices=("buffer", "drop", "block"), default="buffer")
    looped.add_argument("--stall", type=float, default=1.0)
    for model in MODELS:
        sub.add_parser(model, parents=[served, looped] if model in LOOPS else [served])
    many = sub.add_parser("client")
    many.add_argument("host")
    many.add_argument("--port", type=int, default=ports.IOMODELS)
    many.add_argument("--connections", type=int, default=550)
    many.add_argument("--active", type=int, default=10)
    many.add_argument("--every", type=float, default=0.05)
    many.add_argument("--seconds", type=float, default=3.0)
    many.add_argument("--slow", type=int, default=0)
    many.add_argument("--slow-bytes", type=int, default=16 << 20)
    many.add_argument("--grace", type=float, default=2.0)
    cost = sub.add_parser("select-cost")
    cost.add_argument("--sizes", default="10,100,500,1000")
    cost.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args(argv)
    if args.command == "client" and args.active + args.slow > args.connections:
        raise program.ProgramError("--active and --slow connections are among --connections")
    return {"client": client, "select-cost": select_cost}.get(args.command, serve)(args)


if __name__ == "__main__":
    program.main(run)
