"""A learner's own Python file, checked on the host, then run on a node by `nodes.sandbox`: as a user of
its own, under limits, with everything it started killed at the end. Running, it is a Process like any
node program's; its result() is the sandbox's record of it.
"""
import io
import tarfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from nodes.lib.layout import SANDBOX_UID
from orchestrator.errors import BadProgram, LabError
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
        try:
            self.source = self.path.read_bytes()
        except OSError as exc:
            raise BadProgram(path, _("cannot be read: {error}").format(error=exc.strerror or exc)) from None
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

    def sandboxed(self, node, *args, listen=None, limit_s=30, extra=None, watch=False, usage=False,
                  stdout_file=None, unbuffered=False, nofile=None, fsize_mib=None):
        """The nodes.sandbox arguments that run the program on node (installed in a fresh directory with
        extra) with args, and that directory. watch: the sandbox also records output lines and the process
        table, timed; usage: its threads, memory and CPU over time; stdout_file: its stdout is that file of
        the directory (readable with read_file even after the node is killed); unbuffered: PYTHONUNBUFFERED,
        for output that must leave at once (a process killed loses its buffer); nofile, fsize_mib: the open
        files and the file size it may have, where an exercise needs more than the sandbox's defaults."""
        directory = self.install(node, extra)
        flags = {"--watch": watch, "--usage": usage, "--unbuffered": unbuffered}
        valued = {"--listen": listen, "--stdout-file": stdout_file, "--nofile": nofile, "--fsize-mib": fsize_mib}
        options = ["--limit-s", limit_s, "--workdir", directory] + [flag for flag, on in flags.items() if on] \
            + [word for option, value in valued.items() if value for word in (option, value)]
        return [*options, "--", f"{directory}/{self.path.name}", *args], directory

    def start(self, node, *args, **options):
        """The program started on node under the sandbox: a Process whose result() is the sandbox's record
        and whose workdir is its directory (options: see sandboxed())."""
        argv, directory = self.sandboxed(node, *args, **options)
        process = node.start("sandbox", *argv)
        process.workdir = directory
        return process

    @contextmanager
    def serving(self, node, port, *args, proto="tcp", limit_s=120, ready_s=5, **options):
        """The program as a server (`python3 FILE PORT ARGS...`) for the length of a `with` block: a Process
        whose `ready` says whether it bound the port within ready_s (not binding it is a finding, not an
        error), stopped at the end. options: sandboxed()'s (usage, nofile, fsize_mib)."""
        argv, directory = self.sandboxed(node, port, *args, listen=f"{proto}:{port}", limit_s=limit_s, **options)
        with node.serve("sandbox", *argv, timeout=ready_s, strict=False) as process:
            process.workdir = directory
            yield process


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


# every folder of a node anyone may write in (the detached programs' records too): where a learner's files can be
WRITABLE = ("/tmp", "/var/tmp", "/dev/shm", "/dev/mqueue", "/run/lock", "/var/lib/socklab/programs")


def scrub(node):
    """Leave nothing of any learner's program on node: kill every process of the sandbox user (again, while
    any is left: a fork loop refills) and remove every file it owns in the places it could write (WRITABLE,
    the node image's world-writable folders). LabError when a process of the user is left; how many files
    went, for the log. (A port it left in TIME_WAIT is not the next program's: ports.EXERCISE.)"""
    uid = SANDBOX_UID
    script = (f"for i in $(seq 50); do pkill -KILL -U {uid} || break; sleep 0.05; done; "
              f"find {' '.join(WRITABLE)} -xdev -user {uid} -prune -print -exec rm -rf -- {{}} + 2>/dev/null; "
              f"! pgrep -U {uid} >/dev/null")
    done = node.run(["sh", "-c", script], timeout=60)
    if done.exit_code != 0:
        raise LabError(_("node {node}: a process of a learner's program survived every kill").format(node=node.name))
    return len(done.stdout.splitlines())
