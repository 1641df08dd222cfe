"""Run a learner's Python file as an unprivileged user under limits, and leave nothing of it behind.

    python3 -m nodes.sandbox [--listen tcp|udp:PORT] [--limit-s S] [--workdir DIR] [--watch] [--usage]
                             [--nofile N] [--fsize-mib N] [--stdout-file NAME] [--unbuffered] -- FILE ARGS...

Run as root; the program runs as uid/gid SANDBOX_UID (no account, no groups, HOME in its workdir) with
limits on processes, memory, CPU time, file size and open files (an exercise may raise the last two). Its output is kept up to OUTPUT_KEPT bytes
per stream; one that prints more than OUTPUT_FLOOD in all is stopped. With --listen, `listening` goes to
stderr once a socket of that user is bound to the port (read from /proc/net, no probe connection).
It ends when the program does, at the time limit, or on SIGTERM; then every process of the sandbox user
is killed. Result: {"exit_code", "signal", "timed_out", "flooded", "stopped", "seconds", "ended_at" (the
wall-clock time the program ended by itself, else null), "stdout", "stderr", "stdout_bytes", "stderr_bytes",
"outlived": processes still there after the program ended}.
With --watch, also "lines": [[seconds, stdout line]] and "watch": [[seconds, [[pid, ppid, state, args]]]]
(the sandbox user's processes every 10 ms, when they changed, on one clock with the lines; sampling goes on
for a second after the program ends, while any of its processes is left). With --usage, also "usage":
[[wall-clock time, threads, rss_kib, cpu_s]]: all the program's live processes together, sampled every 10 ms
and kept when the threads changed, the resident memory moved by 1 MiB or half a second passed.
With --stdout-file, the
program's stdout is that file in its workdir, not a pipe: every line it printed is there, even if the
node is killed (a stopped container's files can still be read).
"""
import argparse
import os
import resource
import signal
import subprocess
import sys
import threading
import time

from nodes.lib import program
from nodes.lib.layout import SANDBOX_UID

OUTPUT_KEPT = 256 * 1024
OUTPUT_FLOOD = 16 * 1024 * 1024
LIMITS = {resource.RLIMIT_NPROC: 128, resource.RLIMIT_AS: 2 << 30, resource.RLIMIT_CPU: 120,
          resource.RLIMIT_FSIZE: 64 << 20, resource.RLIMIT_NOFILE: 256, resource.RLIMIT_CORE: 0}
MAX_LINES, MAX_SNAPSHOTS, MAX_USAGE, LINGER_S = 2000, 2000, 5000, 1.0
PAGE_KIB, TICKS = os.sysconf("SC_PAGE_SIZE") // 1024, os.sysconf("SC_CLK_TCK")
LISTEN_STATE = {"tcp": "0A", "udp": "07"}  # /proc/net: TCP_LISTEN; an unconnected UDP socket


def limits(args):
    """LIMITS, with the open files and the file size an exercise asked for."""
    return {**LIMITS, **({resource.RLIMIT_NOFILE: args.nofile} if args.nofile else {}),
            **({resource.RLIMIT_FSIZE: args.fsize_mib << 20} if args.fsize_mib else {})}


def limited(values):
    """A preexec_fn setting the limits in the child, before exec and after it became the sandbox user: each is
    below what the node allows, and lowering a limit needs no privilege."""
    def apply():
        for limit, value in values.items():
            resource.setrlimit(limit, (value, value))
    return apply


def status(pid):
    """(real uid, state letter) of a process, from /proc (a setuid program keeps its real uid)."""
    uid = state = None
    with open(f"/proc/{pid}/status") as lines:
        for line in lines:
            if line.startswith("State:"):
                state = line.split()[1]
            elif line.startswith("Uid:"):
                uid = int(line.split()[1])
                break
    return uid, state


