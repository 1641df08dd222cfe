"""Drive a learner's one-thread line server (each line received comes back upper-cased) with a crowd.

    python3 -m nodes.checkers.event_loop hold HOST PORT [--count 550] [--seconds 120]
    python3 -m nodes.checkers.event_loop drive HOST PORT [--idle 550] [--active 20] [--pause-ms 50]
        [--active-s 3] [--slow-s 4] [--after-s 1.5] [--quiet-s 3] [--slow-mib 16]

hold: opens COUNT idle connections (a batch at a time), says `ready OPENED` on stderr, and holds them until
SIGTERM (or --seconds); then it finds which ones the server dropped, sends a probe line on each of the
others and prints one JSON line.
drive: its own IDLE connections likewise; then ACTIVE clients, each sending a line every PAUSE ms and timing
its reply (`active`); then a slow reader joins, which sends lines as fast as the server takes them and never
reads a reply (`slow`); it resets its connection, the active clients go on (`after`) and stop; nothing is
sent for a while (`quiet`: the server's CPU is measured there from the sandbox's record); then a probe line
on every idle connection (`probe`). "timing": {case: [[start, end]]} on the wall clock the sandbox's
samples use. Every wait has a deadline: a server that stalls or dies is a finding, not a hang.
"""
import argparse
import errno
import math
import resource
import selectors
import signal
import socket
import struct
import sys
import threading
import time
from collections import Counter

from nodes.checkers.upper import WORDS
from nodes.lib import program
from nodes.lib.wire import Reader, connect

BATCH, WAVE_S, SETTLE_S, PROBE_S = 50, 0.02, 0.5, 3.0
SLOW_LINE = b"the slow reader sends this line and never reads the reply " * 2 + b"\n"  # 117 bytes


def make_room(count):
    """Raise this process's open-file limit to hold count sockets, as far as its hard limit allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = count + 64
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want if hard == resource.RLIM_INFINITY else min(want, hard), hard))


def start_connect(address, failed):
    """A non-blocking socket whose connect to address has begun, or None (counted in failed) if it failed at
    once."""
    sock = socket.socket()
    sock.setblocking(False)
    error = sock.connect_ex(address)
    if error in (0, errno.EINPROGRESS):
        return sock
    failed[errno.errorcode.get(error, str(error))] += 1
    sock.close()
    return None


def finish_wave(wave, deadline, failed):
    """The sockets of a wave whose connect succeeded by the deadline; the others counted in failed."""
    done = []
    with selectors.DefaultSelector() as selector:
        for sock in wave:
            selector.register(sock, selectors.EVENT_WRITE)
        while selector.get_map() and (left := deadline - time.monotonic()) > 0:
            for key, __ in selector.select(left):
                sock = key.fileobj
                selector.unregister(sock)
                error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if error:
                    failed[errno.errorcode.get(error, str(error))] += 1
                    sock.close()
                else:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    done.append(sock)
        for key in list(selector.get_map().values()):
            failed["ETIMEDOUT"] += 1
            key.fileobj.close()
    return done


def open_idle(address, count, seconds):
    """count connections, BATCH at a time, within seconds: (connected sockets, {errno name: how many})."""
    socks, failed, deadline = [], Counter(), time.monotonic() + seconds
    while (todo := count - len(socks) - sum(failed.values())) > 0:
        if time.monotonic() >= deadline:
            failed["ETIMEDOUT"] += todo
            break
        wave = []
        try:
            for __ in range(min(BATCH, todo)):
                wave.append(start_connect(address, failed))
        except OSError as exc:  # out of descriptors here: the checker's own limit, said as such
            failed[f"checker: {exc.strerror}"] += todo - len(wave)
        socks += finish_wave([sock for sock in wave if sock], deadline, failed)
        time.sleep(WAVE_S)  # the server's accept() takes its time: a full accept queue drops a SYN for a second
    return socks, dict(failed)


def state(sock):
    """open, closed (the server sent FIN), reset, or spoke (it sent something unasked)."""
    try:
        data = sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except BlockingIOError:
        return "open"
    except OSError:
        return "reset"
    return "spoke" if data else "closed"


def probe(socks, seconds):
    """A line sent on each socket at once, each reply read within seconds: {verdict: how many}, an example of
    the first one not right."""
    counts, example, sent, want, got = Counter(), None, {}, {}, {}
    with selectors.DefaultSelector() as selector:
        for n, sock in enumerate(socks):
            sent[sock] = f"probe {n} {WORDS[n % len(WORDS)]}\n"
            want[sock], got[sock] = sent[sock].upper().encode(), bytearray()
            try:
                sock.send(sent[sock].encode())  # a short line on an idle connection: the buffer takes it whole
                selector.register(sock, selectors.EVENT_READ)
            except OSError:
                counts["closed"] += 1
        deadline = time.monotonic() + seconds
        while selector.get_map() and (left := deadline - time.monotonic()) > 0:
            for key, __ in selector.select(left):
                sock = key.fileobj
                try:
                    chunk = sock.recv(4096)
                except BlockingIOError:
                    continue
                except OSError:
                    chunk = b""
                got[sock] += chunk
                if chunk and len(got[sock]) < len(want[sock]):
                    continue
                selector.unregister(sock)
                verdict = "right" if got[sock] == want[sock] else "wrong" if got[sock] else "closed"
                counts[verdict] += 1
                if verdict == "wrong" and example is None:
                    example = {"sent": sent[sock], "got": got[sock].decode(errors="replace")[:80]}
        counts["no-reply"] += len(selector.get_map())
    return {"right": 0, **counts}, example


def crowd_at_end(count, socks, failed, seconds=PROBE_S):
    """What became of a crowd of idle connections: how many opened, in what state now, how the open ones
    answered a probe line."""
    states = [state(sock) for sock in socks]
    probed, example = probe([s for s, now in zip(socks, states) if now == "open"], seconds)
    for sock in socks:
        sock.close()
    return {"count": count, "opened": len(socks), "failed": failed, "end": {"open": 0, **Counter(states)},
            "probe": probed, "probe_example": example}


def span(start):
    """[[start, now]] on the wall clock, rounded: a case's timing."""
    return [[round(start, 3), round(time.time(), 3)]]


