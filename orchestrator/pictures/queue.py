"""The queue lesson's pictures: the depth under backpressure, throughput against workers, and every completion
on the broker's clock per consumer around a killed one's last."""
import matplotlib.pyplot as plt

from orchestrator.i18n import _
from orchestrator.pictures._draw import style, svg


def crash(facts):
    completed = facts["completed"]  # [task id, consumer, seconds on the broker's clock]
    survivors = {s["consumer"] for s in facts["survivors"]}
    consumers = sorted({c for _task, c, _at in completed}, key=lambda c: (c not in survivors, c))
    figure, axes = plt.subplots(figsize=(9, 0.6 * len(consumers) + 1.4))
    last = None
    for row, consumer in enumerate(consumers):
        times = [t for _task, c, t in completed if c == consumer]
        axes.scatter(times, [row] * len(times), marker="o" if consumer in survivors else "s", s=25, **{
            k: v for k, v in style(row).items() if k in ("facecolor", "edgecolor")})
        if consumer not in survivors:
            last = max(times)
    if last is not None:
        axes.axvline(last, color="#D55E00", linestyle="--")
        axes.text(last, len(consumers) - 0.5, _(" {node} killed after this").format(node=facts["killed"]),
                  color="#D55E00")
    labels = [c if c in survivors else _("{consumer} ({node}, killed)").format(consumer=c, node=facts["killed"])
              for c in consumers]
    axes.set_yticks(range(len(consumers)), labels)
    checker = facts["checker"]
    kept = (_("redelivered {tasks}").format(tasks=facts["redelivered"]) if "redelivered" in facts
            else _("lost {tasks}").format(tasks=checker["lost"]))
    axes.set(xlabel=_("seconds on the broker's clock (a mark per completed task)"), ylim=(-0.6, len(consumers)),
             title=_("{completed}/{produced} tasks completed; {kept}").format(
                 completed=checker["distinct_consumed"], produced=checker["produced"], kept=kept))
    return svg(figure, _("Completions per consumer over time; {node} killed after its last completion; {completed} of "
                         "{produced} completed, {kept}.").format(node=facts["killed"],
                                                                 completed=checker["distinct_consumed"],
                                                                 produced=checker["produced"], kept=kept))


def depth(facts):
    """Depth after every put and get, with the queue's maxsize drawn as its ceiling."""
    samples, maxsize = facts["depths"], facts["maxsize"]  # [[seconds, depth]]
    figure, axes = plt.subplots(figsize=(8, 3.2))
    axes.step([t for t, _d in samples], [d for _t, d in samples], where="post",
              label=_("depth after every put and get"))
    axes.axhline(maxsize, color="#D55E00", linestyle="--", label=_("maxsize = {maxsize}").format(maxsize=maxsize))
    axes.set(xlabel=_("seconds"), ylabel=_("items in the queue"), title=_("queue depth under backpressure"),
             ylim=(0, maxsize + 1.5))
    axes.legend(loc="upper right")
    return svg(figure, _("The queue's depth over {seconds:.1f} s: it reaches maxsize {maxsize} ({max_depth} at most) "
                         "and never passes it.").format(seconds=samples[-1][0] - samples[0][0], maxsize=maxsize,
                                                       max_depth=facts["max_depth"]))


def throughput(facts):
    """Tasks per second against the number of workers."""
    rates = {int(workers): rate for workers, rate in facts["tasks_per_s"].items()}
    figure, axes = plt.subplots(figsize=(5, 3.2))
    axes.plot(list(rates), list(rates.values()), marker="o")
    axes.set(xlabel=_("workers"), ylabel=_("tasks per second"), title=_("CPU-bound tasks"), xticks=list(rates),
             ylim=(0, max(rates.values()) * 1.2))
    return svg(figure, _("CPU-bound tasks per second with {workers} workers: {rates}.").format(
        workers=", ".join(map(str, rates)), rates=", ".join(f"{rate:g}" for rate in rates.values())))


DRAW = {"backpressure": depth, "scaling": throughput, "crash-plain-loses": crash, "crash-leases-keep": crash}
