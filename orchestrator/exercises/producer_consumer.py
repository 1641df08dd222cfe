"""producer-consumer: the learner's producers and consumers share a bounded queue; the program ends by itself.
Run RUNS times: a program whose bug shows only sometimes must be unlucky every time to pass."""
import re

from orchestrator.exercises import _procs, _steps
from orchestrator.result import Step

NAME = "producer-consumer"
ROLE = "program"
SUMMARY = "producers, consumers and a bounded multiprocessing queue: every item once, an end, no zombies"
ITEMS, PRODUCERS, CONSUMERS, MAXSIZE, LIMIT_S, CPUS, RUNS = 30, 3, 2, 4, 10, 0.5, 3
CONSUMED = re.compile(r"consumed (\d+)-(\d+)")

HINTS = {
    "hang": "The program never ended: consumers blocked in queue.get() were never told to stop (or stopped "
            "too early, leaving the producers blocked on a full queue). After joining the producers, put one "
            "poison pill (None) per consumer, or use a JoinableQueue (task_done() per item, queue.join()) "
            "with daemon consumers.",
    "crash": "The program failed: read its error below (`socklab run` shows it live).",
    "lost": "Items were lost: the program ended (or told its consumers to stop) before every item was "
            "consumed. Join the producers, then send the pills, then join the consumers.",
    "twice": "An item was consumed twice: each item must be put once, by one producer.",
    "strangers": "A process that is not a child of the parent: start every producer and consumer from the "
                 "parent (multiprocessing.Process), so that it can join them.",
    "zombies": "A child ended and stayed a zombie: the parent must join() (wait for) every child it started, "
               "and not leave any running when it ends (an orphan).",
}


def expected_items(got):
    """The items the run should have consumed: ITEMS from each of PRODUCERS, counted from 0 or from 1 as
    the program counts."""
    base_p = min((p for p, _ in got), default=1)
    base_i = min((i for _, i in got), default=1)
    return {(p, i) for p in range(base_p, base_p + PRODUCERS) for i in range(base_i, base_i + ITEMS)}


def judged(record):
    """One run's facts, and for each step whether it passed and what was seen."""
    got = [(int(p), int(i)) for p, i in CONSUMED.findall(record["stdout"])]
    lost, twice = sorted(expected_items(got) - set(got)), sorted({x for x in got if got.count(x) > 1})
    main = _procs.root(record["watch"])
    strangers = _procs.strangers(record["watch"], main) if main else {}
    zombies = _procs.lasting_zombies(record["watch"])
    children = sorted({row[0] for _, table in record["watch"] for row in table} - {main})
    return {
        "ends": (record["exit_code"] == 0 and not record["timed_out"], _steps.ending(record) + f" after {record['seconds']} s",
                 HINTS["hang" if record["timed_out"] else "crash"]),
        "each-once": (bool(got) and not lost and not twice,
                      f"{len(got)} consumed, {len(lost)} lost" + (f" (e.g. {lost[0][0]}-{lost[0][1]})" if lost else "")
                      + f", {len(twice)} twice", HINTS["twice" if twice else "lost"]),
        "children": (bool(main) and bool(children) and not strangers,
                     f"parent {main}, {len(children)} other process(es)" + (f"; not its children: {strangers}" if strangers else ""),
                     HINTS["strangers"]),
        "no-zombies": (not zombies and not record["outlived"],
                       f"{len(zombies)} lasting zombie(s), {record['outlived'] or 0} process(es) left after the parent",
                       HINTS["zombies"]),
        "facts": {"consumed": len(got), "lost": [f"{p}-{i}" for p, i in lost][:20], "twice": [f"{p}-{i}" for p, i in twice],
                  "parent": main, "children": children, "strangers": strangers, "zombies": zombies,
                  "orphans": record["outlived"], "seconds": record["seconds"], "exit_code": record["exit_code"],
                  "timed_out": record["timed_out"]},
    }


STEPS = {
    "ends": ("1 it ends by itself", f"`python3 FILE {ITEMS} {PRODUCERS} {CONSUMERS} {MAXSIZE}` ends with status 0 "
             f"within {LIMIT_S} s", "A consumer cannot tell 'no item yet' from 'no item ever': someone has to tell it "
             "to stop."),
    "each-once": ("2 every item consumed exactly once", f"{PRODUCERS * ITEMS} lines `consumed P-I`, one for each of "
                  f"{ITEMS} items from each of {PRODUCERS} producers",
                  "A queue hands each item to exactly one consumer; an item is lost only if nobody is left to take it."),
    "children": ("3 the producers and consumers are the parent's children", f"every process seen while the parent "
                 f"runs (its {PRODUCERS} producers and {CONSUMERS} consumers, as ps catches them every 10 ms) has the "
                 "parent's pid as its ppid", "A parent can only join (and reap) its own children."),
    "no-zombies": ("4 no zombie or orphan left", "no child stays a zombie for a second, and none is still running when "
                   "the parent has ended", "A child that ended stays a zombie until its parent waits for it; one that "
                   "outlives its parent is an orphan, adopted by PID 1."),
}


def check(lab, program, progress):
    node = lab.node("worker1")
    runs = []
    with node.squeezed(CPUS):  # slower, so that ps sees the children at work
        for n in range(1, RUNS + 1):
            progress(f"producer-consumer: run {n} of {RUNS}: {program.path.name} {ITEMS} {PRODUCERS} {CONSUMERS} "
                     f"{MAXSIZE} on worker1 (squeezed to {CPUS} CPU)")
            # unbuffered: a daemon consumer is terminated without flushing; lines are found by what they hold,
            # as two processes' writes may share a line
            record = program.start(node, ITEMS, PRODUCERS, CONSUMERS, MAXSIZE, limit_s=LIMIT_S, watch=True,
                                   unbuffered=True)
            runs.append(judged(record.wait(LIMIT_S + 30)))
            if runs[-1]["facts"]["timed_out"]:
                break  # a hang hangs again: one is enough
    steps = []
    for key, (name, expected, why) in STEPS.items():
        bad = next((n for n, run in enumerate(runs, 1) if not run[key][0]), None)
        shown = runs[(bad or 1) - 1][key]
        steps.append(Step(key, name, passed=bad is None, expected=f"{expected}, in each of {RUNS} runs",
                          observed=(f"run {bad}: " if bad else f"{len(runs)} run(s); run 1: ") + shown[1], why=why,
                          facts={"runs": [run["facts"] for run in runs]} if key == "ends" else
                          {"passed_runs": sum(1 for run in runs if run[key][0])},
                          hint=shown[2] if bad else ""))
    return steps + [_steps.clean([node])]
