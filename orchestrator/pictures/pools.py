"""The pools lesson drawn: time against pool size, when the caller waits, each client's request on the pool
server, and the client that idle connections starve."""
import matplotlib.pyplot as plt

from orchestrator.i18n import _
from orchestrator.pictures._draw import COLORS, style, svg
from orchestrator.pictures.concurrency import gantt
from orchestrator.scenarios.pools import ASYNC_CALLS, POOLS

LINES = {"process": ("o", "-"), "thread": ("s", "--")}  # marker and line style: told apart in grey too


def sizes(facts):
    figure, axes = plt.subplots(figsize=(6.5, 3.4))
    names = {"process": _("process pool"), "thread": _("thread pool")}
    for index, (executor, seconds) in enumerate(facts["seconds"].items()):
        marker, line = LINES[executor]
        axes.plot(facts["sizes"], seconds, marker=marker, linestyle=line, color=COLORS[index * 4],
                  label=names[executor])
    axes.axvline(facts["usable_cpus"], color="#999999", linestyle=":")
    axes.annotate(_("{cores} CPUs").format(cores=facts["usable_cpus"]), (facts["usable_cpus"], 0),
                  xytext=(4, 4), textcoords="offset points", color="#555555")
    axes.set_xscale("log", base=2)
    axes.set_xticks(facts["sizes"], [str(size) for size in facts["sizes"]])
    axes.set_ylim(bottom=0)
    kind = _("CPU-bound") if facts["kind"] == "cpu" else _("I/O-bound")
    axes.set(xlabel=_("pool size (workers)"), ylabel=_("seconds (median)"),
             title=_("{tasks} {kind} tasks through map()").format(tasks=facts["tasks"], kind=kind))
    axes.legend(frameon=False)
    summary = _("; ").join(_("{pool}: {seconds} s").format(
        pool=names[executor], seconds=", ".join(f"{size}→{round(s, 3)}" for size, s in zip(facts["sizes"], seconds)))
        for executor, seconds in facts["seconds"].items())
    return svg(figure, _("Seconds for {tasks} {kind} tasks against pool size ({cores} usable CPUs, dotted line): "
                         "{summary}.").format(tasks=facts["tasks"], kind=kind, cores=facts["usable_cpus"],
                                              summary=summary))


def calls(facts):
    """A row per pool and call: the tasks' run, the caller inside the call, the caller waiting for results."""
    rows = [(name, way) for name in POOLS for way in ("map", "async")]
    figure, axes = plt.subplots(figsize=(8.5, 0.45 * len(rows) + 1.4))
    parts = (_("tasks running"), _("caller inside the call"), _("caller waiting for the results"))
    for row, (name, way) in enumerate(rows):
        call = facts[name][way]
        first, last = min(s for s, _e in call["tasks_ms"]), max(e for _s, e in call["tasks_ms"])
        spans = ((first, last), (0, call["returned_ms"]), (call["returned_ms"], call["done_ms"]))
        for index, ((start, end), part) in enumerate(zip(spans, parts)):
            axes.barh(row + (index - 1) * 0.25, end - start, left=start, height=0.25,
                      label=part if row == 0 else None, **style(index))
    axes.set_yticks(range(len(rows)), [f"{POOLS[name]}\n{'map()' if way == 'map' else ASYNC_CALLS[name][0]}"
                                       for name, way in rows])
    axes.invert_yaxis()
    axes.set(xlabel=_("ms since the call"), title=_("{workers} tasks of {ms} ms: when the caller waits").format(
        workers=facts["workers"], ms=facts["task_ms"]))
    axes.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3)
    summary = _("; ").join(_("{pool}: map() returned after {map_ms} ms, the asynchronous call after {async_ms} "
                             "ms").format(pool=POOLS[name], map_ms=facts[name]["map"]["returned_ms"],
                                          async_ms=facts[name]["async"]["returned_ms"]) for name in POOLS)
    return svg(figure, _("When each call returned and when its results were in, against the tasks' run: "
                         "{summary}.").format(summary=summary))


def starved(facts):
    """Per server, the idle connections as bars and the later client's request, from sending to the answer."""
    servers = [name for name in ("pool", "fork") if name in facts]
    figure, axes = plt.subplots(len(servers), 1, figsize=(9, 0.35 * facts["workers"] * len(servers) + 2),
                                sharex=True)
    names = {"pool": _("pool of {workers}").format(workers=facts["workers"]), "fork": _("fork per client")}
    end = max((facts[name]["answered_ms"] or 0) for name in servers) + 100
    for ax, name in zip(axes if len(servers) > 1 else [axes], servers):
        r = facts[name]
        for row in range(r["connections"]):
            closes = r["closed_ms"] if row == 0 and r["closed_ms"] is not None else end
            ax.barh(row, closes, left=0, height=0.6, **style(7))
        waited = r["answered_ms"] if r["answered_ms"] is not None else end
        ax.barh(r["connections"], waited, left=0, height=0.6, **style(5))
        if r["answered_ms"] is not None:
            ax.plot(r["answered_ms"], r["connections"], marker="o", color="#009E73", markersize=8)
        ax.axvline(r["patience_s"] * 1000, color="#333333", linestyle=":")
        ax.set_yticks(range(r["connections"] + 1), [_("idle {number}").format(number=n + 1)
                                                    for n in range(r["connections"])] + [_("later client")])
        ax.invert_yaxis()
        ax.set_title(names[name], fontsize=9)
    (axes[-1] if len(servers) > 1 else axes).set_xlabel(
        _("ms since the later client sent its request (o: answered; dotted: its patience)\n"
          "grey, hatched --: the idle connections held; red, hatched ++: the later client waiting"))
    pool = facts.get("pool", {})
    return svg(figure, _("{workers} idle connections, then a later client: the pool server answered it "
                         "{after_close_ms} ms after the first idle connection closed at {closed_ms} ms; fork per "
                         "client answered it after {fork_ms} ms.").format(
        workers=facts["workers"], after_close_ms=pool.get("after_close_ms"), closed_ms=pool.get("closed_ms"),
        fork_ms=facts.get("fork", {}).get("answered_ms")))


DRAW = {"cpu-bound-sizes": sizes, "io-bound-sizes": sizes, "sync-vs-async": calls, "pool-server": gantt,
        "pool-starved": starved}
