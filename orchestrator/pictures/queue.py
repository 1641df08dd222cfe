"""The queue's crash pictures: every completion on the broker's clock, per consumer, the killed one's last."""
import matplotlib.pyplot as plt

from orchestrator.pictures._draw import style, svg


def crash(facts):
    completed = facts["completed"]  # [task id, consumer, seconds on the broker's clock]
    survivors = {s["consumer"] for s in facts["survivors"]}
    consumers = sorted({c for _, c, _ in completed}, key=lambda c: (c not in survivors, c))
    figure, axes = plt.subplots(figsize=(9, 0.6 * len(consumers) + 1.4))
    last = None
    for row, consumer in enumerate(consumers):
        times = [t for _, c, t in completed if c == consumer]
        axes.scatter(times, [row] * len(times), marker="o" if consumer in survivors else "s", s=25, **{
            k: v for k, v in style(row).items() if k in ("facecolor", "edgecolor")})
        if consumer not in survivors:
            last = max(times)
    if last is not None:
        axes.axvline(last, color="#D55E00", linestyle="--")
        axes.text(last, len(consumers) - 0.5, f" {facts['killed']} killed after this", color="#D55E00")
    labels = [c if c in survivors else f"{c} ({facts['killed']}, killed)" for c in consumers]
    axes.set_yticks(range(len(consumers)), labels)
    checker = facts["checker"]
    kept = f"redelivered {facts['redelivered']}" if "redelivered" in facts else f"lost {checker['lost']}"
    axes.set(xlabel="seconds on the broker's clock (a mark per completed task)", ylim=(-0.6, len(consumers)),
             title=f"{checker['distinct_consumed']}/{checker['produced']} tasks completed; {kept}")
    return svg(figure, f"Completions per consumer over time; {facts['killed']} killed after its last completion; "
                       f"{checker['distinct_consumed']} of {checker['produced']} completed, {kept}.")


DRAW = {"crash-plain-loses": crash, "crash-leases-keep": crash}
