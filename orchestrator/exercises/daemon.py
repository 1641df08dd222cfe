"""daemon: the learner's daemon child ends with the parent's main code; its ordinary child is joined."""
from orchestrator.exercises import _procs, _steps
from orchestrator.i18n import N_, _
from orchestrator.result import Step

NAME = "daemon"
ROLE = "program"
SUMMARY = N_("a daemon child and an ordinary one: join, the daemon's end, and why a daemon may not have children")
LIMIT_S, GONE_S = 10, 0.5
DAEMONIC = "daemonic processes are not allowed to have children"

HINTS = {
    "hang": N_("The program never ended: the ticking child is not a daemon, and at exit the parent waits for "
               "every non-daemon child, forever. Set daemon=True before start()."),
    "order": N_("`main: end` must come after `done`: the parent must join() the ordinary child before it ends."),
    "gone": N_("The ticking child outlived the parent: a daemon child is ended when the parent's main code "
               "ends. Was it started with daemon=True?"),
    # {error} is DAEMONIC, Python's own words
    "daemonic": N_("AssertionError: {error}. A daemon is terminated when the parent's main code ends, so it "
                   "could not clean up after children of its own: multiprocessing refuses to let it start any. "
                   "Start the helper from the parent instead, or do the work in the daemon itself."),
    "crash": N_("The program failed: read its error below (`socklab run` shows it live)."),
}


def check(lab, program, progress, seed):
    node = lab.node("worker1")
    progress(_("daemon: {program} on worker1, watched with ps every 10 ms").format(program=program.path.name))
    # unbuffered: the daemon is terminated, never flushing a buffer; lines are matched by what they hold, as
    # two processes' writes may come on one line
    record = program.start(node, limit_s=LIMIT_S, watch=True, unbuffered=True).result(LIMIT_S + 30)
    lines = record["lines"]
    ticks = sum(line.count("tick") for __, line in lines)
    done, end = _procs.first_line(lines, "done"), _procs.first_line(lines, "main: end")
    in_order = ticks > 0 and done is not None and end is not None and done <= end
    return [ends_step(record), order_step(ticks, done, end, in_order), gone_step(record, end, in_order),
            grandchild_step(record), _steps.clean([node])]


def ends_step(record):
    ended = record["exit_code"] == 0 and not record["timed_out"]
    return Step(
        "ends", _("it ends by itself"), passed=ended,
        expected=_("`python3 FILE` ends with status 0 within {limit} s, though one child ticks forever").format(
            limit=LIMIT_S),
        observed=_("{ending} after {seconds} s").format(ending=_steps.ending(record), seconds=record["seconds"]),
        why=_("At exit a parent waits for its ordinary children and ends its daemon children."),
        facts={"exit_code": record["exit_code"], "timed_out": record["timed_out"], "seconds": record["seconds"],
               "stderr_tail": record["stderr"][-2000:]},
        hint="" if ended else _(HINTS["hang" if record["timed_out"] else "crash"]))


def order_step(ticks, done, end, in_order):
    return Step(
        "order", _("tick, then done, then main: end"), passed=in_order,
        expected=_("`tick` lines, `done` after about 1 s, `main: end` after `done`"),
        observed=_("{ticks} tick(s); done at {done} s; main: end at {end} s").format(ticks=ticks, done=done, end=end),
        why=_("join() waits for the child to end, so whatever the parent does after it comes after `done`."),
        facts={"ticks": ticks, "done_s": done, "end_s": end}, hint="" if in_order else _(HINTS["order"]))


def gone_step(record, end, in_order):
    gone = _procs.gone_at(record["watch"], end) if end is not None else None
    passed = gone is not None and gone - end <= GONE_S
    return Step(
        "daemon-gone", _("the daemon is gone within {seconds} s of main: end").format(seconds=GONE_S), passed=passed,
        expected=_("no process of the program left {seconds} s after `main: end` (seen with ps every 10 ms)")
        .format(seconds=GONE_S),
        observed=_("all gone {seconds} s after main: end").format(seconds=round(gone - end, 2))
        if gone is not None else _("main: end never came") if end is None else
        _("processes still there when the program was stopped"),
        why=_("When the parent's main code ends, multiprocessing terminates its daemon children (then joins "
              "the others); this protocol joins the ordinary child first, so the daemon goes at `main: end`. "
              "The processes lesson shows the daemon going while the parent still waits, and surviving a "
              "parent killed with SIGKILL."),
        facts={"gone_s": gone, "orphans": record["outlived"]},
        hint="" if passed else _(HINTS["gone" if in_order else "order"]))


def grandchild_step(record):
    daemonic = DAEMONIC in record["stderr"]
    return Step(
        "no-grandchild", _("the daemon starts no child of its own"), passed=not daemonic,
        expected=_("no AssertionError from a daemonic process"),
        observed=_("stderr says: AssertionError: {error}").format(error=DAEMONIC) if daemonic else _("no such error"),
        why=_("A daemon is terminated with the parent's main code, without cleaning up, so it may not have "
              "children."),
        facts={"stderr_tail": record["stderr"][-2000:]},
        hint=_(HINTS["daemonic"]).format(error=DAEMONIC) if daemonic else "")
