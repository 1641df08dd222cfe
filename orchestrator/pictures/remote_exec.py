"""The remote shell's pictures: the naive protocol's replies holding the previous command's bytes; framed
against SSH in latency."""
import matplotlib.pyplot as plt
from matplotlib import ticker
from matplotlib.patches import Rectangle

from orchestrator.i18n import _
from orchestrator.pictures._draw import COLORS, style, svg


def leftover(facts):
    replies, total = facts["replies"], facts["seq_output_bytes"]
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(9, 3.6), gridspec_kw={"height_ratios": [3, 1]})
    for row, reply in enumerate(replies):
        stale = reply["command"] == "pwd" and facts.get("pwd_reply_from") == "seq"
        top.add_patch(Rectangle((0, row + 0.15), reply["reply_size"], 0.7, facecolor="white" if stale else COLORS[row],
                                hatch="xx" if stale else "", edgecolor="#D55E00" if stale else "#333333"))
        top.text(reply["reply_size"] + 10, row + 0.5, (_("{size} B: bytes of seq's output, not pwd's") if stale
                                                       else "{size} B").format(size=reply["reply_size"]), va="center")
    top.set(xlim=(0, 1800), ylim=(0, len(replies)), title=_("one recv(1024) per reply"),
            xlabel=_("bytes in the reply"))
    top.set_yticks([r + 0.5 for r in range(len(replies))],
                   [_("reply to {command}").format(command=r["command"]) for r in replies])
    top.invert_yaxis()
    bottom.add_patch(Rectangle((0, 0.1), 1024, 0.8, facecolor=COLORS[1], edgecolor="#333333"))
    bottom.add_patch(Rectangle((1024, 0.1), 1024, 0.8, facecolor="white", hatch="xx", edgecolor="#D55E00"))
    bottom.add_patch(Rectangle((2048, 0.1), total - 2048, 0.8, facecolor="#dddddd", edgecolor="#333333"))
    bottom.set(xlim=(0, total), ylim=(0, 1), yticks=[], xlabel=_(
        "seq 1 20000's {total} bytes of output: read as its reply, read as pwd's reply (hatched), still queued in "
        "the socket").format(total=total))
    figure.tight_layout()
    return svg(figure, _("The naive shell's replies: seq's reply holds its first 1024 of {total} bytes; pwd's reply "
                         "holds the next {leftover} bytes of seq's output (hatched), not pwd's.").format(
        total=total, leftover=facts["leftover_in_pwd_reply"]))


def latency(facts):
    """The distribution of `true`'s round trips, framed against SSH: every run a point, p50 and p95 marked."""
    samples = facts["true"]["samples_ms"]
    figure, axes = plt.subplots(figsize=(8, 2.8))
    for row, shell in enumerate(("framed", "ssh")):
        values = samples[shell]
        jitter = [row + 0.25 * ((i * 0.618) % 1 - 0.5) for i in range(len(values))]
        axes.scatter(values, jitter, s=8, marker="o" if row == 0 else "^", alpha=0.6, **{
            k: v for k, v in style(row).items() if k in ("facecolor", "edgecolor")})
        for key, mark, offset in (("p50_ms", "|", 0.3), ("p95_ms", "x", -0.38)):
            value = facts["true"][shell][key]
            axes.plot(value, row, marker=mark, markersize=16, color="black")
            axes.text(value, row + offset, f"{key[:3]} {value}", ha="center", fontsize=8)
    axes.set_yticks([0, 1], [_("framed (execd)"), "SSH (paramiko)"])
    axes.set(xscale="log", xlabel=_("ms per `true`, {runs} runs each (log scale)").format(runs=facts["true"]["runs"]),
             title=_("round trips of one command: every run a point"), ylim=(-0.7, 1.7))
    axes.xaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _pos: f"{value:g}"))  # 10, not TeX 10^1
    return svg(figure, _("Latency of `true`: framed p50 {framed_p50} ms, p95 {framed_p95} ms; SSH p50 {ssh_p50} ms, "
                         "p95 {ssh_p95} ms; every run drawn as a point.").format(
        framed_p50=facts["true"]["framed"]["p50_ms"], framed_p95=facts["true"]["framed"]["p95_ms"],
        ssh_p50=facts["true"]["ssh"]["p50_ms"], ssh_p95=facts["true"]["ssh"]["p95_ms"]))


DRAW = {"naive-leftover": leftover, "framed-vs-ssh": latency}
