"""A learner's programs left running in a node: start one detached, list them, stop them.

    python3 -m nodes.programs start [--cwd DIR] -- CMD ARGS...   → {"id", "pid", "output"}
    python3 -m nodes.programs list                               → {"programs": [{"id", "argv", "state", ...}]}
    python3 -m nodes.programs stop [ID]                          → {"stopped": [ids]}, or {"stopped": [],
                                                                   "refused": "unknown" | "ended", ...}

Each program gets /var/lib/socklab/programs/ID/: `argv.json`, `output` (its stdout and stderr, as they
come), `pid`, and `exit` once it has ended. A keeper process, in a session of its own, starts the program in
another session, waits for it and writes its exit status, so `list` can say how it ended; `stop` signals
the program's whole session (SIGTERM, then SIGKILL after 3 s). `stop ID` of a program that is not there,
or has already ended, stops nothing and says why in fields, not in a sentence: `"refused": "unknown"` with
`id` and the `known` ids, or `"refused": "ended"` with the `program` as `list` shows it; the orchestrator
says it in the user's language. The orchestrator's `socklab exec --detach`, `logs`, `stop` and `programs`
call this as the learner's user.
"""
import argparse
import json
import os
import signal
import subprocess
import time
from pathlib import Path

from nodes.lib import program
from nodes.lib.layout import PROGRAMS

GRACE = 3.0


def folder(pid_or_id):
    return Path(PROGRAMS) / str(pid_or_id)


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def describe(path):
    """What is known of one program: its argv, whether it runs, how it ended."""
    argv = json.loads((path / "argv.json").read_text())
    pid = int((path / "pid").read_text()) if (path / "pid").exists() else None
    if (path / "exit").exists():
        code = int((path / "exit").read_text())
        state = f"exited {code}" if code >= 0 else f"killed by signal {-code}"
    else:
        code, state = None, "running" if pid and alive(pid) else "gone"
    return {"id": int(path.name), "argv": argv, "pid": pid, "state": state, "exit_code": code,
            "started": round(path.stat().st_mtime, 3), "output": str(path / "output")}


def keep(path, argv, cwd):
    """The keeper: detached from the caller's streams, it runs the program and records how it ended."""
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    output = os.open(path / "output", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(devnull, 0)
    os.dup2(output, 1)
    os.dup2(output, 2)
    try:
        child = subprocess.Popen(argv, cwd=cwd, start_new_session=True)
    except OSError as exc:
        os.write(2, f"socklab: cannot start {argv[0]}: {exc}\n".encode())
        (path / "exit").write_text("127")
        os._exit(0)
    (path / "pid").write_text(str(child.pid))
    code = child.wait()
    (path / "exit").write_text(str(code))
    os._exit(0)


def start(args):
    root = Path(PROGRAMS)
    number = max((int(p.name) for p in root.iterdir() if p.name.isdigit()), default=0) + 1
    path = folder(number)
    path.mkdir()
    (path / "argv.json").write_text(json.dumps(args.argv))
    if os.fork() == 0:
        keep(path, args.argv, args.cwd)
    deadline = time.monotonic() + 5
    while not ((path / "pid").exists() or (path / "exit").exists()) and time.monotonic() < deadline:
        time.sleep(0.005)  # the keeper writes the pid right after the fork: no more than a few milliseconds
    return describe(path)


def programs():
    root = Path(PROGRAMS)
    return sorted((describe(p) for p in root.iterdir() if p.name.isdigit()), key=lambda d: d["id"])


def stop(args):
    known = programs()
    if args.id is not None:
        chosen = [p for p in known if p["id"] == args.id]
        if not chosen:
            return {"stopped": [], "refused": "unknown", "id": args.id, "known": [p["id"] for p in known]}
        if chosen[0]["state"] != "running":
            return {"stopped": [], "refused": "ended", "program": chosen[0]}
    else:
        chosen = [p for p in known if p["state"] == "running"]
    for p in chosen:
        try:
            os.killpg(p["pid"], signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + GRACE
    while any(alive(p["pid"]) for p in chosen) and time.monotonic() < deadline:
        time.sleep(0.02)
    for p in chosen:
        if alive(p["pid"]):
            try:
                os.killpg(p["pid"], signal.SIGKILL)
            except ProcessLookupError:
                pass
    return {"stopped": [p["id"] for p in chosen]}


def run(argv):
    parser = argparse.ArgumentParser(prog="nodes.programs")
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("start")
    p.add_argument("--cwd", default="/workspace")
    p.add_argument("argv", nargs=argparse.REMAINDER)
    p = commands.add_parser("list")
    p = commands.add_parser("stop")
    p.add_argument("id", type=int, nargs="?")
    args = parser.parse_args(argv)
    if args.command == "start":
        args.argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
        if not args.argv:
            raise program.ProgramError("start needs a command: start -- CMD ARGS...")
        return start(args)
    if args.command == "list":
        return {"programs": programs()}
    return stop(args)


if __name__ == "__main__":
    program.main(run)
