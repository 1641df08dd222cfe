"""A lab node: one container of the project, driven through the Docker SDK's exec API.

Three ways to run something in a node, one contract for node programs (`python3 -m nodes.<program>`, one
JSON line on stdout, or one error line on stderr and a non-zero exit):
- `run(argv)` / `program(name, *args)`: run and wait; Completed, or the program's JSON.
- `start(program, *args)`: run in the background; a Process to read, wait for, stop, or take `result()` of.
- `with serve(program, *args, ready="listening") as process:`: a server for the length of the block,
  started, waited for until it says it is ready, and stopped at the end.
`at_once(work, items)` runs work(item) for every item at the same time: programs on several nodes at once.
"""
import json
import re
import shutil
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone

import docker.errors
from docker.utils.socket import frames_iter

from nodes.lib.layout import READY_LINE
from orchestrator import labels
from orchestrator.engines import UNREACHABLE, unreachable
from orchestrator.errors import EngineUnavailable, LabError, NotReady, ProgramFailed, TimedOut
from orchestrator.fault import Fault, Impairment
from orchestrator.i18n import _
from orchestrator.watch.timeline import command_text

TIMED_OUT = (124, 137)  # timeout(1)'s status when its limit ran out (TERM), or when it had to KILL
WORKSPACE = "/workspace"  # the learner's files, on every node (compose.yaml)
IN_SESSION = 'p=$1; shift; echo $$ > "$p"; exec "$@"'  # argv run by setsid, its session id in a file
SIGNAL_SESSION = 'while [ ! -s "$0" ]; do sleep 0.01; done; pkill -"$1" -s "$(cat "$0")"; true'


def at_once(work, items):
    """[work(item) for item in items], every call in a thread of its own, all at the same time."""
    items = list(items)
    with ThreadPoolExecutor(max(1, len(items))) as pool:
        return list(pool.map(work, items))


def results(processes, timeout=60) -> list[dict]:
    """Each Process's JSON result, in order; one that failed raises ProgramFailed."""
    return [process.result(timeout) for process in processes]


def outcomes(processes, timeout=30) -> list[dict]:
    """Each Process's JSON result, or {"error", "exit_code"} for one that failed (as expected of some)."""
    found = []
    for process in processes:
        try:
            found.append(process.result(timeout))
        except ProgramFailed as failed:
            found.append({"error": failed.stderr_tail, "exit_code": failed.exit_code})
    return found


def program_argv(program, args=()):
    """The argv of node program `program` (`"receiver"` → `python3 -m nodes.receiver`), or a system
    program's argv given as a list, as it is."""
    if isinstance(program, (list, tuple)):
        if args:
            raise TypeError("a system program's argv is given whole, without extra args")
        return [str(word) for word in program]
    return ["python3", "-m", f"nodes.{program}", *map(str, args)]


def last_line(data):
    """The last non-empty line of a program's output, as text."""
    lines = bytes(data).decode(errors="replace").strip().splitlines()
    return lines[-1].strip() if lines else ""


@dataclass(frozen=True)
class Completed:
    """A finished program: where it ran, its exit code and its exact output streams."""
    node: str
    argv: list
    exit_code: int
    stdout: bytes
    stderr: bytes

    def result(self) -> dict:
        """The node program's JSON result line; ProgramFailed if it exited non-zero."""
        if self.exit_code:
            raise ProgramFailed(self.node, self.argv, self.exit_code, last_line(self.stderr))
        return json.loads(self.stdout)


