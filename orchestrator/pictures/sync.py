"""The sync lesson's pictures: waiters released by set(), who was inside the semaphore (and how many at once),
the deadlock's cycle of waits, the updates a manager's dict lost, and what an update costs where."""
import matplotlib.pyplot as plt
from matplotlib import ticker

from orchestrator.i18n import _
from orchestrator.pictures._draw import COLORS, style, svg
from orchestrator.scenarios.sync import wait_for_graph

WAITS = {"color": "#D55E00", "linestyle": "--"}  # a wait: dashed and vermilion, in colour and in grey


def event(facts):
    set_at, workers = facts["set_at"], facts["workers"]
    figure, axes = plt.subplots(figsize=(8, 0.4 * len(workers) + 1.4))
    for row, pid in enumerate(map(str, workers)):
        axes.plot([facts["waiting_at"][pid], facts["woke_at"][pid]], [row, row], color="#999999", linestyle=":")
        axes.plot(facts["woke_at"][pid], row, marker="o", color=COLORS[2])
    axes.axvline(set_at, **WAITS)
    axes.text(set_at, len(workers) - 0.4, " set()", color=WAITS["color"])
    axes.set_yticks(range(len(workers)), [_("worker {pid}").format(pid=pid) for pid in workers])
    axes.set(ylim=(-0.6, len(workers)), xlabel=_("seconds (dotted: waiting on the Event; o: went on)"),
             title=_("{workers} workers on one Event").format(workers=len(workers)))
    first = min(facts["woke_at"].values())
    return svg(figure, _("{workers} workers waited on an Event until set() at {set_at} s; the first went on "
                         "{delay:.1f} ms after it, none before.").format(
        workers=len(workers), set_at=set_at, delay=(first - set_at) * 1000))


def inside_over_time(intervals):
    """[(time, how many are inside from then on)], from [(entered, left)]."""
    edges = sorted([(entered, 1) for entered, _left in intervals] + [(left, -1) for _entered, left in intervals])
    counts, inside = [(0.0, 0)], 0
    for at, change in edges:
        inside += change
        counts.append((at, inside))
    return counts