def sandbox_pids(zombies=True):
    """Pids of every process started by the sandbox user, whatever uid it runs as now (zombies too, unless
    told not to: a zombie waits for its parent, not for a signal)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                uid, state = status(entry)
            except (FileNotFoundError, ProcessLookupError):
                continue
            if uid == SANDBOX_UID and (zombies or state != "Z"):
                pids.append(int(entry))
    return pids


def kill_all(rounds=20):
    """SIGKILL every process of the sandbox user until none is left. kill(-1) sent *as that user* reaches
    all of them in one call (a fork loop cannot outrun it), and only them: the user may signal no other."""
    for _ in range(rounds):
        helper = os.fork()
        if helper == 0:  # the child becomes the sandbox user just to send the signal, and leaves
            try:
                os.setgroups([])
                os.setgid(SANDBOX_UID)
                os.setuid(SANDBOX_UID)
                os.kill(-1, signal.SIGKILL)
            finally:
                os._exit(0)
        os.waitpid(helper, 0)
        if not sandbox_pids(zombies=False):
            return
        time.sleep(0.02)


def bound(proto, port):
    """True when a socket of the sandbox user is bound to port (listening, for TCP)."""
    for table in (f"/proc/net/{proto}", f"/proc/net/{proto}6"):
        try:
            rows = open(table).read().splitlines()[1:]
        except FileNotFoundError:
            continue
        for row in rows:
            fields = row.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == LISTEN_STATE[proto] \
                    and int(fields[7]) == SANDBOX_UID:
                return True
    return False


def usage():
    """(threads, rss_kib, cpu_s) of the sandbox user's live processes together, from /proc/PID/stat."""
    threads = rss = ticks = 0
    for pid in sandbox_pids(zombies=False):
        try:
            stat = open(f"/proc/{pid}/stat").read()
        except (FileNotFoundError, ProcessLookupError):
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # fields[0] is the state, field 3 of stat(5)
        ticks += int(fields[11]) + int(fields[12])    # utime, stime
        threads += int(fields[17])
        rss += int(fields[21]) * PAGE_KIB
    return threads, rss, round(ticks / TICKS, 2)


def processes():
    """[[pid, ppid, state, args]] of the sandbox user's processes, from /proc."""
    table = []
    for pid in sorted(sandbox_pids()):
        try:
            stat = open(f"/proc/{pid}/stat").read()
            args = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace").strip()
        except (FileNotFoundError, ProcessLookupError):
            continue
        state, ppid = stat[stat.rindex(")") + 2:].split()[:2]
        table.append([pid, int(ppid), state, args[:200]])
    return table


class Output:
    """One stream of the program: its first OUTPUT_KEPT bytes kept, every byte counted, and (if asked)
    its first lines with the time each came."""

    def __init__(self, stream, total, started=None):
        self.kept, self.count, self.total = bytearray(), 0, total
        self.started, self.lines, self.partial = started, [], b""
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def wait(self, seconds):
        """Until the stream has ended (at most seconds)."""
        self.thread.join(seconds)

    def _read(self, stream):
        while chunk := stream.read1(65536):
            self.count += len(chunk)
            self.total[0] += len(chunk)
            if len(self.kept) < OUTPUT_KEPT:
                self.kept += chunk[:OUTPUT_KEPT - len(self.kept)]
            if self.started is not None and len(self.lines) < MAX_LINES:
                *whole, self.partial = (self.partial + chunk).split(b"\n")
                at = round(time.monotonic() - self.started, 3)
                self.lines += [[at, line.decode(errors="replace")[:200]] for line in whole][:MAX_LINES - len(self.lines)]

    def text(self):
        return self.kept.decode(errors="replace")


class FileOutput:
    """The program's stdout as a file of its workdir, read through the sandbox's own descriptor once the
    program has ended (the program may delete or replace the name; the descriptor stays the file)."""

    def __init__(self, file):
        self.fd, self.lines = file.fileno(), []

    def wait(self, seconds):
        """Nothing to wait for: the file is read when asked."""

    @property
    def count(self):
        return os.fstat(self.fd).st_size

    def text(self):
        return os.pread(self.fd, OUTPUT_KEPT, 0).decode(errors="replace")


def stamp_exit(pid, stamps):
    """Append the wall-clock time pid exits, waiting without reaping it (WNOWAIT: Popen still does)."""
    try:
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
    except ChildProcessError:  # reaped already
        return
    stamps.append(round(time.time(), 3))


def arguments(argv):
    parser = argparse.ArgumentParser(prog="nodes.sandbox")
    parser.add_argument("--listen", help="tcp:PORT or udp:PORT: say `listening` once the program is bound there")
    parser.add_argument("--limit-s", type=float, default=30.0, help="wall-clock limit")
    parser.add_argument("--workdir", default="/tmp")
    parser.add_argument("--watch", action="store_true", help="record output lines and the process table")
    parser.add_argument("--usage", action="store_true", help="record the program's threads, memory and CPU")
    parser.add_argument("--nofile", type=int, help="open files allowed (instead of the default limit)")
    parser.add_argument("--fsize-mib", type=int, help="largest file it may write, in MiB (instead of the default)")
    parser.add_argument("--stdout-file", help="the program's stdout goes to this file of its workdir")
    parser.add_argument("--unbuffered", action="store_true",
                        help="PYTHONUNBUFFERED: each line out at once (but print's text and newline are then two "
                             "writes, which other processes' lines can come between)")
    parser.add_argument("file")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    return parser.parse_args(argv)


