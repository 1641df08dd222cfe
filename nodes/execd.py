"""execd: a homemade remote shell server — the course's "ssh" over sockets and subprocess, made safe.

    python3 -m nodes.execd [--framed-port 7000] [--naive-port 7001] [--timeout S] [--max-output B]
                           [--max-sessions N] [--idle S] [--grace S] [--max-startups START:RATE:FULL] [--key FILE]

Two protocols (see nodes/lib/execproto.py), both behind an HMAC challenge-response on the lab key:
- framed (port 7000): requests and results are frames (nodes/lib/framing.py); stdout and stderr come back
  separate and exact, with the exit code, the duration and their sha256s.
- naive (port 7001): the course's version, kept to reproduce its bug. UNSAFE BY DESIGN: one recv(1024) per
  command and raw output with no header, so replies run into each other. Never expose it.

Commands run in a shell (`Popen(command, shell=True)`: this *is* a remote shell) in the home directory, in a
session of their own;
both pipes are read at once as communicate() does (reading stdout, then stderr, deadlocks once stderr fills
its pipe), the output is capped, and the whole process group is killed on timeout or overflow and reaped.
Before authentication a connection is bounded on its own, as OpenSSH bounds it: it must finish the challenge
within --grace seconds (LoginGraceTime), and past START unauthenticated connections new ones are dropped
at random, with a chance rising from RATE% to 100% at FULL (MaxStartups), so that a flood of silent
connections cannot lock the lab out. Only an authenticated client takes one of --max-sessions; past those
it is refused. A client that stalls, sends garbage or vanishes loses its session; the others go on. Says `listening` on stderr; on SIGTERM prints its counts as one JSON line and exits.
With runner "system", a command runs through os.system() instead: its output goes to execd's own stdout
(the server's terminal), and the client gets only the wait status — the course's contrast.
"""
import argparse
import hashlib
import math
import os
import random
import selectors
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time

from nodes.lib import execproto, framing, keys, program, serving

CHUNK = 64 * 1024
BUSY = "too many sessions"
HOME = os.path.expanduser("~")  # commands start here, as over SSH


def collect(proc, timeout, limit):
    """(stdout, stderr, timed_out, truncated): communicate() with a byte limit. Kills the group when either
    the time or the limit runs out, and always reaps the child."""
    chunks = {proc.stdout: [], proc.stderr: []}
    total, timed_out, truncated = 0, False, False
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        for pipe in chunks:
            selector.register(pipe, selectors.EVENT_READ)
        while selector.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            for key, _ in selector.select(left):
                data = os.read(key.fd, CHUNK)
                if not data:
                    selector.unregister(key.fileobj)
                    continue
                chunks[key.fileobj].append(data)
                total += len(data)
            if total > limit:
                truncated = True
                break
    if timed_out or truncated:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.stdout.close()
    proc.stderr.close()
    proc.wait()
    return b"".join(chunks[proc.stdout]), b"".join(chunks[proc.stderr]), timed_out, truncated


def execute(command, timeout, limit):
    started = time.monotonic()
    proc = subprocess.Popen(command, shell=True, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True, cwd=HOME)
    stdout, stderr, timed_out, truncated = collect(proc, timeout, limit)
    return {"exit_code": proc.returncode, "duration": round(time.monotonic() - started, 6), "timed_out": timed_out,
            "truncated": truncated, "stdout_size": len(stdout), "stderr_size": len(stderr),
            "stdout_sha256": hashlib.sha256(stdout).hexdigest(), "stderr_sha256": hashlib.sha256(stderr).hexdigest()
            }, stdout + stderr


class Startups:
    """OpenSSH's MaxStartups START:RATE:FULL for connections that have not authenticated yet."""

    def __init__(self, start, rate, full, chance=random.random):
        if not 0 < start <= full or not 0 <= rate <= 100:
            raise ValueError(f"max-startups {start}:{rate}:{full}: expected 0 < START <= FULL and RATE 0-100")
        self.start, self.rate, self.full, self.chance = start, rate, full, chance
        self.pending, self.lock = 0, threading.Lock()

    @classmethod
    def parse(cls, text):
        try:
            start, rate, full = (int(part) for part in text.split(":"))
        except ValueError:
            raise ValueError(f"max-startups {text!r}: expected START:RATE:FULL, e.g. 128:30:256") from None
        return cls(start, rate, full)

    def admit(self):
        """Take a place for one more unauthenticated connection, or False to drop it."""
        with self.lock:
            n = self.pending
            if n >= self.full:
                return False
            if n >= self.start:
                drop = self.rate + (100 - self.rate) * (n - self.start) / max(1, self.full - self.start)
                if self.chance() * 100 < drop:
                    return False
            self.pending += 1
            return True

    def release(self):
        with self.lock:
            self.pending -= 1


