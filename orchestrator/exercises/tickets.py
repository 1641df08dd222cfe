"""tickets: the learner's buyers race for one ticket; exactly one may get it, on every run."""
import json
import re
from contextlib import nullcontext

from orchestrator.exercises import _source, _steps
from orchestrator.result import Step

NAME = "tickets"
ROLE = "program"
SUMMARY = "the ticket race: processes buying the last ticket, a Lock around the right lines"
BUYERS, RUNS, SQUEEZE_CPUS, LIMIT_S = 10, 5, 0.2, 10
VERDICT = re.compile(r"buyer (\d+): (bought|sold out)")

HINTS = {
    "no-lock": "No lock: every buyer reads 1 ticket left before any of them writes, so each one buys. Hold a "
               "multiprocessing.Lock (`with lock:`) around the buy: the read, the 0.1 s wait, the decision "
               "and the write.",
    "wrong-lines": "The lock does not cover the buy: a lock around the search (or the write alone) protects "
                   "nothing that matters. The read, the decision and the write must happen while holding it.",
    "hang": "The program never ended: a lock acquired and never released leaves every other buyer waiting "
            "forever. Use `with lock:`, which releases it even when the block fails.",
    "reports": "Every buyer must print `buyer K: bought` or `buyer K: sold out`, K from 1 (or 0) to BUYERS.",
    "crash": "The program failed: read its error below (`socklab run` shows it live).",
}


def outcome(record, final):
    said = [(int(k), verdict) for k, verdict in VERDICT.findall(record["stdout"])]
    return {"bought": sum(1 for _, v in said if v == "bought"), "sold_out": sum(1 for _, v in said if v != "bought"),
            "buyers": sorted(k for k, _ in said), "final_count": final, "seconds": record["seconds"],
            "ending": _steps.ending(record), "timed_out": record["timed_out"], "exit_code": record["exit_code"]}


def diagnosis(got, locked):
    """The hint for a run that went wrong, or "" for one that did not."""
    if got["timed_out"]:
        return HINTS["hang"]
    if got["bought"] > 1:
        return HINTS["wrong-lines" if locked else "no-lock"]
    if got["exit_code"] != 0:
        return HINTS["crash"]
    if len(set(got["buyers"])) != BUYERS or got["final_count"] != 0 or got["bought"] != 1:
        return HINTS["reports"]
    return ""


def run_step(key, title, got, locked):
    hint = diagnosis(got, locked)
    oversold = f" — {got['bought']} tickets sold for 1" if got["bought"] > 1 else ""
    return Step(key, title, passed=not hint,
                expected=f"{BUYERS} buyers for 1 ticket: exactly one `bought`, {BUYERS - 1} `sold out`, every buyer "
                         "reports, the count ends at 0",
                observed=f"{got['bought']} bought, {got['sold_out']} sold out, {len(set(got['buyers']))} buyers "
                         f"reported, count {got['final_count']}, {got['ending']}{oversold}",
                why="Without a lock, all buyers read the count during the same 0.1 s and each decides a ticket is "
                    "left: the race the lock exists for.",
                facts=got, hint=hint)


def check(lab, program, progress):
    node = lab.node("worker1")
    locked = _source.uses_a_lock(program.source)
    steps = []
    for n in range(1, RUNS + 2):
        squeezed = n > RUNS
        progress(f"tickets: run {n} of {RUNS + 1}" + (f", worker1 squeezed to {SQUEEZE_CPUS} CPU" if squeezed else ""))
        with node.squeezed(SQUEEZE_CPUS) if squeezed else nullcontext():
            running = program.start(node, "db.json", BUYERS, limit_s=LIMIT_S, extra={"db.json": b'{"count": 1}'})
            record = running.wait(LIMIT_S + 30)
        db = node.run(["cat", f"{running.directory}/db.json"]).stdout
        try:
            final = json.loads(db)["count"]
        except (ValueError, KeyError, TypeError):
            final = None
        got = outcome(record, final)
        key, title = ("squeezed", f"{n} on a node squeezed to {SQUEEZE_CPUS} CPU") if squeezed else \
            (f"run-{n}", f"{n} run {n} of {RUNS}")
        steps.append(run_step(key, title, got, locked))
        if got["timed_out"]:
            break  # a hang hangs again: one is enough
    return steps + [_steps.clean([node])]
