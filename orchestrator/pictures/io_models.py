"""The io-models lesson drawn: each model's threads, memory, CPU, connections held and echo latency side by side;
one select() against one epoll poll by the number of descriptors; a slow reader against three output policies."""
import matplotlib.pyplot as plt
from matplotlib import ticker

from orchestrator.i18n import _
from orchestrator.pictures._draw import COLORS, style, svg
from orchestrator.scenarios.io_models import FD_SETSIZE, OUTPUT_NAMES, model_name

LINES = [("o", "-"), ("s", "--"), ("^", ":")]  # marker and line style of each curve: told apart in grey too


def bars(axes, models, values, label):
    """A bar per model, each in its own colour and hatch, its value written on it."""
    names = [model_name(model) for model in models]
    for index, value in enumerate(values):
        axes.bar(index, value, width=0.65, **style(index))
        axes.annotate(f"{value:g}", (index, value), xytext=(0, 2), textcoords="offset points", ha="center",
                      fontsize=8)
    axes.set_xticks(range(len(names)), names, rotation=20, ha="right")
    axes.set_ylabel(label)


def beside(axes, y, text):
    """A dashed line across at y, named outside the plot on the right."""
    axes.axhline(y, color="#555555", linestyle="--")
    axes.annotate(text, (1, y), xycoords=("axes fraction", "data"), xytext=(4, 0), textcoords="offset points",
                  va="center", color="#555555", fontsize=8)


def plain_log(axes):
    axes.set_yscale("log")
    axes.yaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _pos: f"{value:g}"))  # 1000, not TeX 10^3
    axes.yaxis.set_minor_formatter(ticker.NullFormatter())


def listed(models, key, unit=""):
    """`a thread per connection 1101, a busy loop 1, …` for the alt text."""
    return _(", ").join(f"{model_name(model)} {row[key]}{unit}" for model, row in models.items())


def resources(facts):
    models = facts["models"]
    figure, (threads, memory) = plt.subplots(1, 2, figsize=(9, 3.4))
    bars(threads, models, [row["threads"] for row in models.values()], _("threads (logarithmic)"))
    plain_log(threads)
    bars(memory, models, [row["rss_per_connection_kib"] for row in models.values()],
         _("KiB of RSS added per connection"))
    figure.suptitle(_("{connections} connections, {active} of them active").format(
        connections=facts["connections"], active=facts["active"]))
    return svg(figure, _("The server's threads per model: {threads}. RSS added per connection, in KiB: "
                         "{memory}.").format(threads=listed(models, "threads"),
                                             memory=listed(models, "rss_per_connection_kib")))


def cpu(facts):
    models = facts["models"]
    figure, axes = plt.subplots(figsize=(6.5, 3.4))
    bars(axes, models, [row["cpu_per_s"] for row in models.values()], _("s of CPU per second"))
    beside(axes, 1, _("one core"))
    axes.set_ylim(0, max(1.15, 1.1 * max(row["cpu_per_s"] for row in models.values())))
    axes.set_title(_("the server's CPU over the {window} s window (/proc/PID/stat)").format(window=facts["window_s"]))
    return svg(figure, _("Seconds of CPU per second of the window, by model (dashed line: one core): "
                         "{cpu}.").format(cpu=listed(models, "cpu_per_s")))


def held(facts):
    models = facts["models"]
    figure, axes = plt.subplots(figsize=(6.5, 3.4))
    bars(axes, models, [row["open"] for row in models.values()], _("connections held"))
    beside(axes, FD_SETSIZE, _("FD_SETSIZE {limit}").format(limit=FD_SETSIZE))
    axes.set_title(_("of {connections} connections, held when the window ended").format(
        connections=facts["connections"]))
    return svg(figure, _("Connections the server still held, of {connections}, by model (dashed line: select()'s "
                         "limit of {limit} descriptors): {held}.").format(
        connections=facts["connections"], limit=FD_SETSIZE, held=listed(models, "open")))


