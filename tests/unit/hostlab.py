"""A lab whose one node is this host, for the unit tests of the lessons: node programs run as
`python3 -m nodes.X` from the project's root, observed with the host's own ps and /proc by the scenario's own
code, as a node's would be; every node name is this host, reached at the loopback's address."""
import subprocess
from contextlib import contextmanager
from pathlib import Path

from orchestrator.node import Completed, Node, program_argv
from orchestrator.watch.timeline import Timeline

ROOT = Path(__file__).resolve().parents[2]


class HostProcess:
    """A node program running here, read and stopped as orchestrator.node.Process reads and stops one in a
    node (SIGTERM, then its Completed)."""

    def __init__(self, argv):
        self.argv, self.done = argv, None
        self.popen = subprocess.Popen(argv, cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def line(self, prefix, timeout=10):
        for line in iter(self.popen.stderr.readline, ""):
            if line.startswith(prefix):
                return line.rstrip("\n")
        raise AssertionError(f"{self.argv} ended without a line starting {prefix!r}")

    def wait(self, timeout=60):
        if self.done is None:
            out, err = self.popen.communicate(timeout=timeout)
            self.done = Completed("host", self.argv, self.popen.returncode, out.encode(), err.encode())
        return self.done

    def result(self, timeout=60):
        return self.wait(timeout).result()

    def stop(self):
        if self.popen.poll() is None:
            self.popen.terminate()
        return self.wait(10)


class HostNode:
    """A node that is this host: programs run from the project's root; ps and /proc are the host's."""
    name, ip = "host", "127.0.0.1"
    ps = Node.ps

    def __init__(self):
        self.spawned = []

    def run(self, argv, timeout=60, user="", record=True):
        done = subprocess.run([str(word) for word in argv], cwd=ROOT, capture_output=True, timeout=timeout)
        return Completed(self.name, list(argv), done.returncode, done.stdout, done.stderr)

    def program(self, name, *args, timeout=60):
        return self.run(program_argv(name, args), timeout).result()

    def start(self, program, *args):
        self.spawned.append(HostProcess(program_argv(program, args)))
        return self.spawned[-1]

    @contextmanager
    def serve(self, program, *args, ready="listening"):
        process = self.start(program, *args)
        try:
            process.line(ready)
            yield process
        finally:
            process.stop()

    def leftovers(self, *markers):
        """The lesson's leftovers only: the host's other zombies are not its own."""
        return [row for row in Node.leftovers(self, *markers) if any(marker in row for marker in markers)]


class HostLab:
    def __init__(self):
        self.host = HostNode()
        self.timeline = Timeline()

    def node(self, name):
        return self.host

    def stop_spawned(self):
        for process in self.host.spawned:
            process.stop()

    def where(self):
        return {}

    def recorded(self, mark):
        return {"nodes": {"host": "127.0.0.1"}, "events": self.timeline.since(mark)}
