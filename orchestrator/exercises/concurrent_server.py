"""concurrent-server: the learner's line server answers many clients at once, whatever one of them does."""
from orchestrator.exercises import _steps
from orchestrator.i18n import N_, _
from orchestrator.result import Step

NAME = "concurrent-server"
ROLE = "server"
SUMMARY = N_("an upper-casing line server: an idle connection, 8 clients at once, a client that vanishes")
LINES, PAUSE_MS, CLIENTS, RATIO = 50, 20, 8, 1.5

HINTS = {
    "one-at-a-time": N_("One client at a time: a blocking accept-then-serve loop waits on the silent connection "
                        "and nobody else is answered. Serve each connection in a thread "
                        "(socketserver.ThreadingTCPServer) or multiplex them with selectors."),
    "wrong": N_("A reply differs from the line upper-cased: read whole lines (a recv() may hold part of one, or "
                "several) and reply to each."),
    "vanish": N_("A client that sent half a line and vanished disturbed the others: recv() returning b'' ends that "
                 "connection only; drop its half line and carry on."),
    "closed": N_("The server closed the connection instead of replying: an exception in its handler? Run it with "
                 "`socklab run server FILE PORT` and watch its stderr."),
}


def told(outcome):
    failure = outcome["failure"]
    if not failure:
        return _("{right}/{lines} lines right in {seconds} s").format(right=outcome["right"], lines=outcome["lines"],
                                                                     seconds=outcome["seconds"])
    what = {"no-reply": _("no reply"), "wrong": _("got {reply}").format(reply=repr(failure.get("got"))),
            "refused": _("could not connect")}.get(failure["verdict"], _("the connection was closed"))
    return _("{right}/{lines} lines right; line {line}: {failure}").format(
        right=outcome["right"], lines=outcome["lines"], line=failure["line"] + 1, failure=what)


def alone_step(alone, lines=LINES, pause=PAUSE_MS):
    """The step `alone`: one client's lines, before the crowd and after it, all answered right."""
    bad = next((o for o in (alone["before"], alone["after"]) if o["failure"]), None)
    return Step("alone", _("one client alone"), passed=bad is None,
                expected=_("{lines} lines, {pause} ms apart, each answered upper-cased (once before the crowd, "
                           "once after)").format(lines=lines, pause=pause),
                observed=_("before: {before}; after: {after}").format(before=told(alone["before"]),
                                                                       after=told(alone["after"])),
                why=_("The time one client takes alone is what the crowd is measured against."),
                facts=alone,
                hint="" if not bad else _(HINTS["wrong" if bad["failure"]["verdict"] == "wrong" else "closed"]))


def crowd_step(crowd):
    clients = crowd["clients"]
    failed = [c for c in clients if c["failure"]]
    limit = round(RATIO * crowd["alone_seconds"], 2)
    in_time = crowd["seconds"] <= limit
    right = sum(c["right"] for c in clients)
    verdicts = {c["failure"]["verdict"] for c in failed}
    key = "wrong" if verdicts == {"wrong"} else "one-at-a-time"
    hint = "" if not failed and in_time else _(HINTS[key])
    return Step("crowd", _("{clients} clients at once beside a silent connection").format(clients=CLIENTS),
                passed=not failed and in_time,
                expected=_("with one connection open and silent, {clients} clients of {lines} lines each all "
                           "answered within {ratio}× the time one client takes alone ({limit} s)").format(
                    clients=CLIENTS, lines=LINES, ratio=RATIO, limit=limit),
                observed=_("{right}/{lines} lines right in {seconds} s").format(
                    right=right, lines=CLIENTS * LINES, seconds=crowd["seconds"])
                + (_("; {count} client(s) failed, e.g. {failure}").format(count=len(failed), failure=told(failed[0]))
                   if failed else ""),
                why=_("Clients spend most of their time waiting; a concurrent server overlaps those waits, so eight "
                      "take about as long as one."),
                facts={**crowd, "limit_seconds": limit,
                       "ratio": round(crowd["seconds"] / crowd["alone_seconds"], 2) if crowd["alone_seconds"] else None},
                hint=hint)


def vanish_step(outcome):
    return Step("half-line-vanish", _("a client sends half a line and vanishes"),
                passed=outcome["failure"] is None,
                expected=_("a client in the middle of its {lines} lines is not disturbed when another sends "
                           "'half a li' and closes").format(lines=LINES),
                observed=told(outcome), why=_("A peer can leave at any byte; the others must not notice."),
                facts=outcome, hint="" if outcome["failure"] is None else _(HINTS["vanish"]))


def check(lab, program, progress, seed):
    return _steps.check_server(
        lab, program, progress, NAME, "upper", ("--lines", LINES, "--pause-ms", PAUSE_MS, "--clients", CLIENTS),
        lambda got, record: [alone_step(got["alone"]), crowd_step(got["crowd"]), vanish_step(got["vanish"])],
        about=_(": one client, then {clients} at once (about 5 s)").format(clients=CLIENTS))