class Node:
    """A container of the lab, named like `server`, `client1` or `worker3`."""

    def __init__(self, lab, container, name=None, machine=None):
        self.lab = lab
        self.container = container
        self.machine = machine  # the engines.Machine that holds the container (None: the lab's engine)
        found = container.labels
        self.service = found.get(labels.COMPOSE_SERVICE) or found.get(labels.SERVICE) or name
        self.number = int(found.get(labels.COMPOSE_NUMBER) or found.get(labels.NUMBER) or 1)
        self._name = name

    @property
    def engine(self):
        """The Docker SDK client of the engine that holds the node; EngineUnavailable when that engine has
        stopped answering (never another engine in its place)."""
        if self.machine is None:
            return self.lab.engine
        if self.machine.client is None:
            raise EngineUnavailable(_("the engine of machine {machine} (node {node}) does not answer: {error}").format(
                machine=self.machine.name, node=self.name, error=self.machine.error))
        return self.machine.client

    @property
    def machine_name(self):
        """The machine the node runs on: a swarm node's hostname, or the one engine's name."""
        return self.machine.name if self.machine is not None else ""

    @property
    def project(self):
        """The lab (Compose project or swarm stack) this node belongs to."""
        return self.lab.project

    @property
    def name(self):
        """`server`, `client1`, `worker3`…, or the name a scratch node was given."""
        if self._name:
            return self._name
        return self.service if self.service == "server" else f"{self.service}{self.number}"

    @property
    def ip(self):
        """The node's address on the lab network."""
        networks = self.container.attrs["NetworkSettings"]["Networks"]
        return next((n["IPAddress"] for n in networks.values() if n.get("IPAddress")), None)

    @property
    def health(self):
        """The engine's health status (healthy, starting, unhealthy), or the container's state without one."""
        state = self.container.attrs["State"]
        return state.get("Health", {}).get("Status") or state["Status"]

    @property
    def status(self):
        """What `ps` shows: the engine's health as its last periodic check found it; until a check has run
        since the node started or was unpaused (it runs once a minute), `ready` if the node's boot check
        passed, else `starting`. A paused or stopped node shows its state."""
        state = self.container.attrs["State"]
        health = state.get("Health")
        if state["Status"] != "running":
            return state["Status"]
        if not health:  # a swarm node has no health check: its boot line says it all
            return "ready" if self.booted() else "starting"
        unchecked = health["Status"] == "starting" or (health["Status"] == "unhealthy" and not health.get("FailingStreak"))
        if unchecked:  # the engine marks an unpaused node unhealthy without any failed check
            return "ready" if self.booted() else "starting"
        return health["Status"]

    def booted(self, follow=False):
        """Whether the node's boot said it was ready since the container last started. follow=True waits
        for the line (or for the container to stop, which answers False)."""
        since = self.started_at.timestamp()
        lines = self.container.logs(stream=True, follow=follow, stdout=True, stderr=False,
                                    since=since if since > 0 else None)
        return any(READY_LINE.encode() in chunk for chunk in lines)

    @property
    def started_at(self):
        """When the container last started, in UTC."""
        text = self.container.attrs["State"]["StartedAt"]
        return datetime.fromisoformat(text[:26].rstrip("Z") + "+00:00").astimezone(timezone.utc)

    def __repr__(self):
        return f"Node({self.name})"

    @property
    def learner(self):
        """"UID:GID" of the learner's account in the node (nodes.boot made it from the host user's)."""
        env = dict(item.split("=", 1) for item in self.container.attrs["Config"]["Env"] if "=" in item)
        return f"{env.get('SOCKLAB_UID', '0')}:{env.get('SOCKLAB_GID', '0')}"

    def _exec(self, argv, **options):
        try:
            return self.engine.api.exec_create(self.container.id, argv, stdout=True, stderr=True, **options)["Id"]
        except docker.errors.APIError as exc:
            raise LabError(_("cannot run {program} on {node}: {error}").format(
                program=argv[0], node=self.name, error=exc.explanation or exc)) from None
        except UNREACHABLE as exc:
            raise unreachable(self.machine_name or "?", exc) from None

    @contextmanager
    def answering(self):
        """For the length of a `with` block: an engine that stops answering is said in one line, naming
        the node's machine."""
        try:
            yield
        except UNREACHABLE as exc:
            raise unreachable(self.machine_name or "?", exc) from None

    def run(self, argv, timeout=60, user="", record=True) -> Completed:
        """Run argv in the node (as root, or user "UID:GID") and wait: Completed with exact stdout and
        stderr, whatever the exit code. Its start and end go on the lab's timeline unless record is False
        (socklab's own housekeeping).

        Raises TimedOut when the time limit ran out; a command that itself exits 124 is returned as such.
        """
        started = time.monotonic()
        exec_id = self._exec(["timeout", "-k", "2", str(timeout), *argv], user=user)
        if record:
            self.lab.timeline.add("program-started", self.name, command=command_text(argv))
        with self.answering():
            stdout, stderr = self.engine.api.exec_start(exec_id, demux=True)
            code = self.engine.api.exec_inspect(exec_id)["ExitCode"]
        if record:
            self.lab.timeline.add("program-ended", self.name, command=command_text(argv), exit_code=code)
        if code in TIMED_OUT and time.monotonic() - started >= timeout:  # only the limit can take that long
            raise TimedOut(" ".join(map(str, argv)), self.name, timeout)
        return Completed(self.name, list(argv), code, stdout or b"", stderr or b"")

    def program(self, name, *args, timeout=60, user="") -> dict:
        """Run node program `nodes.<name>` with args (as root, or user) and return its JSON result;
        ProgramFailed if it fails."""
        return self.run(program_argv(name, args), timeout=timeout, user=user).result()

    def start(self, program, *args):
        """Start a node program (or a system program's argv, as a list) in the background, in a session of
        its own; the lab stops it at the latest when the scenario ends (Lab.stop_spawned)."""
        process = Process(self, program_argv(program, args))
        self.lab.spawned.append(process)
        return process

    @contextmanager
    def serve(self, program, *args, ready="listening", timeout=10, strict=True):
        """Run a server for the length of a `with` block: start it, wait until its stderr says `ready`,
        yield the Process, and stop it (with everything it started) when the block ends.

        ProgramFailed with its last stderr line if it died before it was ready; NotReady if it never said so.
        strict=False (a learner's server, whose failing to start is a finding): neither is raised, and
        `process.ready` says whether it became ready.
        """
        process = self.start(program, *args)
        try:
            try:
                process.expect(ready, timeout=timeout)
                process.ready = True
            except (NotReady, ProgramFailed):
                process.ready = False
                if strict:
                    raise
            yield process
        finally:
            process.stop()

    @contextmanager
    def captured(self, expression, path, interface="eth0"):
        """tcpdump on the node for the length of a `with` block, the packets that match expression (a pcap
        filter) written to path in the node; yields a Capture whose `pcap` holds the file once the block ends
        (or its `stop()` is called)."""
        capture = Capture(self, path, self.start(
            ["tcpdump", "--immediate-mode", "-i", interface, "-U", "-w", path, expression]))
        try:
            capture.process.expect("listening on")
            yield capture
        finally:
            capture.stop()

    def attach(self, argv, stdout, stderr, stdin=None, user="", workdir=None):
        """Run argv in the node with its output streamed to stdout and stderr (binary files) as it comes,
        and stdin (a binary file) copied in until its end; returns the exit code. Interrupted (Ctrl-C), it
        stops the program and everything it started, then raises KeyboardInterrupt."""
        pidfile = f"/tmp/socklab-attach-{uuid.uuid4().hex[:12]}.pid"
        exec_id = self._exec(["setsid", "-w", "sh", "-c", IN_SESSION, "sh", pidfile, *argv],
                             stdin=stdin is not None, user=user, workdir=workdir)
        sock = self.engine.api.exec_start(exec_id, socket=True)
        raw = getattr(sock, "_sock", sock)
        if stdin is not None:
            threading.Thread(target=self._feed, args=(stdin, raw), daemon=True).start()
        try:
            for stream, data in frames_iter(sock, tty=False):
                target = stdout if stream == 1 else stderr
                target.write(data)
                target.flush()
        except KeyboardInterrupt:
            self.run(["sh", "-c", SIGNAL_SESSION, pidfile, "TERM"], timeout=10, record=False)
            raise
        finally:
            sock.close()
        return self.engine.api.exec_inspect(exec_id)["ExitCode"]

    @staticmethod
    def _feed(stdin, raw):
        """Copy stdin into the exec, then close its writing half: the program reads end of file."""
        try:
            while chunk := stdin.read1(65536) if hasattr(stdin, "read1") else stdin.read(65536):
                raw.sendall(chunk)
            raw.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the program has ended and closed its side

    def shell_argv(self):
        """The `docker exec -it` argv of an interactive shell in the node: bash as the learner, in
        /workspace, with a prompt that names the node."""
        docker = shutil.which("docker")
        if not docker:
            raise LabError(_("a shell needs the docker command-line client, which this host does not have"))
        prompt = f"\\u@{self.name}:\\w\\$ "
        host = ["-H", self.machine.url] if self.machine is not None and self.machine.url else []
        return [docker, *host, "exec", "-it", "-u", self.learner, "-w", WORKSPACE, "-e", f"PS1={prompt}",
                "-e", f"SOCKLAB_NODE={self.name}", self.container.id, "bash", "--norc", "-i"]

    def ps(self):
        """{pid: {"ppid", "stat", "args"}}: the node's processes as ps, run as an exec of its own, sees them."""
        table = {}
        for row in self.run(["ps", "-eo", "pid=,ppid=,stat=,args="], record=False).stdout.decode().splitlines():
            pid, ppid, stat, args = (row.split(None, 3) + [""])[:4]
            table[int(pid)] = {"ppid": int(ppid), "stat": stat, "args": args}
        return table

    def leftovers(self, *markers):
        """"PID STAT ARGS" of every zombie, and of every process whose command line holds a marker."""
        return [f"{pid} {p['stat']} {p['args']}" for pid, p in self.ps().items()
                if p["stat"].startswith("Z") or any(marker in p["args"] for marker in markers)]

    @contextmanager
    def squeezed(self, cpus):
        """The node limited to `cpus` CPUs (a CFS quota, e.g. 0.2) for the length of a `with` block."""
        self.container.update(cpu_period=100_000, cpu_quota=int(cpus * 100_000))
        try:
            yield self
        finally:
            self.container.update(cpu_quota=-1)

    # Faults
    def impair(self, delay=None, jitter=None, loss=None, rate=None):
        """Impair this node's outgoing packets (see Impairment.parse); replaces an earlier impairment."""
        spec = Impairment.parse(delay=delay, jitter=jitter, loss=loss, rate=rate)
        self.clear()
        fault = Fault.start(self, spec.argv())
        self.lab.timeline.add("fault-started", self.name, fault="impair", args=spec.argv()[1:])
        return fault

    @contextmanager
    def impaired(self, **impairment):
        """This node impaired for the length of a `with` block (see impair), cleared at the end."""
        self.impair(**impairment)
        try:
            yield self
        finally:
            self.clear()

    def clear(self):
        """Lift this node's impairment; returns what the impairment did."""
        lifted = [fault.stop() for fault in self._faults("impair")]
        if lifted:
            self.lab.timeline.add("fault-lifted", self.name, fault="impair")
        return lifted

    def pause(self):
        """Freeze every process of the node (the cgroup freezer): it answers nothing until unpause()."""
        self.lab.timeline.add("node-paused", self.name)
        self.container.pause()

    def unpause(self):
        """Let a paused node run again."""
        self.container.unpause()
        self.lab.timeline.add("node-resumed", self.name)

    def _drop_faults(self):
        """Remove this node's fault sidecars: they belong to a network namespace about to go."""
        for fault in self._faults():
            fault.container.remove(force=True)

    def _faults(self, kind=None):
        """This node's fault sidecars: on its own engine, beside it."""
        try:
            return Fault.find([self.engine], self.project, self.name, kind)
        except UNREACHABLE as exc:
            raise unreachable(self.machine_name, exc) from None

    def kill(self):
        """Kill the node's container; its faults go with its network namespace."""
        self._drop_faults()
        self.lab.timeline.add("node-killed", self.name)
        self.container.kill()

    def restart(self, timeout=30):
        """Start the node again (after kill, or restart it if running) and wait until it is ready."""
        self._drop_faults()
        self.lab.timeline.add("node-restarted", self.name)
        self.container = self.lab.backend.restart(self)
        self.lab.wait_ready(timeout, names=[self.name])

    def refresh(self):
        """Read the container's state again from the engine; returns the node."""
        self.container.reload()
        return self


