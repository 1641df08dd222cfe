"""The remote shell's pictures: the naive protocol's replies holding the previous command's bytes; framed
against SSH in latency."""
import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

from orchestrator.pictures._draw import COLORS, style, svg


def leftover(facts):
    replies, total = facts["replies"], facts["seq_output_bytes"]
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(9, 3.6), gridspec_kw={"height_ratios": [3, 1]})
    for row, reply in enumerate(replies):
        stale = reply["command"] == "pwd" and facts.get("pwd_reply_from") == "seq"
        top.add_patch(Rectangle((0, row + 0.15), reply["reply_size"], 0.7, facecolor="white" if stale else COLORS[row],
                                hatch="xx" if stale else "", edgecolor="#D55E00" if stale else "#333333"))
        top.text(reply["reply_size"] + 10, row + 0.5, f"{reply['reply_size']} B" +
                 (": bytes of seq's output, not pwd's" if stale else ""), va="center")
    top.set(xlim=(0, 1800), ylim=(0, len(replies)), title="one recv(1024) per reply", xlabel="bytes in the reply")
    top.set_yticks([r + 0.5 for r in range(len(replies))], [f"reply to {r['command']}" for r in replies])
    top.invert_yaxis()
    bottom.add_patch(Rectangle((0, 0.1), 1024, 0.8, facecolor=COLORS[1], edgecolor="#333333"))
    bottom.add_patch(Rectangle((1024, 0.1), 1024, 0.8, facecolor="white", hatch="xx", edgecolor="#D55E00"))
    bottom.add_patch(Rectangle((2048, 0.1), total - 2048, 0.8, facecolor="#dddddd", edgecolor="#333333"))
    bottom.set(xlim=(0, total), ylim=(0, 1), yticks=[], xlabel=f"seq 1 20000's {total} bytes of output: read as its "
               "reply, read as pwd's reply (hatched), still queued in the socket")
    figure.tight_layout()
    return svg(figure, f"The naive shell's replies: seq's reply holds its first 1024 of {total} bytes; pwd's reply "
                       f"holds the next {facts['leftover_in_pwd_reply']} bytes of seq's output (hatched), not pwd's.")


def latency(facts):
    figure, axes = plt.subplots(figsize=(6, 2.6))
    rows = [("framed", "p50_ms"), ("framed", "p95_ms"), ("ssh", "p50_ms"), ("ssh", "p95_ms")]
    for row, (shell, key) in enumerate(rows):
        value = facts["true"][shell][key]
        axes.barh(row, value, **style(0 if shell == "framed" else 1))
        axes.text(value, row, f" {value} ms", va="center")
    axes.set_yticks(range(len(rows)), [f"{s} {k[:3]}" for s, k in rows])
    axes.invert_yaxis()
    axes.set(xlabel=f"ms for `true`, {facts['true']['runs']} runs each", title="framed remote shell against SSH")
    return svg(figure, "Latency of `true`: framed p50 {} ms, p95 {} ms; SSH p50 {} ms, p95 {} ms.".format(
        facts["true"]["framed"]["p50_ms"], facts["true"]["framed"]["p95_ms"], facts["true"]["ssh"]["p50_ms"],
        facts["true"]["ssh"]["p95_ms"]))


DRAW = {"naive-leftover": leftover, "framed-vs-ssh": latency}
