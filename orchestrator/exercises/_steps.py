"""Steps every exercise has: the program started (and, for a server, bound its port); nothing of it was
left running; the record of how it ended, told in one line."""
from orchestrator.i18n import _
from orchestrator.learner import leftovers
from orchestrator.result import Step, label


def ending(record):
    """How the learner's program ended, in words, from the sandbox's record."""
    if record is None:
        return _("still running")
    if record["timed_out"]:
        return _("stopped at the time limit ({seconds} s)").format(seconds=record["seconds"])
    if record["flooded"]:
        return _("stopped: printed {count} bytes").format(count=record["stdout_bytes"] + record["stderr_bytes"])
    if record["stopped"]:
        return _("running until the checker stopped it")
    if record["signal"]:
        return _("killed by signal {signal}").format(signal=record["signal"])
    tail = record["stderr"].strip().splitlines()[-1:] or [""]
    if tail[0]:
        return _("exited with status {status}: {error}").format(status=record["exit_code"], error=tail[0][:200])
    return _("exited with status {status}").format(status=record["exit_code"])


def started(running, port, proto="tcp"):
    """The step `starts`: the server bound its port within the time it had."""
    record = None if running.ready else running.finish()  # running: the learner's Process
    tcp = proto == "tcp"
    return Step(
        "starts", (_("the server starts and listens on {proto} port {port}") if tcp else
                   _("the server starts and binds on {proto} port {port}")).format(proto=proto, port=port),
        passed=running.ready,
        expected=(_("`python3 FILE {port}` listens on port {port} within 5 s") if tcp else
                  _("`python3 FILE {port}` is bound on port {port} within 5 s")).format(port=port),
        observed=_("bound to port {port}").format(port=port) if running.ready else
                 _("not bound: {ending}").format(ending=ending(record)),
        why=_("Every other step talks to it there."),
        facts={"port": port, "ready": running.ready, **({"record": record} if record else {})},
        hint="" if running.ready else _("Read the port from sys.argv[1], bind to all addresses ('' or '0.0.0.0') "
                                        "and listen(); run the file yourself first: `socklab run server FILE PORT`."))


def survived(running, key="survives"):
    """The step `survives`: the server was still running a second after the checker was done with it (a
    crash caused by the last case takes a moment to be reported)."""
    alive = running.alive_after(1.0)
    record = running.finish()
    return Step(
        key, _("the server is still serving at the end"),
        passed=alive,
        expected=_("every client's trouble stays with that client: the server runs until it is stopped"),
        observed=_("still running") if alive else ending(record),
        why=_("A server serves many clients over a long time: one peer's error must end one connection, not the "
              "process."),
        facts={"alive": alive, "record": record},
        hint="" if alive else _("Catch errors per connection (try/except around one client's loop) and log them; "
                                "a client that closes mid-message makes recv() return b'', which is not a crash."))


def clean(nodes):
    """The step `nothing-left`: no process of the learner's is left on any node it ran on."""
    left = {node.name: rows for node in nodes if (rows := leftovers(node))}
    return Step(
        "nothing-left", _("nothing of the program is left running"),
        passed=not left,
        expected=_("after the check, no process of the program's user on {nodes}").format(
            nodes=", ".join(n.name for n in nodes)),
        observed=_("none") if not left else _("; ").join(f"{name}: {rows}" for name, rows in left.items()),
        why=_("The checker kills every process of the sandboxed user when the program ends or is stopped."),
        facts={"left": left})


def after_the_end(steps, timing, record):
    """Hints that follow the evidence: when the program ended by itself during the cases, the step it ended
    in says so (with its last stderr line), and a later failed step blames that ending, not its own case.
    timing: {step key: [[start, end], …]}, the wall-clock spans of its case (a checker's `timing`)."""
    ended_at = record and record.get("ended_at")
    if not ended_at:
        return steps
    timed = [(step, timing[step.key]) for step in steps if step.key in timing]  # steps: all, for their numbers
    during = next((step for step, spans in timed if any(start <= ended_at <= end for start, end in spans)), None)
    said = ending(record)
    for step, spans in timed:
        if step.passed:
            continue
        if step is during:
            ended_here = _("The server ended during this step: {ending}.").format(ending=said)
            step.hint = f"{step.hint} {ended_here}" if step.hint else ended_here
        elif spans[0][0] > ended_at:
            when = _(", during step “{step}”").format(step=label(steps, during)) if during else ""
            step.hint = _("The server had already ended ({ending}){when}: this step could not test it. Fix "
                          "that first.").format(ending=said, when=when)
    return steps


def check_server(lab, program, progress, name, checker, args, steps_from, about="", **serving):
    """Every server exercise: the learner's program serves on `server` (serving: options of
    LearnerProgram.serving, e.g. usage=True), nodes.checkers.<checker> drives it from client1, steps_from(its
    result, the sandbox's record) judges; then whether it survived, and that nothing is left. `about`
    (translated by the caller) ends the progress line of the cases."""
    server, client = lab.node("server"), lab.node("client1")
    progress(_("{exercise}: starting {file} on server").format(exercise=name, file=program.path.name))
    port = lab.exercise_port()
    with program.serving(server, port, **serving) as running:
        steps = [started(running, port)]
        if running.ready:
            progress(_("{exercise}: the cases, from client1{about}").format(exercise=name, about=about))
            got = client.program(f"checkers.{checker}", "server", port, *args, timeout=240)
            lasted = survived(running)  # waits a second: an end in the last case is reported by then
            record = lasted.facts["record"]
            steps = after_the_end(steps + steps_from(got, record), got.get("timing", {}), record) + [lasted]
    return steps + [clean([server])]
