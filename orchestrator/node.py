"""A lab node: one container of the project, driven through the Docker SDK's exec API."""
import json
import re
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

import docker.errors

from orchestrator.errors import LabError
from orchestrator.fault import Fault, Impairment

SERVICE_LABEL, NUMBER_LABEL = "com.docker.compose.service", "com.docker.compose.container-number"
TIMED_OUT = 124  # the exit status of timeout(1), which bounds every run() inside the node


@dataclass(frozen=True)
class Completed:
    """A finished program: its exit code and its exact output streams."""
    argv: list
    exit_code: int
    stdout: bytes
    stderr: bytes


class Node:
    """A container of the lab, named like `server`, `client1` or `worker3`."""

    def __init__(self, lab, container, name=None):
        self.lab = lab
        self.container = container
        self.service = container.labels.get(SERVICE_LABEL, name)
        self.number = int(container.labels.get(NUMBER_LABEL, 1))
        self._name = name

    @property
    def client(self):
        return self.lab.client

    @property
    def project(self):
        return self.lab.project

    @property
    def name(self):
        if self._name:
            return self._name
        return self.service if self.service == "server" else f"{self.service}{self.number}"

    @property
    def ip(self):
        networks = self.container.attrs["NetworkSettings"]["Networks"]
        return next((n["IPAddress"] for n in networks.values() if n.get("IPAddress")), None)

    @property
    def health(self):
        state = self.container.attrs["State"]
        return state.get("Health", {}).get("Status") or state["Status"]

    @property
    def started_at(self):
        text = self.container.attrs["State"]["StartedAt"]
        return datetime.fromisoformat(text[:26].rstrip("Z") + "+00:00").astimezone(timezone.utc)

    def __repr__(self):
        return f"Node({self.name})"

    def _exec(self, argv, **options):
        try:
            return self.client.api.exec_create(self.container.id, argv, stdout=True, stderr=True, **options)["Id"]
        except docker.errors.APIError as exc:
            raise LabError(f"cannot run {argv[0]} on {self.name}: {exc.explanation or exc}") from None

    def run(self, argv, timeout=60):
        """Run argv in the node and wait; Completed with exact stdout and stderr. Raises LabError on timeout."""
        exec_id = self._exec(["timeout", "-k", "2", str(timeout), *argv])
        stdout, stderr = self.client.api.exec_start(exec_id, demux=True)
        code = self.client.api.exec_inspect(exec_id)["ExitCode"]
        if code == TIMED_OUT:
            raise LabError(f"{' '.join(argv)} on {self.name} did not finish within {timeout} s")
        return Completed(list(argv), code, stdout or b"", stderr or b"")

    def program(self, name, *args, timeout=60):
        """Run node program `nodes.<name>` and return its JSON result; its error line becomes a LabError."""
        done = self.run(["python3", "-m", f"nodes.{name}", *map(str, args)], timeout=timeout)
        if done.exit_code:
            error = done.stderr.decode(errors="replace").strip().splitlines()
            raise LabError(f"nodes.{name} on {self.name} failed ({done.exit_code}): {error[-1] if error else ''}")
        return json.loads(done.stdout)

    def ps(self):
        """{pid: {"ppid", "stat", "args"}}: the node's processes as ps, run as an exec of its own, sees them."""
        table = {}
        for row in self.run(["ps", "-eo", "pid=,ppid=,stat=,args="]).stdout.decode().splitlines():
            pid, ppid, stat, args = (row.split(None, 3) + [""])[:4]
            table[int(pid)] = {"ppid": int(ppid), "stat": stat, "args": args}
        return table

    def leftovers(self, *markers):
        """"PID STAT ARGS" of every zombie, and of every process whose command line holds a marker."""
        return [f"{pid} {p['stat']} {p['args']}" for pid, p in self.ps().items()
                if p["stat"].startswith("Z") or any(marker in p["args"] for marker in markers)]

    def spawn(self, argv):
        """Start argv in the background in its own session; see Process. The lab remembers it (stop_spawned)."""
        process = Process(self, argv)
        self.lab.spawned.append(process)
        return process

    # Faults
    def impair(self, delay=None, jitter=None, loss=None, rate=None):
        """Impair this node's outgoing packets (see Impairment.parse); replaces an earlier impairment."""
        spec = Impairment.parse(delay=delay, jitter=jitter, loss=loss, rate=rate)
        self.clear()
        return Fault.start(self, spec.argv())

    def clear(self):
        """Lift this node's impairment; returns what the impairment did."""
        return [fault.stop() for fault in Fault.find(self.client, self.project, self.name, "impair")]

    def pause(self):
        self.container.pause()

    def unpause(self):
        self.container.unpause()

    def _drop_faults(self):
        """Remove this node's fault sidecars: they belong to a network namespace about to go."""
        for fault in Fault.find(self.client, self.project, self.name):
            fault.container.remove(force=True)

    def kill(self):
        """Kill the node's container; its faults go with its network namespace."""
        self._drop_faults()
        self.container.kill()

    def restart(self, timeout=30):
        """Start the node again (after kill, or restart it if running) and wait for it to be healthy."""
        self._drop_faults()
        self.container.restart(timeout=2)
        self.lab.wait_healthy(timeout, names=[self.name])

    def refresh(self):
        self.container.reload()
        return self


