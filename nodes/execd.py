"""execd: a homemade remote shell server — the course's "ssh" over sockets and subprocess, made safe.

    python3 -m nodes.execd [--framed-port 7000] [--naive-port 7001] [--timeout S] [--max-output B]
                           [--max-sessions N] [--idle S] [--key FILE]

Two protocols (see nodes/lib/execproto.py), both behind an HMAC challenge-response on the lab key:
- framed (port 7000): requests and results are frames (nodes/lib/framing.py); stdout and stderr come back
  separate and exact, with the exit code, the duration and their sha256s.
- naive (port 7001): the course's version, kept to reproduce its bug. UNSAFE BY DESIGN: one recv(1024) per
  command and raw output with no header, so replies run into each other. Never expose it.

Commands run in a shell (`Popen(command, shell=True)`: this *is* a remote shell) in the home directory, in a
session of their own;
both pipes are read at once as communicate() does (reading stdout, then stderr, deadlocks once stderr fills
its pipe), the output is capped, and the whole process group is killed on timeout or overflow and reaped.
Sessions past --max-sessions are refused. A client that stalls, sends garbage or vanishes loses its session;
the others go on. Says `listening` on stderr; on SIGTERM prints its counts as one JSON line and exits.
With runner "system", a command runs through os.system() instead: its output goes to execd's own stdout
(the server's terminal), and the client gets only the wait status — the course's contrast.
"""
import argparse
import hashlib
import math
import os
import selectors
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time

from nodes.lib import execproto, framing, program

CHUNK = 64 * 1024
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


class Execd:
    def __init__(self, key, timeout, limit, max_sessions, idle):
        self.key, self.timeout, self.limit, self.idle = key, timeout, limit, idle
        self.sessions = threading.BoundedSemaphore(max_sessions)
        self.lock, self.log_lock = threading.Lock(), threading.Lock()
        self.counts = {"sessions": 0, "refused_auth": 0, "refused_busy": 0, "commands": 0, "errors": 0}

    def count(self, name):
        with self.lock:
            self.counts[name] += 1

    def log(self, peer, message):
        """One whole line per event, however many sessions write at once."""
        line = f"execd: {peer}: {message}".replace("\n", " ") + "\n"
        with self.log_lock:
            sys.stderr.write(line)
            sys.stderr.flush()

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
            conn.settimeout(self.idle)  # a half-open or silent peer is dropped, not waited for
            if not self.sessions.acquire(blocking=False):
                self.count("refused_busy")
                self.log(peer, "refused: too many sessions")
                return
            try:
                self.count("sessions")
                handler(conn, peer)
            except Exception as exc:  # whatever one peer causes ends its session only
                self.count("errors")
                self.log(peer, f"session ended: {type(exc).__name__}: {exc}")
            finally:
                self.sessions.release()

    def framed(self, conn, peer):
        if not execproto.server_handshake(conn, self.key):
            self.count("refused_auth")
            return self.log(peer, "refused: authentication failed")
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
        if not execproto.naive_server_handshake(conn, self.key):
            self.count("refused_auth")
            return self.log(peer, "refused: authentication failed")
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
    parser.add_argument("--key", default=execproto.KEY_PATH)
    args = parser.parse_args(argv)
    server = Execd(execproto.load_key(args.key), args.timeout, args.max_output, args.max_sessions, args.idle)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    for port, handler in ((args.framed_port, server.framed), (args.naive_port, server.naive)):
        listener = socket.create_server(("", port), backlog=64)
        threading.Thread(target=server.accept, args=(listener, handler), daemon=True).start()
    print("listening", file=sys.stderr, flush=True)
    stop.wait()
    return server.counts


if __name__ == "__main__":
    program.main(run)