def hold(args):
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})  # a TERM that comes early waits for us
    make_room(args.count)
    address, started = (socket.gethostbyname(args.host), args.port), time.time()
    socks, failed = open_idle(address, args.count, args.open_s)
    timing = {"open": span(started)}
    print(f"ready {len(socks)}", file=sys.stderr, flush=True)
    stopped = signal.sigtimedwait({signal.SIGTERM}, args.seconds) is not None
    probing = time.time()
    crowd = crowd_at_end(args.count, socks, failed)
    return {**crowd, "stopped": "SIGTERM" if stopped else "time limit", "timing": {**timing, "probe": span(probing)}}


def active(address, index, pause, stop, line_s):
    """One active client: a line, its reply timed, a pause, until stop is set. {"index", "latencies":
    [[sent at, ms]], "right", "failure"}: failure (verdict, line, at: when the line went) ends the client."""
    out = {"index": index, "latencies": [], "right": 0, "failure": None}
    try:
        sock = connect(*address)
    except OSError as exc:
        out["failure"] = {"verdict": "refused", "line": 0, "at": round(time.time(), 3), "error": str(exc)}
        return out
    reader = Reader(sock)
    with sock:
        while not stop.is_set():
            n = out["right"]
            line = f"client {index} line {n} {WORDS[n % len(WORDS)]}\n".encode()
            want, sent, clock = line.decode().upper().encode(), time.time(), time.monotonic()
            try:
                sock.sendall(line)
            except OSError:
                got, why = b"", "closed"
            else:
                got, why = reader.read(len(want), line_s)
            if why or got != want:
                verdict = "wrong" if not why else "no-reply" if why == "timeout" and not got else why
                out["failure"] = {"verdict": verdict, "line": n, "at": round(sent, 3), "sent": line.decode()[:60],
                                  "got": got.decode(errors="replace")[:60]}
                break
            out["latencies"].append([round(sent, 3), round((time.monotonic() - clock) * 1000, 1)])
            out["right"] += 1
            stop.wait(pause)
    return out


