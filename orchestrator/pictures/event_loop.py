"""An event loop seen from outside: the active clients' reply times before, during and after the slow reader,
and the server's threads and CPU over the whole check, each case's span shaded and named."""
import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter, NullFormatter

from orchestrator.i18n import _
from orchestrator.pictures._draw import COLORS, HATCHES, svg

CASES = {"idle-crowd": 7, "active-latency": 1, "slow-reader": 5, "cpu": 2}  # a case's colour and hatch


def case_names():
    return {"idle-crowd": _("idle crowd"), "active-latency": _("active clients"),
            "slow-reader": _("slow reader"), "cpu": _("quiet")}


def shade(axes, start, end, index, text=None):
    """A span in a colour and hatch of its own (readable in grey), named at its top."""
    axes.axvspan(start, end, facecolor=COLORS[index], hatch=HATCHES[index][:1], edgecolor="#777777", alpha=0.25,
                 linewidth=0)
    if text:
        axes.text((start + end) / 2, 1.01, text, ha="center", va="bottom", fontsize=7,
                  transform=axes.get_xaxis_transform())


def latency(facts):
    """Every reply's time (log scale) at the moment its line was sent; the slow reader's stay shaded, its
    arrival dashed; lines never answered as crosses at the top."""
    cases, limit = facts["timing"], facts["limit_ms"]
    zero, (slow_start, slow_end) = cases["active"][0][0], cases["slow"][0]
    figure, axes = plt.subplots(figsize=(9, 3.2))
    shade(axes, slow_start - zero, slow_end - zero, CASES["slow-reader"], _("slow reader connected"))
    axes.axvline(slow_start - zero, color="#333333", linestyle="--", linewidth=1)
    points = facts["points"]
    top = max([limit * 4] + [ms for __, ms in points])
    axes.scatter([at - zero for at, __ in points], [max(ms, 0.05) for __, ms in points], s=6, marker="o",
                 color="#222222", edgecolors="none", label=_("a reply"))
    failures = [at - zero for at, __ in facts["failures"] if at is not None]
    if failures:
        axes.scatter(failures, [top] * len(failures), s=30, marker="x", color="#D55E00", label=_("no reply"))
    axes.axhline(limit, color="#333333", linestyle=":", linewidth=1,
                 label=_("p95 limit ({limit} ms)").format(limit=limit))
    axes.set_yscale("log")
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, __: f"{value:g}"))  # 0.1 … 1000, no TeX
    axes.yaxis.set_minor_formatter(NullFormatter())
    axes.set(xlabel=_("seconds since the active clients started"), ylabel=_("reply time (ms, log scale)"),
             xlim=(0, cases["after"][0][1] - zero), ylim=(0.05, top * 1.5))
    axes.legend(loc="upper left", fontsize=7)
    stats = facts["latency"]
    told = {case: "–" if not stats[case]["count"] else stats[case]["p95_ms"] for case in ("active", "slow", "after")}
    axes.set_title(_("the active clients' replies: p95 {before} ms before, {during} ms with the slow reader, "
                     "{after} ms after").format(before=told["active"], during=told["slow"], after=told["after"]),
                   pad=14)
    return svg(figure, _("Reply times of the active clients over the check, on a log scale: p95 {before} ms before the "
                         "slow reader came, {during} ms while it was connected (it sent {mib} MiB), {after} ms after "
                         "it left; {failures} line(s) never answered.").format(
        before=told["active"], during=told["slow"], after=told["after"],
        mib=round(facts["slow"]["sent_bytes"] / (1 << 20), 1), failures=len(failures)))


def cpu_stretches(samples, least=0.2):
    """[(start, % of a core)] over stretches of at least `least` s: CPU time is counted in 10 ms ticks, so a
    shorter stretch says more about the tick than about the program."""
    stretches, (start, used) = [], (samples[0][0], samples[0][3])
    for at, __, __, cpu in samples[1:]:
        if at - start >= least:
            stretches.append((start, 100 * (cpu - used) / (at - start)))
            start, used = at, cpu
    return stretches or [(start, 0.0)]


def usage(facts):
    """The server's threads (a step line) and its CPU between samples (% of one core), the cases shaded."""
    samples, cases = facts["usage"], facts["timing"]
    zero = min([samples[0][0]] + [span[0] for spans in cases.values() for span in spans])
    end = max([samples[-1][0]] + [span[1] for spans in cases.values() for span in spans]) - zero
    figure, (threads, cpu) = plt.subplots(2, 1, figsize=(9, 3.8), sharex=True)
    for case, spans in cases.items():
        widest = max(spans, key=lambda span: span[1] - span[0])  # named once, where there is room
        for start, stop in spans:
            shade(threads, start - zero, stop - zero, CASES[case], case_names()[case] if (start, stop) == tuple(widest)
                  else None)
            shade(cpu, start - zero, stop - zero, CASES[case])
    times = [at - zero for at, *__ in samples]
    most = max(n for __, n, *__ in samples)
    threads.step(times + [end], [n for __, n, *__ in samples] + [samples[-1][1]], where="post", color="#333333")
    threads.set(ylabel=_("threads"), ylim=(0, most + 1))
    stretches = cpu_stretches(samples)
    shares = [share for __, share in stretches]
    cpu.step([at - zero for at, __ in stretches] + [samples[-1][0] - zero], shares + shares[-1:], where="post",
             color="#0072B2")
    cpu.axhline(100 * facts["cpu_limit"], color="#D55E00", linestyle="--", linewidth=1)
    cpu.set(xlabel=_("seconds"), ylabel=_("CPU busy (%, a core = 100)"), ylim=(0, max([100] + shares) * 1.1), xlim=(0, end))
    figure.suptitle(_("the server over the check: at most {most} thread(s); dashed: the CPU allowed while idle").format(
        most=most))
    quiet = facts["cpu_share"]
    return svg(figure, _("The server's thread count (at most {most}) and its CPU use over the check, each case "
                         "shaded; while every client was idle it used {share}.").format(
        most=most, share=_("a core {share} % busy").format(share=round(quiet * 100)) if quiet is not None
        else _("an unknown share of a core")))


DRAW = {"slow-reader": latency, "one-thread": usage, "cpu": usage}