class Execd:
    def __init__(self, key, timeout, limit, max_sessions, idle, grace=5.0, startups=None):
        self.key, self.timeout, self.limit, self.idle, self.grace = key, timeout, limit, idle, grace
        self.sessions = threading.BoundedSemaphore(max_sessions)
        self.startups = startups or Startups(128, 30, 256)
        self.lock = threading.Lock()
        self.counts = {"sessions": 0, "refused_auth": 0, "refused_busy": 0, "refused_startups": 0, "commands": 0,
                       "errors": 0}
        self.handshakes = {self.framed: execproto.server_handshake, self.naive: execproto.naive_server_handshake}

    def count(self, name):
        with self.lock:
            self.counts[name] += 1

    def log(self, peer, message):
        """One whole line per event, however many sessions write at once."""
        serving.log("execd", peer, message)

    def time_limit(self, requested):
        """The request's timeout, at most ours, if it is a positive finite number of seconds (absent: ours);
        None if it is anything else (NaN, infinity, 0 or less, true, text)."""
        if requested is None:
            return self.timeout
        if isinstance(requested, bool) or not isinstance(requested, (int, float)) or not math.isfinite(requested):
            return None
        return min(requested, self.timeout) if requested > 0 else None

    def accept(self, listener, handler):
        while True:
            conn, (host, port) = listener.accept()
            threading.Thread(target=self.session, args=(conn, f"{host}:{port}", handler), daemon=True).start()

    def session(self, conn, peer, handler):
        with conn:
            if not self.startups.admit():
                self.count("refused_startups")
                return self.log(peer, "dropped: too many unauthenticated connections")
            admitted = []  # a session slot taken by admit(), to give back if the handshake fails after it
            try:
                conn.settimeout(self.grace)  # the challenge is answered within the grace time, or never
                refused = self.handshakes[handler](conn, self.key, self.grace, lambda: self.admit(admitted))
            except Exception as exc:  # garbage, a stall, a reset: this peer's problem only
                if admitted:
                    self.sessions.release()
                self.count("errors")
                return self.log(peer, f"handshake failed: {type(exc).__name__}: {exc}")
            finally:
                self.startups.release()
            if refused:
                self.count("refused_busy" if refused == BUSY else "refused_auth")
                return self.log(peer, f"refused: {refused}")
            try:
                conn.settimeout(self.idle)  # a half-open or silent peer is dropped, not waited for
                handler(conn, peer)
            except Exception as exc:  # whatever one peer causes ends its session only
                self.count("errors")
                self.log(peer, f"session ended: {type(exc).__name__}: {exc}")
            finally:
                self.sessions.release()

    def admit(self, admitted):
        """Called once a client has proved it holds the key: a session slot, or the reason there is none."""
        if not self.sessions.acquire(blocking=False):
            return BUSY
        admitted.append(True)
        self.count("sessions")
        return None

    def framed(self, conn, peer):
        while (request := framing.read_frame(conn, max_body=0, max_header=16 * 1024, timeout=self.idle)) is not None:
            command, timeout = request.header.get("command"), self.time_limit(request.header.get("timeout"))
            if request.kind != "exec" or not isinstance(command, str) or timeout is None:
                self.count("errors")
                framing.send_frame(conn, kind="error", reason='expected {"kind": "exec", "command": "...", '
                                                              f'"timeout": seconds more than 0 (at most {self.timeout} are used)}}')
                continue
            self.count("commands")
            if request.header.get("runner") == "system":
                started = time.monotonic()
                # output to execd's own stdout; the client gets the wait status only
                status = os.system(f"cd {shlex.quote(HOME)} && timeout -k 1 {timeout} sh -c {shlex.quote(command)}")
                framing.send_frame(conn, kind="result", runner="system", wait_status=status,
                                   exit_code=os.waitstatus_to_exitcode(status), stdout_size=0, stderr_size=0,
                                   duration=round(time.monotonic() - started, 6))
                continue
            result, body = execute(command, timeout, self.limit)
            framing.send_frame(conn, body, kind="result", **result)

    def naive(self, conn, peer):
        while command := conn.recv(1024):  # the course's bug: a command is whatever one recv() returns
            self.count("commands")
            _, output = execute(command.decode(errors="replace"), self.timeout, self.limit)
            conn.sendall(output or b"\n")  # no header: the reader cannot tell where this reply ends


def run(argv):
    parser = argparse.ArgumentParser(prog="nodes.execd")
    parser.add_argument("--framed-port", type=int, default=execproto.FRAMED_PORT)
    parser.add_argument("--naive-port", type=int, default=execproto.NAIVE_PORT)
    parser.add_argument("--timeout", type=float, default=30.0, help="longest a command may run (s)")
    parser.add_argument("--max-output", type=int, default=64 << 20, help="bytes of stdout+stderr per command")
    parser.add_argument("--max-sessions", type=int, default=32)
    parser.add_argument("--idle", type=float, default=30.0, help="drop a client silent this long (s)")
    parser.add_argument("--grace", type=float, default=5.0, help="seconds to answer the challenge (LoginGraceTime)")
    parser.add_argument("--max-startups", type=Startups.parse, default="128:30:256",
                        help="unauthenticated connections START:RATE:FULL, as OpenSSH's MaxStartups")
    parser.add_argument("--key", default=keys.EXECD)
    args = parser.parse_args(argv)
    server = Execd(execproto.load_key(args.key), args.timeout, args.max_output, args.max_sessions, args.idle,
                   args.grace, args.max_startups)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    for port, handler in ((args.framed_port, server.framed), (args.naive_port, server.naive)):
        listener = socket.create_server(("", port), backlog=256)
        threading.Thread(target=server.accept, args=(listener, handler), daemon=True).start()
    print("listening", file=sys.stderr, flush=True)
    stop.wait()
    return server.counts


if __name__ == "__main__":
    program.main(run)
