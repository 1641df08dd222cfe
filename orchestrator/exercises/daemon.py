"""daemon: the learner's daemon child ends with its parent; its ordinary child is joined."""
from orchestrator.exercises import _procs, _steps
from orchestrator.result import Step

NAME = "daemon"
ROLE = "program"
SUMMARY = "a daemon child and an ordinary one: join, the daemon's end, and why a daemon may not have children"
LIMIT_S, GONE_S = 10, 0.5
DAEMONIC = "daemonic processes are not allowed to have children"

HINTS = {
    "hang": "The program never ended: the ticking child is not a daemon, and at exit the parent waits for "
            "every non-daemon child, forever. Set daemon=True before start().",
    "order": "`main: end` must come after `done`: the parent must join() the ordinary child before it ends.",
    "gone": "The ticking child outlived the parent: a daemon child is ended when its parent ends. Was it "
            "started with daemon=True?",
    "daemonic": f"AssertionError: {DAEMONIC}. A daemon is killed when its parent ends, so it could not "
                "clean up after children of its own: multiprocessing refuses to let it start any. Start "
                "the helper from the parent instead, or do the work in the daemon itself.",
    "crash": "The program failed: read its error below (`socklab run` shows it live).",
}


def check(lab, program, progress):
    node = lab.node("worker1")
    progress(f"daemon: {program.path.name} on worker1, watched with ps every 10 ms")
    # unbuffered: the daemon is terminated, never flushing a buffer; lines are matched by what they hold, as
    # two processes' writes may come on one line
    record = program.start(node, limit_s=LIMIT_S, watch=True, unbuffered=True).wait(LIMIT_S + 30)
    lines, watch = record["lines"], record["watch"]
    ticks = sum(line.count("tick") for _, line in lines)
    done, end = _procs.first_line(lines, "done"), _procs.first_line(lines, "main: end")
    ended = record["exit_code"] == 0 and not record["timed_out"]
    in_order = ticks > 0 and done is not None and end is not None and done <= end
    gone = _procs.gone_at(watch, end) if end is not None else None
    daemonic = DAEMONIC in record["stderr"]
    steps = [
        Step("ends", "1 it ends by itself", passed=ended,
             expected=f"`python3 FILE` ends with status 0 within {LIMIT_S} s, though one child ticks forever",
             observed=_steps.ending(record) + f" after {record['seconds']} s",
             why="At exit a parent waits for its ordinary children and ends its daemon children.",
             facts={"exit_code": record["exit_code"], "timed_out": record["timed_out"], "seconds": record["seconds"]},
             hint="" if ended else HINTS["hang" if record["timed_out"] else "crash"]),
        Step("order", "2 tick, then done, then main: end", passed=in_order,
             expected="`tick` lines, `done` after about 1 s, `main: end` after `done`",
             observed=f"{ticks} tick(s); done at {done} s; main: end at {end} s",
             why="join() waits for the child to end, so whatever the parent does after it comes after `done`.",
             facts={"ticks": ticks, "done_s": done, "end_s": end}, hint="" if in_order else HINTS["order"]),
        Step("daemon-gone", f"3 the daemon is gone within {GONE_S} s of main: end",
             passed=gone is not None and gone - end <= GONE_S,
             expected=f"no process of the program left {GONE_S} s after `main: end` (seen with ps every 10 ms)",
             observed=f"all gone {round(gone - end, 2)} s after main: end" if gone is not None else
                      "main: end never came" if end is None else "processes still there when the program was stopped",
             why="multiprocessing terminates a parent's daemon children when the parent exits.",
             facts={"gone_s": gone, "orphans": record["outlived"]},
             hint="" if gone is not None and gone - end <= GONE_S else HINTS["gone" if in_order else "order"]),
        Step("no-grandchild", "4 the daemon starts no child of its own", passed=not daemonic,
             expected="no AssertionError from a daemonic process",
             observed=f"stderr says: AssertionError: {DAEMONIC}" if daemonic else "no such error",
             why="A daemon dies with its parent without cleaning up, so it may not have children.",
             facts={"stderr_tail": record["stderr"][-400:]}, hint=HINTS["daemonic"] if daemonic else ""),
    ]
    return steps + [_steps.clean([node])]
