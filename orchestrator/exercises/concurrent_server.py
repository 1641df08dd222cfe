"""concurrent-server: the learner's line server answers many clients at once, whatever one of them does."""
from orchestrator.exercises import _steps
from orchestrator.result import Step

NAME = "concurrent-server"
ROLE = "server"
SUMMARY = "an upper-casing line server: an idle connection, 8 clients at once, a client that vanishes"
LINES, PAUSE_MS, CLIENTS, RATIO = 50, 20, 8, 1.5

HINTS = {
    "one-at-a-time": "One client at a time: a blocking accept-then-serve loop waits on the silent connection and "
                     "nobody else is answered. Serve each connection in a thread (socketserver.ThreadingTCPServer) "
                     "or multiplex them with selectors.",
    "wrong": "A reply differs from the line upper-cased: read whole lines (a recv() may hold part of one, or "
             "several) and reply to each.",
    "vanish": "A client that sent half a line and vanished disturbed the others: recv() returning b'' ends that "
              "connection only; drop its half line and carry on.",
    "closed": "The server closed the connection instead of replying: an exception in its handler? Run it with "
              "`socklab run server FILE PORT` and watch its stderr.",
}


def told(outcome):
    failure = outcome["failure"]
    if not failure:
        return f"{outcome['right']}/{outcome['lines']} lines right in {outcome['seconds']} s"
    what = {"no-reply": "no reply", "wrong": f"got {failure.get('got')!r}", "refused": "could not connect"}.get(
        failure["verdict"], "the connection was closed")
    return f"{outcome['right']}/{outcome['lines']} lines right; line {failure['line'] + 1}: {what}"


def alone_step(alone):
    bad = next((o for o in (alone["before"], alone["after"]) if o["failure"]), None)
    return Step("alone", "1 one client alone", passed=bad is None,
                expected=f"{LINES} lines, {PAUSE_MS} ms apart, each answered upper-cased (once before the crowd, "
                         "once after)",
                observed=f"before: {told(alone['before'])}; after: {told(alone['after'])}",
                why="The time one client takes alone is what the crowd is measured against.",
                facts=alone, hint="" if not bad else HINTS["wrong" if bad["failure"]["verdict"] == "wrong" else "closed"])


def crowd_step(crowd):
    clients = crowd["clients"]
    failed = [c for c in clients if c["failure"]]
    limit = round(RATIO * crowd["alone_seconds"], 2)
    in_time = crowd["seconds"] <= limit
    right = sum(c["right"] for c in clients)
    verdicts = {c["failure"]["verdict"] for c in failed}
    hint = "" if not failed and in_time else HINTS["wrong"] if verdicts == {"wrong"} else HINTS["one-at-a-time"]
    return Step("crowd", f"2 {CLIENTS} clients at once beside a silent connection",
                passed=not failed and in_time,
                expected=f"with one connection open and silent, {CLIENTS} clients of {LINES} lines each all answered "
                         f"within {RATIO}× the time one client takes alone ({limit} s)",
                observed=f"{right}/{CLIENTS * LINES} lines right in {crowd['seconds']} s"
                         + (f"; {len(failed)} client(s) failed, e.g. {told(failed[0])}" if failed else ""),
                why="Clients spend most of their time waiting; a concurrent server overlaps those waits, so eight "
                    "take about as long as one.",
                facts={**crowd, "limit_seconds": limit,
                       "ratio": round(crowd["seconds"] / crowd["alone_seconds"], 2) if crowd["alone_seconds"] else None},
                hint=hint)


def vanish_step(outcome):
    return Step("half-line-vanish", "3 a client sends half a line and vanishes",
                passed=outcome["failure"] is None,
                expected=f"a client in the middle of its {LINES} lines is not disturbed when another sends "
                         "'half a li' and closes",
                observed=told(outcome), why="A peer can leave at any byte; the others must not notice.",
                facts=outcome, hint="" if outcome["failure"] is None else HINTS["vanish"])


def check(lab, program, progress):
    return _steps.check_server(
        lab, program, progress, NAME, "upper", ("--lines", LINES, "--pause-ms", PAUSE_MS, "--clients", CLIENTS),
        lambda got: [alone_step(got["alone"]), crowd_step(got["crowd"]), vanish_step(got["vanish"])],
        about=f": one client, then {CLIENTS} at once (about 5 s)")
