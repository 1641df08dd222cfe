"""The handshake lesson's pictures: the captured segments as a ladder between client and server (the
handshake, the half-close, the close), the backlog's connect() times against the SYNs resent, and the
ranges of struct's formats beside a 5 GiB file's size."""
import math

import matplotlib.pyplot as plt

from orchestrator.i18n import _
from orchestrator.pictures._draw import COLORS, style, svg
from orchestrator.scenarios.handshake import label, listed, told

# who sent a segment: a colour and a line style each, told apart in grey as in colour
SENDERS = {"client": {"color": COLORS[4], "linestyle": "-"}, "server": {"color": COLORS[5], "linestyle": "--"}}
HELD = {"facecolor": "white", "hatch": "//", "edgecolor": "#999999"}  # the server not calling accept()


def ladder(facts):
    """Client and server as two lines down the page, each segment an arrow from its sender, in capture order
    (its time written beside it: the gaps range from microseconds to the server's pause)."""
    segments = facts["segments"]
    figure, axes = plt.subplots(figsize=(7, 0.5 * len(segments) + 1.4))
    for x, side in ((0, "client"), (1, "server")):
        axes.plot([x, x], [-0.3, len(segments)], color="#333333", linewidth=2)
        axes.text(x, -0.5, _(side), ha="center", va="bottom", fontweight="bold")
    for row, segment in enumerate(segments):
        start, end = (0, 1) if segment["from"] == "client" else (1, 0)
        line = SENDERS[segment["from"]]
        thick = 2.2 if {"SYN", "FIN"} & set(segment["flags"]) else 1.2
        axes.annotate("", (end, row + 0.6), (start, row + 0.2),
                      arrowprops={"arrowstyle": "->", "lw": thick, "shrinkA": 0, "shrinkB": 0, **line})
        axes.text(0.5, row + 0.32, label(segment), ha="center", va="bottom", fontsize=8, color=line["color"],
                  bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
        axes.text(-0.08, row + 0.2, f"{segment['ms']:g} ms", ha="right", va="center", fontsize=7, color="#555555")
        if "FIN" in segment["flags"]:
            axes.text(start + (0.03 if start == 0 else -0.03), row + 0.02, _("sends no more"), fontsize=7,
                      style="italic", ha="left" if start == 0 else "right", va="bottom", color=line["color"])
    for x, key in ((0, "client_state"), (1, "server_state")):
        if key in facts:
            axes.text(x, len(segments) + 0.2, _(facts[key]), ha="center", va="top",
                      bbox={"facecolor": "white", "edgecolor": "#333333"})
    axes.set(xlim=(-0.45, 1.3), ylim=(len(segments) + 0.8, -0.7), xticks=[], yticks=[])
    axes.spines[["left", "bottom"]].set_visible(False)
    ends = _(" Afterwards ss shows the client's side {client} and the server's {server}.").format(
        client=_(facts["client_state"]), server=_(facts["server_state"])) if "client_state" in facts else ""
    return svg(figure, _("The captured segments from top to bottom (solid: the client's, dashed: the "
                         "server's): {segments}.").format(segments=told(segments)) + ends)


def connects(axes, run):
    """One backlog run: a bar per client to the moment its connect() returned; x for each SYN it sent."""
    queued, late = run["queued"], run["late"]
    axes.axvspan(0, run["hold_s"], **HELD, label=_("no accept()"))
    for row, client in enumerate(queued):
        axes.barh(row, max(client["seconds"], 0.01), height=0.6, **style(2))
    for row, client in enumerate(late, len(queued)):
        axes.barh(row, client["seconds"], height=0.6, **style(0))
        axes.plot(client["syn_s"], [row] * len(client["syn_s"]), linestyle="", marker="x", markersize=8,
                  color="black")
    axes.set_yticks(range(len(queued) + len(late)),
                    [_("queued {n}").format(n=n + 1) for n in range(len(queued))]
                    + [_("late {n}").format(n=n + 1) for n in range(len(late))])
    axes.invert_yaxis()
    axes.set(title=_("the server takes its queue at {hold} s").format(hold=run["hold_s"]))


def backlog(facts):
    runs = facts["runs"]
    figure, panels = plt.subplots(len(runs), 1, sharex=True, figsize=(8, 1.2 + 0.35 * sum(
        len(run["queued"]) + len(run["late"]) for run in runs) + 0.6 * len(runs)))
    for axes, run in zip(panels, runs):
        connects(axes, run)
    panels[0].legend(loc="lower right")
    panels[-1].set(xlabel=_("seconds (bar: until connect() returned; x: a SYN sent)"))
    figure.suptitle(_("listen({backlog}): {queued} wait in the accept queue, the rest resend their SYNs").format(
        backlog=facts["backlog"], queued=facts["backlog"] + 1))
    figure.tight_layout()
    said = _("; ").join(_("with the server taking its queue at {hold} s, {queued} clients connected at once and "
                          "{late} late ones after {seconds} s, the first of them sending SYNs at {syns} s").format(
        hold=run["hold_s"], queued=len(run["queued"]), late=len(run["late"]),
        seconds=listed(client["seconds"] for client in run["late"]),
        syns=listed(run["late"][0]["syn_s"]) if run["late"] else "-") for run in runs)
    return svg(figure, _("listen({backlog}): {runs}.").format(backlog=facts["backlog"], runs=said))


def ranges(facts):
    """Each format's reach in bits (log2 of its largest number + 1) against the bits of a 5 GiB file's size."""
    formats, size = facts["formats"], facts["file"]["bytes"]
    figure, axes = plt.subplots(figsize=(8, 2.2))
    names = list(formats)
    for row, fmt in enumerate(names):
        bits = math.log2(formats[fmt]["largest"] + 1)
        axes.barh(row, bits, height=0.6, **style(row + 1))
        axes.text(bits - 0.5, row, f"{formats[fmt]['largest']:,}", ha="right", va="center", fontsize=8,
                  bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
    needed = math.log2(size)
    axes.axvline(needed, color="black", linestyle=":", linewidth=2)
    axes.text(needed + 0.5, -0.55, _("a {gib} GiB file: {size:,} bytes").format(gib=size >> 30, size=size),
              fontsize=8, va="bottom")
    axes.set_yticks(range(len(names)), [f"struct '{fmt}'" for fmt in names])
    axes.set(xlim=(0, 80), ylim=(len(names) - 0.5, -0.9), xlabel=_("bits of the largest number a format packs"),
             title=_("what fits in a length field"))
    return svg(figure, _("'i' packs up to {i:,}, '!I' up to {unsigned:,}, '!Q' up to {quad:,}; a {gib} GiB file's "
                         "size, {size:,} bytes, is past the first two (dotted line).").format(
        i=formats["i"]["largest"], unsigned=formats["!I"]["largest"], quad=formats["!Q"]["largest"],
        gib=size >> 30, size=size))


DRAW = {"three-way-handshake": ladder, "four-way-close": ladder, "half-close": ladder, "backlog-full": backlog,
        "struct-range": ranges}