@dataclass
class Capture:
    """A tcpdump running in a node (Node.captured); its file's bytes once stopped."""
    node: "Node"
    path: str
    process: "Process"
    pcap: bytes = b""
    stopped: bool = False

    def stop(self):
        if not self.stopped:
            self.stopped = True
            self.process.stop()
            self.pcap = self.node.run(["cat", self.path], record=False).stdout
        return self.pcap


class Process:
    """A program running in a node in a session of its own: read its output, wait for it, stop it (and all
    that it started in its session)."""

    def __init__(self, node, argv):
        self.node, self.argv = node, list(argv)
        self.ready = None  # whether it said it was ready, once Node.serve has waited for it
        self.workdir = None  # the directory it runs in, when it was given one of its own (a learner's program)
        self.pidfile = f"/tmp/socklab-spawn-{uuid.uuid4().hex[:12]}.pid"
        self.exec_id = node._exec(["setsid", "-w", "sh", "-c", IN_SESSION, "sh", self.pidfile, *self.argv])
        node.lab.timeline.add("program-started", node.name, command=command_text(self.argv))
        self.stdout, self.stderr = bytearray(), bytearray()
        self._changed = threading.Condition()
        self._done = False
        stream = node.engine.api.exec_start(self.exec_id, stream=True, demux=True)
        self._reader = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._reader.start()

    def _read(self, stream):
        try:
            for out, err in stream:
                with self._changed:
                    self.stdout += out or b""
                    self.stderr += err or b""
                    self._changed.notify_all()
        finally:
            self.node.lab.timeline.add("program-ended", self.node.name, command=command_text(self.argv))
            with self._changed:
                self._done = True
                self._changed.notify_all()

    def _failed(self):
        done = self.wait(10)
        return ProgramFailed(self.node.name, self.argv, done.exit_code, last_line(done.stderr))

    def expect(self, text, timeout=10, stream="stderr"):
        """Wait until the stream contains text (e.g. a server's `listening` line).

        ProgramFailed if the program ended without saying it; NotReady if it is still silent after timeout.
        """
        needle = text.encode() if isinstance(text, str) else text
        with self._changed:
            self._changed.wait_for(lambda: needle in getattr(self, stream) or self._done, timeout)
            if needle in getattr(self, stream):
                return
        if not self.running:
            raise self._failed()
        raise NotReady(self.argv, self.node.name, text, timeout, last_line(self.stderr))

    def line(self, prefix, timeout=10, stream="stderr"):
        """The first complete line of the stream that starts with prefix (e.g. a program's `ready PID...`)."""
        pattern = re.compile(rb"^" + re.escape(prefix.encode()) + rb"[^\n]*\n", re.MULTILINE)
        with self._changed:
            self._changed.wait_for(lambda: pattern.search(getattr(self, stream)) or self._done, timeout)
            match = pattern.search(getattr(self, stream))
        if match:
            return match.group().decode(errors="replace").rstrip("\n")
        if not self.running:
            raise self._failed()
        raise NotReady(self.argv, self.node.name, prefix, timeout, last_line(self.stderr))

    @property
    def running(self):
        """True until the program's output streams have closed."""
        return not self._done

    def wait(self, timeout=60) -> Completed:
        """Wait for the program to end and return its Completed; TimedOut if it is still running."""
        with self._changed:
            if not self._changed.wait_for(lambda: self._done, timeout):
                raise TimedOut(" ".join(self.argv), self.node.name, timeout)
        self._reader.join()
        with self.node.answering():
            code = self.node.engine.api.exec_inspect(self.exec_id)["ExitCode"]
        return Completed(self.node.name, self.argv, code, bytes(self.stdout), bytes(self.stderr))

    def result(self, timeout=60) -> dict:
        """Wait for the node program to end and return its JSON result; ProgramFailed if it failed."""
        return self.wait(timeout).result()

    def alive_after(self, seconds) -> bool:
        """True if the program still runs after seconds (False as soon as it ends)."""
        try:
            self.wait(seconds)
            return False
        except TimedOut:
            return True

    def finish(self, timeout=30) -> dict:
        """Stop the program if it still runs, then its JSON result (a sandbox's record of a learner's
        program, say)."""
        return (self.stop() if self.running else self.wait(timeout)).result()

    def stop(self, grace=5) -> Completed:
        """SIGTERM every process of the program's session, SIGKILL after grace seconds; return its Completed.
        The session is signalled even when the program has ended: what it left behind goes too."""
        if self.running:
            self.node.lab.timeline.add("program-stopped", self.node.name, command=command_text(self.argv),
                                       signal="TERM")
        self.node.run(["sh", "-c", SIGNAL_SESSION, self.pidfile, "TERM"], timeout=10, record=False)
        try:
            return self.wait(grace)
        except TimedOut:
            self.node.lab.timeline.add("program-stopped", self.node.name, command=command_text(self.argv),
                                       signal="KILL")
            self.node.run(["sh", "-c", SIGNAL_SESSION, self.pidfile, "KILL"], timeout=10, record=False)
            return self.wait(10)