def latency(facts):
    models = facts["models"]
    figure, axes = plt.subplots(figsize=(7, 3.4))
    for offset, key, index in ((-0.2, "p50_ms", 1), (0.2, "p95_ms", 5)):
        values = [row[key] or 0 for row in models.values()]
        axes.bar([i + offset for i in range(len(models))], values, width=0.4, label=key[:3], **style(index))
    axes.set_xticks(range(len(models)), [model_name(model) for model in models], rotation=20, ha="right")
    axes.set(ylabel=_("ms from a line sent to its echo"),
             title=_("{active} active clients, a line every {every_ms} ms each").format(
                 active=facts["active"], every_ms=facts["every_ms"]))
    axes.legend(frameon=False)
    return svg(figure, _("Echo latency by model, p50: {p50}; p95: {p95}.").format(
        p50=listed(models, "p50_ms", " ms"), p95=listed(models, "p95_ms", " ms")))


def cost(facts):
    figure, axes = plt.subplots(figsize=(6.5, 3.4))
    for index, (key, label) in enumerate((("select_us", "select()"), ("epoll_us", "epoll.poll()"))):
        marker, line = LINES[index]
        axes.plot(facts["sizes"], facts[key], marker=marker, linestyle=line, color=COLORS[index * 4], label=label)
    axes.set_xticks(facts["sizes"], [str(size) for size in facts["sizes"]])
    axes.set_ylim(bottom=0)
    axes.set(xlabel=_("descriptors watched, none ready"), ylabel=_("µs per call (median)"),
             title=_("one call, timeout 0, median of {rounds}").format(rounds=facts["rounds"]))
    axes.legend(frameon=False)
    pairs = _(", ").join(f"{n}: {s} / {e}" for n, s, e in zip(facts["sizes"], facts["select_us"], facts["epoll_us"]))
    return svg(figure, _("Median µs of one select() / one epoll poll by the number of descriptors: "
                         "{pairs}.").format(pairs=pairs))


def slow(facts):
    outputs = facts["outputs"]
    figure, (late, back) = plt.subplots(1, 2, figsize=(10, 3.6), width_ratios=[3, 2], layout="constrained")
    for index, (output, m) in enumerate(outputs.items()):
        marker, line = LINES[index]
        times, worst = zip(*m["timeline"]) if m["timeline"] else ((), ())
        late.plot(times, worst, marker=marker, linestyle=line, markersize=3, color=COLORS[index * 2],
                  label=_(OUTPUT_NAMES[output]))
        slow_reader = m["slow"][0]
        back.barh(index - 0.2, slow_reader["sent"] / 2**20, height=0.4, label=_("sent") if index == 0 else None,
                  **style(7))
        back.barh(index + 0.2, slow_reader["received"] / 2**20, height=0.4,
                  label=_("echoed back") if index == 0 else None, **style(2))
    late.set(xlabel=_("ms into the window"), ylabel=_("slowest echo (ms) per 100 ms"),
             title=_("the {active} active clients").format(active=facts["active"]))
    late.legend(frameon=False, fontsize=8)
    back.set_yticks(range(len(outputs)), [_(OUTPUT_NAMES[output]) for output in outputs])
    back.invert_yaxis()
    back.set(xlabel=_("MiB"), title=_("the slow reader"))
    back.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2)
    summary = _("; ").join(_("{output}: the slowest echo {max} ms, the slow reader got back {received} of {sent} "
                             "bytes").format(output=_(OUTPUT_NAMES[output]), max=m["max_ms"],
                                             received=m["slow"][0]["received"], sent=m["slow"][0]["sent"])
                           for output, m in outputs.items())
    return svg(figure, _("A slow reader beside the active clients, by output policy: {summary}.").format(
        summary=summary))


DRAW = {"thread-per-connection": resources, "busy-loop": cpu, "select-limit": held, "epoll": latency,
        "select-cost": cost, "slow-reader": slow}
