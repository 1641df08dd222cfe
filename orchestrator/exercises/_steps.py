"""Steps every exercise has: the program started (and, for a server, bound its port); nothing of it was
left running; the record of how it ended, told in one line."""
from nodes.lib import ports
from orchestrator.learner import leftovers
from orchestrator.result import Step


def ending(record):
    """How the learner's program ended, in words, from the sandbox's record."""
    if record is None:
        return "still running"
    if record["timed_out"]:
        return f"stopped at the time limit ({record['seconds']} s)"
    if record["flooded"]:
        return f"stopped: printed {record['stdout_bytes'] + record['stderr_bytes']} bytes"
    if record["stopped"]:
        return "running until the checker stopped it"
    if record["signal"]:
        return f"killed by signal {record['signal']}"
    tail = record["stderr"].strip().splitlines()[-1:] or [""]
    return f"exited with status {record['exit_code']}" + (f": {tail[0][:200]}" if tail[0] else "")


def started(running, port, proto="tcp"):
    """The step `starts`: the server bound its port within the time it had."""
    record = None if running.ready else running.finish()
    return Step(
        "starts", f"0 the server starts and {'listens' if proto == 'tcp' else 'binds'} on {proto} port {port}",
        passed=running.ready,
        expected=f"`python3 FILE {port}` {'listens' if proto == 'tcp' else 'is bound'} on port {port} within 5 s",
        observed=f"bound to port {port}" if running.ready else f"not bound: {ending(record)}",
        why="Every other step talks to it there.",
        facts={"port": port, "ready": running.ready, **({"record": record} if record else {})},
        hint="" if running.ready else "Read the port from sys.argv[1], bind to all addresses ('' or '0.0.0.0') "
                                      "and listen(); run the file yourself first: `socklab run server FILE PORT`.")


def survived(running, key="survives"):
    """The step `survives`: the server was still running a second after the checker was done with it (a
    crash caused by the last case takes a moment to be reported)."""
    alive = running.alive_after(1.0)
    record = running.finish()
    return Step(
        key, "the server is still serving at the end",
        passed=alive,
        expected="every client's trouble stays with that client: the server runs until it is stopped",
        observed="still running" if alive else ending(record),
        why="A server serves many clients over a long time: one peer's error must end one connection, not the "
            "process.",
        facts={"alive": alive, "record": record},
        hint="" if alive else "Catch errors per connection (try/except around one client's loop) and log them; "
                              "a client that closes mid-message makes recv() return b'', which is not a crash.")


def clean(nodes):
    """The step `nothing-left`: no process of the learner's is left on any node it ran on."""
    left = {node.name: rows for node in nodes if (rows := leftovers(node))}
    return Step(
        "nothing-left", "nothing of the program is left running",
        passed=not left,
        expected="after the check, no process of the program's user on " + ", ".join(n.name for n in nodes),
        observed="none" if not left else "; ".join(f"{name}: {rows}" for name, rows in left.items()),
        why="The checker kills every process of the sandboxed user when the program ends or is stopped.",
        facts={"left": left})


def check_server(lab, program, progress, name, checker, args, steps_from, about=""):
    """Every server exercise: the learner's program serves on `server`, nodes.checkers.<checker> drives it
    from client1, steps_from(its result) judges; then whether it survived, and that nothing is left."""
    server, client = lab.node("server"), lab.node("client1")
    progress(f"{name}: starting {program.path.name} on server")
    with program.serving(server, ports.EXERCISE) as running:
        steps = [started(running, ports.EXERCISE)]
        if running.ready:
            progress(f"{name}: the cases, from client1{about}")
            got = client.program(f"checkers.{checker}", "server", ports.EXERCISE, *args, timeout=240)
            steps += steps_from(got) + [survived(running)]
    return steps + [clean([server])]