def start(args, stdout):
    """The learner's program, started as the sandbox user under the limits, in a session of its own."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": args.workdir, "LANG": "C.UTF-8",
           "PYTHONDONTWRITEBYTECODE": "1", **({"PYTHONUNBUFFERED": "1"} if args.unbuffered else {})}
    return subprocess.Popen(["python3", args.file, *args.args], cwd=args.workdir, env=env, stdin=subprocess.DEVNULL,
                            stdout=stdout, stderr=subprocess.PIPE, user=SANDBOX_UID, group=SANDBOX_UID,
                            extra_groups=[], start_new_session=True, preexec_fn=limited(limits(args)))


class Watch:
    """The sandbox user's process table, kept each time it changed (with --watch), on the sandbox's clock."""

    def __init__(self, on, started):
        self.on, self.started, self.snapshots = on, started, []

    def sample(self):
        if self.on and len(self.snapshots) < MAX_SNAPSHOTS:
            table = processes()
            if not self.snapshots or self.snapshots[-1][1] != table:
                self.snapshots.append([round(time.monotonic() - self.started, 3), table])


class Usage:
    """The program's threads, memory and CPU over time (with --usage), on the wall clock a checker's cases
    are timed on too: a sample kept when the threads changed, the memory moved by 1 MiB or 0.5 s passed."""

    def __init__(self, on):
        self.on, self.samples = on, []

    def sample(self):
        if not self.on or len(self.samples) >= MAX_USAGE:
            return
        now, (threads, rss, cpu) = round(time.time(), 3), usage()
        last = self.samples[-1] if self.samples else None
        if not last or threads != last[1] or abs(rss - last[2]) >= 1024 or now - last[0] >= 0.5:
            self.samples.append([now, threads, rss, cpu])


def supervise(child, args, out, total, watch, used, stopped, started):
    """Until the program ends, is stopped, floods or outlives its limit: say `listening` once it is bound
    (--listen). (timed_out, flooded)."""
    proto, _, port = (args.listen or "").partition(":")
    said = not args.listen
    while child.poll() is None and not stopped.is_set():
        watch.sample()
        used.sample()
        if not said and bound(proto, int(port)):
            print("listening", file=sys.stderr, flush=True)
            said = True
        if total[0] + (out.count if args.stdout_file else 0) > OUTPUT_FLOOD:
            return False, True
        if time.monotonic() - started > args.limit_s:
            return True, False
        time.sleep(0.01)
    return False, False


def linger(watch):
    """With --watch, what the program left running, sampled for up to LINGER_S."""
    until = time.monotonic() + (LINGER_S if watch.on else 0)
    while time.monotonic() < until and sandbox_pids():
        watch.sample()
        time.sleep(0.01)
    watch.sample()


def run(argv):
    args = arguments(argv)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    started = time.monotonic()
    stdout = open(os.path.join(args.workdir, args.stdout_file), "w+b") if args.stdout_file else subprocess.PIPE
    child = start(args, stdout)
    exited_at = []  # the wall-clock moment it ended (not when the loop below noticed), for a checker's timeline
    stamper = threading.Thread(target=stamp_exit, args=(child.pid, exited_at), daemon=True)
    stamper.start()
    total, watch = [0], Watch(args.watch, started)
    used = Usage(args.usage)
    out = FileOutput(stdout) if args.stdout_file else Output(child.stdout, total, started if args.watch else None)
    err = Output(child.stderr, total)
    try:
        timed_out, flooded = supervise(child, args, out, total, watch, used, stopped, started)
        ended, noticed_at = child.poll() is not None, round(time.time(), 3)
        outlived = len(sandbox_pids()) if ended else None
        if ended:
            linger(watch)
        else:
            watch.sample()
    finally:
        kill_all()  # whatever went wrong here, nothing of the program outlives the sandbox
    code = child.wait()
    stamper.join(1)
    out.wait(5)
    err.wait(5)
    return {"exit_code": code if code >= 0 else None, "signal": -code if code < 0 else None,
            "timed_out": timed_out, "flooded": flooded, "stopped": stopped.is_set() and not ended,
            "seconds": round(time.monotonic() - started, 3), "ended_at": (exited_at or [noticed_at])[0] if ended else None,
            "stdout": out.text(), "stderr": err.text(), "stdout_bytes": out.count, "stderr_bytes": err.count,
            "outlived": outlived, **({"lines": out.lines, "watch": watch.snapshots} if args.watch else {}),
            **({"usage": used.samples} if args.usage else {})}


if __name__ == "__main__":
    program.main(run)
