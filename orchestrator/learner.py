"""A learner's own Python file, checked on the host, then run on a node by `nodes.sandbox`: as a user of
its own, under limits, with everything it started killed at the end.
"""
import io
import tarfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from nodes.lib.layout import SANDBOX_UID
from orchestrator.errors import BadProgram, NotReady, ProgramFailed, TimedOut
from orchestrator.i18n import _

MAX_SOURCE = 1 << 20


class LearnerProgram:
    """A Python file on the host, read and compiled once: BadProgram (one line) if it cannot be."""

    def __init__(self, path):
        self.path = Path(path)
        if not self.path.exists():
            raise BadProgram(path, _("no such file"))
        if not self.path.is_file():
            raise BadProgram(path, _("not a file"))
        if self.path.stat().st_size > MAX_SOURCE:
            raise BadProgram(path, _("larger than {limit} bytes: is it the program you meant?").format(
                limit=MAX_SOURCE))
        self.source = self.path.read_bytes()
        try:
            compile(self.source, str(self.path), "exec", dont_inherit=True)
        except SyntaxError as exc:
            # exc.msg is Python's own words
            reason = _("line {line}: {error} (not Python that parses)").format(line=exc.lineno, error=exc.msg) \
                if exc.lineno else _("{error} (not Python that parses)").format(error=exc.msg)
            raise BadProgram(path, reason) from None
        except ValueError as exc:
            raise BadProgram(path, _("{error} (not a Python source file)").format(error=exc)) from None

    def install(self, node, extra=None):
        """Copy the file (and extra {name: bytes}) into a fresh directory of the node that the sandbox user
        owns; the directory's path."""
        directory = f"/tmp/socklab-check-{uuid.uuid4().hex[:10]}"
        archive = io.BytesIO()
        with tarfile.open(fileobj=archive, mode="w") as tar:
            entries = {self.path.name: self.source, **(extra or {})}
            folder = tarfile.TarInfo(directory.lstrip("/"))
            folder.type, folder.mode, folder.uid, folder.gid = tarfile.DIRTYPE, 0o755, SANDBOX_UID, SANDBOX_UID
            folder.mtime = time.time()
            tar.addfile(folder)
            for name, content in entries.items():
                info = tarfile.TarInfo(f"{folder.name}/{name}")
                info.size, info.mode, info.uid, info.gid = len(content), 0o644, SANDBOX_UID, SANDBOX_UID
                info.mtime = time.time()
                tar.addfile(info, io.BytesIO(content))
        node.container.put_archive("/", archive.getvalue())
        return directory

    def start(self, node, *args, listen=None, limit_s=30, extra=None, watch=False, stdout_file=None,
              unbuffered=False):
        """Start the program on node under the sandbox (in a fresh directory holding it and extra); a
        Running. watch: the sandbox also records output lines and the process table, timed; stdout_file:
        its stdout is that file of the directory (readable with read_file even after the node is killed);
        unbuffered: PYTHONUNBUFFERED, for output that must leave at once (a process killed loses its buffer)."""
        directory = self.install(node, extra)
        options = ["--limit-s", limit_s, "--workdir", directory] + (["--listen", listen] if listen else []) \
            + (["--watch"] if watch else []) + (["--stdout-file", stdout_file] if stdout_file else []) \
            + (["--unbuffered"] if unbuffered else [])
        return Running(node.start("sandbox", *options, "--", f"{directory}/{self.path.name}", *args), directory)

    @contextmanager
    def serving(self, node, port, *args, proto="tcp", limit_s=120, ready_s=5):
        """The program as a server (`python3 FILE PORT ARGS...`) for the length of a `with` block: a Running
        whose `ready` says whether it bound the port within ready_s, and whose `record` (once the block
        ends) is the sandbox's."""
        running = self.start(node, port, *args, listen=f"{proto}:{port}", limit_s=limit_s)
        try:
            running.await_ready(ready_s)
            yield running
        finally:
            running.finish()


class Running:
    """A learner's program under the sandbox, in its directory on the node: ready or not, and its record
    once finished."""

    def __init__(self, process, directory):
        self.process, self.directory, self.ready, self.record = process, directory, False, None

    def await_ready(self, seconds):
        try:
            self.process.expect("listening", timeout=seconds)
            self.ready = True
        except (NotReady, ProgramFailed):  # still not bound, or ended: the record says which
            self.ready = False

    def alive_after(self, seconds):
        """True if the program still runs after seconds (the sandbox ends as soon as it does)."""
        try:
            self.process.wait(seconds)
            return False
        except TimedOut:
            return True

    def wait(self, seconds):
        """Wait for the program to end by itself (the sandbox enforces its limit); the sandbox's record."""
        self.record = self.process.wait(seconds).result()
        return self.record

    def finish(self):
        """Stop it if it still runs; the sandbox's record of it."""
        if self.record is None:
            completed = self.process.stop() if self.process.running else self.process.wait(30)
            self.record = completed.result()
        return self.record


def leftovers(node):
    """"PID STAT ARGS" of every process the sandbox user started still on the node (should be none), by
    real uid: a setuid program it ran counts too."""
    listing = node.run(["ps", "-U", str(SANDBOX_UID), "-o", "pid=,stat=,args="]).stdout.decode()  # real uid
    return [line.strip() for line in listing.splitlines() if line.strip()]


def read_file(node, path):
    """The bytes of a file in the node, also when its container has been killed (`docker cp` works on a
    stopped container)."""
    stream, unused_stat = node.container.get_archive(path)
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        return tar.extractfile(tar.getmembers()[0]).read()
