"""producer-consumer: the learner's producers and consumers share a bounded queue; the program ends by itself.
Run RUNS times: a program whose bug shows only sometimes must be unlucky every time to pass."""
import re

from orchestrator.exercises import _procs, _steps
from orchestrator.i18n import N_, _
from orchestrator.result import Step

NAME = "producer-consumer"
ROLE = "program"
SUMMARY = N_("producers, consumers and a bounded multiprocessing queue: every item once, an end, no zombies")
ITEMS, PRODUCERS, CONSUMERS, MAXSIZE, LIMIT_S, CPUS, RUNS = 30, 3, 2, 4, 10, 0.5, 3
CONSUMED = re.compile(r"consumed (\d+)-(\d+)")

HINTS = {
    "hang": N_("The program never ended: consumers blocked in queue.get() were never told to stop (or stopped "
               "too early, leaving the producers blocked on a full queue). After joining the producers, put one "
               "poison pill (None) per consumer, or use a JoinableQueue (task_done() per item, queue.join()) "
               "with daemon consumers."),
    "crash": N_("The program failed: read its error below (`socklab run` shows it live)."),
    "lost": N_("Items were lost: the program ended (or told its consumers to stop) before every item was "
               "consumed. Join the producers, then send the pills, then join the consumers."),
    "twice": N_("An item was consumed twice: each item must be put once, by one producer."),
    "strangers": N_("A process that is not a child of the parent: start every producer and consumer from the "
                    "parent (multiprocessing.Process), so that it can join them."),
    "zombies": N_("A child ended and stayed a zombie: the parent must join() (wait for) every child it started, "
                  "and not leave any running when it ends (an orphan)."),
}


def expected_items(got):
    """The items the run should have consumed: ITEMS from each of PRODUCERS, counted from 0 or from 1 as
    the program counts."""
    base_p = min((p for p, __ in got), default=1)
    base_i = min((i for __, i in got), default=1)
    return {(p, i) for p in range(base_p, base_p + PRODUCERS) for i in range(base_i, base_i + ITEMS)}


def judged(record):
    """One run's facts, and for each step whether it passed and what was seen."""
    got = [(int(p), int(i)) for p, i in CONSUMED.findall(record["stdout"])]
    lost, twice = sorted(expected_items(got) - set(got)), sorted({x for x in got if got.count(x) > 1})
    main = _procs.root(record["watch"])
    strangers = _procs.strangers(record["watch"], main) if main else {}
    zombies = _procs.lasting_zombies(record["watch"])
    children = sorted({row[0] for __, table in record["watch"] for row in table} - {main})
    return {
        "ends": (record["exit_code"] == 0 and not record["timed_out"],
                 _("{ending} after {seconds} s").format(ending=_steps.ending(record), seconds=record["seconds"]),
                 _(HINTS["hang" if record["timed_out"] else "crash"])),
        "each-once": (bool(got) and not lost and not twice,
                      _("{consumed} consumed, {lost} lost").format(consumed=len(got), lost=len(lost))
                      + (_(" (e.g. {example})").format(example=f"{lost[0][0]}-{lost[0][1]}") if lost else "")
                      + _(", {twice} twice").format(twice=len(twice)), _(HINTS["twice" if twice else "lost"])),
        "children": (bool(main) and bool(children) and not strangers,
                     _("parent {parent}, {others} other process(es)").format(parent=main, others=len(children))
                     + (_("; not its children: {strangers}").format(strangers=strangers) if strangers else ""),
                     _(HINTS["strangers"])),
        "no-zombies": (not zombies and not record["outlived"],
                       _("{zombies} lasting zombie(s), {orphans} process(es) left after the parent").format(
                           zombies=len(zombies), orphans=record["outlived"] or 0),
                       _(HINTS["zombies"])),
        "facts": {"consumed": len(got), "lost": [f"{p}-{i}" for p, i in lost][:20], "twice": [f"{p}-{i}" for p, i in twice],
                  "parent": main, "children": children, "strangers": strangers, "zombies": zombies,
                  "orphans": record["outlived"], "seconds": record["seconds"], "exit_code": record["exit_code"],
                  "timed_out": record["timed_out"]},
    }


def step_texts():
    """Each step's name, expected and why, in the language in use."""
    return {
        "ends": (_("it ends by itself"),
                 _("`python3 FILE {items} {producers} {consumers} {maxsize}` ends with status 0 within {limit} s")
                 .format(items=ITEMS, producers=PRODUCERS, consumers=CONSUMERS, maxsize=MAXSIZE, limit=LIMIT_S),
                 _("A consumer cannot tell 'no item yet' from 'no item ever': someone has to tell it to stop.")),
        "each-once": (_("every item consumed exactly once"),
                      _("{lines} lines `consumed P-I`, one for each of {items} items from each of {producers} "
                        "producers").format(lines=PRODUCERS * ITEMS, items=ITEMS, producers=PRODUCERS),
                      _("A queue hands each item to exactly one consumer; an item is lost only if nobody is left to "
                        "take it.")),
        "children": (_("the producers and consumers are the parent's children"),
                     _("every process seen while the parent runs (its {producers} producers and {consumers} "
                       "consumers, as ps catches them every 10 ms) has the parent's pid as its ppid").format(
                         producers=PRODUCERS, consumers=CONSUMERS),
                     _("A parent can only join (and reap) its own children.")),
        "no-zombies": (_("no zombie or orphan left"),
                       _("no child stays a zombie for a second, and none is still running when the parent has ended"),
                       _("A child that ended stays a zombie until its parent waits for it; one that outlives its "
                         "parent is an orphan, adopted by PID 1.")),
    }


def check(lab, program, progress, seed):
    node = lab.node("worker1")
    runs = []
    with node.squeezed(CPUS):  # slower, so that ps sees the children at work
        for n in range(1, RUNS + 1):
            progress(_("producer-consumer: run {n} of {runs}: {command} on worker1 (squeezed to {cpus} CPU)").format(
                n=n, runs=RUNS, command=f"{program.path.name} {ITEMS} {PRODUCERS} {CONSUMERS} {MAXSIZE}", cpus=CPUS))
            # unbuffered: a daemon consumer is terminated without flushing; lines are found by what they hold,
            # as two processes' writes may share a line
            running = program.start(node, ITEMS, PRODUCERS, CONSUMERS, MAXSIZE, limit_s=LIMIT_S, watch=True,
                                    unbuffered=True)
            runs.append(judged(running.result(LIMIT_S + 30)))
            if runs[-1]["facts"]["timed_out"]:
                break  # a hang hangs again: one is enough
    steps = []
    for key, (name, expected, why) in step_texts().items():
        bad = next((n for n, run in enumerate(runs, 1) if not run[key][0]), None)
        shown = runs[(bad or 1) - 1][key]
        steps.append(Step(key, name, passed=bad is None,
                          expected=_("{expected}, in each of {runs} runs").format(expected=expected, runs=RUNS),
                          observed=_("run {n}: {observed}").format(n=bad, observed=shown[1]) if bad else
                          _("{count} run(s); run 1: {observed}").format(count=len(runs), observed=shown[1]), why=why,
                          facts={"runs": [run["facts"] for run in runs]} if key == "ends" else
                          {"passed_runs": sum(1 for run in runs if run[key][0])},
                          hint=shown[2] if bad else ""))
    return steps + [_steps.clean([node])]