class Process:
    """A program running in a node in a session of its own: read its output, wait for it, stop it (and all
    that it started in its session)."""

    def __init__(self, node, argv):
        self.node, self.argv = node, list(argv)
        self.pidfile = f"/tmp/socklab-spawn-{uuid.uuid4().hex[:12]}.pid"
        script = 'p=$1; shift; echo $$ > "$p"; exec "$@"'
        self.exec_id = node._exec(["setsid", "-w", "sh", "-c", script, "sh", self.pidfile, *self.argv])
        self.stdout, self.stderr = bytearray(), bytearray()
        self._changed = threading.Condition()
        self._done = False
        stream = node.client.api.exec_start(self.exec_id, stream=True, demux=True)
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
            with self._changed:
                self._done = True
                self._changed.notify_all()

    def expect(self, text, timeout=10, stream="stderr"):
        """Wait until the stream contains text (e.g. a server's `listening` line). Raises LabError if not."""
        needle = text.encode() if isinstance(text, str) else text
        with self._changed:
            if self._changed.wait_for(lambda: needle in getattr(self, stream) or self._done, timeout) \
                    and needle in getattr(self, stream):
                return
        tail = bytes(self.stderr).decode(errors="replace").strip().splitlines()[-1:]
        raise LabError(f"{self.argv[0]} on {self.node.name} did not say {text!r} within {timeout} s {tail}")

    def line(self, prefix, timeout=10, stream="stderr"):
        """The first complete line of the stream that starts with prefix (e.g. a program's `ready PID...`)."""
        pattern = re.compile(rb"^" + re.escape(prefix.encode()) + rb"[^\n]*\n", re.MULTILINE)
        with self._changed:
            self._changed.wait_for(lambda: pattern.search(getattr(self, stream)) or self._done, timeout)
            match = pattern.search(getattr(self, stream))
        if not match:
            raise LabError(f"{self.argv[0]} on {self.node.name} wrote no line starting {prefix!r} within {timeout} s")
        return match.group().decode(errors="replace").rstrip("\n")

    @property
    def running(self):
        return not self._done

    def wait(self, timeout=60):
        """Wait for the program to end and return its Completed."""
        with self._changed:
            if not self._changed.wait_for(lambda: self._done, timeout):
                raise LabError(f"{' '.join(self.argv)} on {self.node.name} still running after {timeout} s")
        self._reader.join()
        code = self.node.client.api.exec_inspect(self.exec_id)["ExitCode"]
        return Completed(self.argv, code, bytes(self.stdout), bytes(self.stderr))

    def stop(self, grace=5):
        """SIGTERM every process of the program's session, SIGKILL after grace seconds; return its Completed."""
        signal_session = 'while [ ! -s "$0" ]; do sleep 0.01; done; pkill -"$1" -s "$(cat "$0")"; true'
        self.node.run(["sh", "-c", signal_session, self.pidfile, "TERM"], timeout=10)
        try:
            return self.wait(grace)
        except LabError:
            self.node.run(["sh", "-c", signal_session, self.pidfile, "KILL"], timeout=10)
            return self.wait(10)
