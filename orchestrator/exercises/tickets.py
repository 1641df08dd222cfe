"""tickets: the learner's buyers race for one ticket; exactly one may get it, on every run."""
import json
import re
from contextlib import nullcontext

from orchestrator.exercises import _source, _steps
from orchestrator.i18n import N_, _
from orchestrator.result import Step

NAME = "tickets"
ROLE = "program"
SUMMARY = N_("the ticket race: processes buying the last ticket, a Lock around the right lines")
BUYERS, RUNS, SQUEEZE_CPUS, LIMIT_S = 10, 5, 0.2, 10
VERDICT = re.compile(r"buyer (\d+): (bought|sold out)")

HINTS = {
    "no-lock": N_("No lock: every buyer reads 1 ticket left before any of them writes, so each one buys. Hold a "
                  "multiprocessing.Lock (`with lock:`) around the buy: the read, the 0.1 s wait, the decision "
                  "and the write."),
    "wrong-lines": N_("The lock does not cover the buy: a lock around the search (or the write alone) protects "
                      "nothing that matters. The read, the decision and the write must happen while holding it."),
    "hang": N_("The program never ended: a lock acquired and never released leaves every other buyer waiting "
               "forever. Use `with lock:`, which releases it even when the block fails."),
    "reports": N_("Every buyer must print `buyer K: bought` or `buyer K: sold out`, K from 1 (or 0) to BUYERS."),
    "crash": N_("The program failed: read its error below (`socklab run` shows it live)."),
}


def outcome(record, final):
    said = [(int(k), verdict) for k, verdict in VERDICT.findall(record["stdout"])]
    return {"bought": sum(1 for __, v in said if v == "bought"), "sold_out": sum(1 for __, v in said if v != "bought"),
            "buyers": sorted(k for k, __ in said), "final_count": final, "seconds": record["seconds"],
            "timed_out": record["timed_out"], "exit_code": record["exit_code"], "signal": record["signal"]}


def diagnosis(got, locked):
    """The hint for a run that went wrong, or "" for one that did not."""
    if got["timed_out"]:
        return _(HINTS["hang"])
    if got["bought"] > 1:
        return _(HINTS["wrong-lines" if locked else "no-lock"])
    if got["exit_code"] != 0:
        return _(HINTS["crash"])
    if len(set(got["buyers"])) != BUYERS or got["final_count"] != 0 or got["bought"] != 1:
        return _(HINTS["reports"])
    return ""


def run_step(key, title, got, locked, ending):
    hint = diagnosis(got, locked)
    oversold = _(" — {sold} tickets sold for 1").format(sold=got["bought"]) if got["bought"] > 1 else ""
    return Step(key, title, passed=not hint,
                expected=_("{buyers} buyers for 1 ticket: exactly one `bought`, {others} `sold out`, every buyer "
                           "reports, the count ends at 0").format(buyers=BUYERS, others=BUYERS - 1),
                observed=_("{bought} bought, {sold_out} sold out, {reported} buyers reported, count {count}, "
                           "{ending}").format(bought=got["bought"], sold_out=got["sold_out"],
                                              reported=len(set(got["buyers"])), count=got["final_count"],
                                              ending=ending) + oversold,
                why=_("Without a lock, all buyers read the count during the same 0.1 s and each decides a ticket is "
                      "left: the race the lock exists for."),
                facts=got, hint=hint)


def check(lab, program, progress, seed):
    node = lab.node("worker1")
    locked = _source.uses_a_lock(program.source)
    steps = []
    for n in range(1, RUNS + 2):
        squeezed = n > RUNS
        progress(_("tickets: run {n} of {runs}").format(n=n, runs=RUNS + 1)
                 + (_(", worker1 squeezed to {cpus} CPU").format(cpus=SQUEEZE_CPUS) if squeezed else ""))
        with node.squeezed(SQUEEZE_CPUS) if squeezed else nullcontext():
            running = program.start(node, "db.json", BUYERS, limit_s=LIMIT_S, extra={"db.json": b'{"count": 1}'})
            record = running.result(LIMIT_S + 30)
        db = node.run(["cat", f"{running.workdir}/db.json"]).stdout
        try:
            final = json.loads(db)["count"]
        except (ValueError, KeyError, TypeError):
            final = None
        got = outcome(record, final)
        key, title = ("squeezed", _("on a node squeezed to {cpus} CPU").format(cpus=SQUEEZE_CPUS)) \
            if squeezed else (f"run-{n}", _("run {run} of {runs}").format(run=n, runs=RUNS))
        steps.append(run_step(key, title, got, locked, _steps.ending(record)))
        if got["timed_out"]:
            break  # a hang hangs again: one is enough
    return steps + [_steps.clean([node])]