def slow_reader(address, until, limit, report):
    """Send lines as fast as the server takes them and never read a reply, until limit bytes are sent or
    `until` (monotonic); keep the connection until then, then reset it. Fills report: "connected",
    "sent_bytes", "stalled_at" (when the server last stopped taking lines for 0.5 s, null if it never did),
    "error" (the server closed or reset it)."""
    report.update(connected=False, sent_bytes=0, limit_bytes=limit, stalled_at=None, error=None)
    chunk = memoryview(SLOW_LINE * (65536 // len(SLOW_LINE)))  # 560 lines a write
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window: its replies pile up at once
    try:
        sock.settimeout(3.0)
        sock.connect(address)
        report["connected"] = True
        sock.settimeout(0.5)
        offset = 0
        while report["sent_bytes"] < limit and time.monotonic() < until:
            try:
                n = sock.send(chunk[offset:])
            except socket.timeout:
                report["stalled_at"] = report["stalled_at"] or round(time.time() - 0.5, 3)
                continue
            report["sent_bytes"] += n
            offset, report["stalled_at"] = (offset + n) % len(chunk), None
        time.sleep(max(0.0, until - time.monotonic()))
    except OSError as exc:
        report["error"] = str(exc)
    finally:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()


def percentiles(values):
    """{"count", "p50_ms", "p95_ms", "max_ms"} of latencies in ms (nearest rank; null when there are none)."""
    ranked = sorted(values)
    at = {p: ranked[max(0, math.ceil(p * len(ranked)) - 1)] if ranked else None for p in (0.5, 0.95, 1.0)}
    return {"count": len(ranked), "p50_ms": at[0.5], "p95_ms": at[0.95], "max_ms": at[1.0]}


def latency(clients, timing):
    """The active clients' latencies in each case they ran in, by when each line was sent."""
    every = [pair for client in clients for pair in client["latencies"]]
    return {case: percentiles([ms for at, ms in every if timing[case][0][0] <= at < timing[case][0][1]])
            for case in ("active", "slow", "after")}


def drive(args):
    make_room(args.idle + args.active + 16)
    address, pause = (socket.gethostbyname(args.host), args.port), args.pause_ms / 1000
    line_s = args.slow_s + args.after_s + 2  # a reply held up by the slow reader still comes, late
    timing, started = {}, time.time()
    socks, failed = open_idle(address, args.idle, args.open_s)
    time.sleep(SETTLE_S)  # the server accepts the last of them before the active clients come
    timing["idle"] = span(started)
    stop, clients, slow = threading.Event(), [None] * args.active, {}

    def client(i):
        clients[i] = active(address, i + 1, pause, stop, line_s)
    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(args.active)]
    started = time.time()
    for thread in threads:
        thread.start()
    time.sleep(args.active_s)
    timing["active"], started = span(started), time.time()
    slow_reader(address, time.monotonic() + args.slow_s, int(args.slow_mib * (1 << 20)), slow)
    timing["slow"], started = span(started), time.time()
    time.sleep(args.after_s)
    stop.set()
    for thread in threads:
        thread.join(line_s + 1)
    timing["after"], started = span(started), time.time()
    time.sleep(args.quiet_s)
    timing["quiet"], started = span(started), time.time()
    idle = crowd_at_end(args.idle, socks, failed)
    timing["probe"] = span(started)
    stuck = {"latencies": [], "right": 0, "failure": {"verdict": "no-reply", "line": 0, "at": timing["after"][0][1]}}
    clients = [c or {"index": i + 1, **stuck} for i, c in enumerate(clients)]  # still waiting for a reply
    return {"idle": idle, "active": clients, "slow": slow, "latency": latency(clients, timing),
            "pause_ms": args.pause_ms, "timing": timing}


def run(argv):
    parser = argparse.ArgumentParser(prog="nodes.checkers.event_loop")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, about in (("hold", "hold idle connections until SIGTERM"), ("drive", "the crowd, the active "
                        "clients and the slow reader")):
        command = commands.add_parser(name, help=about)
        command.add_argument("host")
        command.add_argument("port", type=int)
        command.add_argument("--open-s", type=float, default=20, help="time allowed to open the idle connections")
    commands.choices["hold"].add_argument("--count", type=int, default=550)
    commands.choices["hold"].add_argument("--seconds", type=float, default=120, help="held at most this long")
    options = commands.choices["drive"]
    for flag, kind, default in (("--idle", int, 550), ("--active", int, 20), ("--pause-ms", float, 50),
                                ("--active-s", float, 3), ("--slow-s", float, 4), ("--after-s", float, 1.5),
                                ("--quiet-s", float, 3), ("--slow-mib", float, 16)):
        options.add_argument(flag, type=kind, default=default)
    args = parser.parse_args(argv)
    return hold(args) if args.command == "hold" else drive(args)


if __name__ == "__main__":
    program.main(run)