def semaphore(facts):
    rows, slots = facts["intervals"], facts["slots"]  # [pid, asked, entered, left], by entering
    figure, (timeline, count) = plt.subplots(2, 1, sharex=True, figsize=(8, 0.3 * len(rows) + 2.6),
                                             gridspec_kw={"height_ratios": [3, 1]})
    for row, (_pid, asked, entered, left) in enumerate(rows):
        timeline.plot([asked, entered], [row, row], color="#999999", linestyle=":")
        timeline.barh(row, left - entered, left=entered, height=0.6, **style(1 + row // slots))
    timeline.set_yticks(range(len(rows)), [_("process {pid}").format(pid=pid) for pid, *__ in rows])
    timeline.invert_yaxis()
    timeline.set(title=_("Semaphore({slots}): {workers} processes, {hold} s inside each").format(
        slots=slots, workers=len(rows), hold=facts["hold_s"]))
    counts = inside_over_time([(entered, left) for _pid, _asked, entered, left in rows])
    count.fill_between([at for at, _n in counts], [n for _at, n in counts], step="post", **style(4))
    count.axhline(slots, **WAITS, label=_("Semaphore({slots})").format(slots=slots))
    count.set(xlabel=_("seconds (dotted: waiting for a place; bar: inside)"), ylabel=_("inside"),
              ylim=(0, slots + 1.5))
    count.legend(loc="upper right")
    peak = max(n for _at, n in counts)
    return svg(figure, _("{workers} processes on a timeline, each inside Semaphore({slots}) for {hold} s: at most "
                         "{peak} inside at once (the dashed line is {slots}).").format(
        workers=len(rows), slots=slots, hold=facts["hold_s"], peak=peak))


def box(axes, at, text, process):
    """A process (round, coloured) or a lock (square, white, a thick edge)."""
    axes.text(*at, text, ha="center", va="center", fontsize=9,
              bbox={"boxstyle": "round,pad=0.5" if process else "square,pad=0.5", "edgecolor": "#333333",
                    "facecolor": COLORS[1] if process else "white", "linewidth": 1 if process else 2.5})


def arrow(axes, start, end, text, waits):
    line = WAITS if waits else {"color": "#333333", "linestyle": "-"}
    axes.annotate("", end, start, arrowprops={"arrowstyle": "->", "shrinkA": 22, "shrinkB": 22, "lw": 1.5, **line})
    axes.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2, text, ha="center", va="center", fontsize=8,
              color=line["color"], bbox={"facecolor": "white", "edgecolor": "none"})


def deadlock(facts):
    """The wait-for graph of the stuck processes: lock → process it is held by, process → lock it waits for."""
    graph = wait_for_graph(facts)
    if not graph:
        return None
    figure, axes = plt.subplots(figsize=(6, 3.6))
    locks = {"A": (1, 1), "B": (1, 0)}
    for (pid, (held, wanted)), at in zip(graph.items(), [(0, 0.5), (2, 0.5)]):
        where = facts["waiting_at"].get(pid)
        label = (_("process {pid}\nwaits at line {line}").format(pid=pid, line=where["line"]) if where
                 else _("process {pid}").format(pid=pid))
        box(axes, at, label, process=True)
        arrow(axes, locks[held], at, _("held by"), waits=False)
        arrow(axes, at, locks[wanted], _("waits for"), waits=True)
    for name, at in locks.items():
        box(axes, at, _("lock {name}").format(name=name), process=False)
    axes.set(xlim=(-0.6, 2.6), ylim=(-0.4, 1.4), title=_("deadlock: a cycle of waits"))
    axes.axis("off")
    return svg(figure, _("Wait-for graph: {edges}. The waits make a cycle: neither process can go on.").format(
        edges="; ".join(_("process {pid} holds lock {held} and waits for lock {wanted}").format(
            pid=pid, held=held, wanted=wanted) for pid, (held, wanted) in graph.items())))


def lost_updates(facts):
    expected, unlocked, locked = facts["expected"], facts["without_lock"], facts["with_lock"]
    figure, axes = plt.subplots(figsize=(6, 3.4))
    labels = [_("expected"), _("without a lock"), _("with a Lock")]
    for index, (label, value) in enumerate(zip(labels, [expected, unlocked["final"], locked["final"]])):
        axes.bar(label, value, **style(index))
    axes.bar(labels[1], unlocked["lost"], bottom=unlocked["final"], facecolor="white", hatch="xx",
             edgecolor=WAITS["color"], label=_("lost"))
    axes.set(ylabel=_("value of d[\"n\"] at the end"), ylim=(0, expected * 1.15),
             title=_("{processes} processes × {increments} × d[\"n\"] += 1").format(
                 processes=facts["processes"], increments=facts["increments"]))
    axes.legend(loc="upper right")
    return svg(figure, _("Manager dict counter: expected {expected}; without a lock {unlocked} ({lost} updates "
                         "lost, cross-hatched); with a Lock {locked}.").format(
        expected=expected, unlocked=unlocked["final"], lost=unlocked["lost"], locked=locked["final"]))


def cost(facts):
    samples, median = facts["samples_us"], facts["per_op_us"]
    names = list(median)
    figure, axes = plt.subplots(figsize=(7, 2.8))
    labels = {"value": _("Value + its lock"), "array": _("Array + its lock"), "manager": _("manager's dict proxy")}
    for row, name in enumerate(names):
        axes.barh(row, median[name], height=0.6, **style(row))
        axes.plot(samples[name], [row] * len(samples[name]), "k|", markersize=12)
        axes.text(max(samples[name]) * 1.2, row, f"{median[name]:g} µs", va="center")
    axes.set_yticks(range(len(names)), [labels[name] for name in names])
    axes.set_xscale("log")
    axes.xaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _pos: f"{value:g}"))  # 10, not TeX 10^1
    axes.set_xlim(right=max(map(max, samples.values())) * 6)
    ratio = median["manager"] / median["value"]
    axes.set(xlabel=_("µs per update, log scale (bar: median; |: each round)"),
             title=_("an update through the manager costs {ratio:.0f}× one in shared memory").format(ratio=ratio))
    return svg(figure, _("Cost per update, median of {rounds} rounds: Value {value} µs, Array {array} µs, manager "
                         "{manager} µs ({ratio:.0f}× a Value's).").format(
        rounds=facts["rounds"], value=median["value"], array=median["array"], manager=median["manager"], ratio=ratio))


DRAW = {"event-start": event, "semaphore-3": semaphore, "deadlock": deadlock, "manager-lost-updates": lost_updates,
        "shared-memory-cost": cost}
