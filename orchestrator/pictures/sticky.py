"""The sticky lesson's pictures: one byte axis cut three ways (send() calls, TCP segments, recv() chunks),
the UDP datagrams kept, cut and lost."""
import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

from orchestrator.i18n import N_, _
from orchestrator.pictures._draw import COLORS, HATCHES, style, svg

ROWS = [N_("send() calls"), N_("TCP segments"), N_("recv() chunks")]


def spans(sizes):
    """[(start, end)] of consecutive pieces of these sizes on one byte axis."""
    out, at = [], 0
    for size in sizes:
        out.append((at, at + size))
        at += size
    return out


def cut_three_ways(axes, run, title):
    """One byte axis, three rows: each message its colour and hatch; each row's pieces outlined in black."""
    messages = spans(run["send_calls"])  # the lesson sends one message per call
    total = messages[-1][1]
    for row, sizes in enumerate([run["send_calls"], run["segments"], run["recv_chunks"]]):
        y = len(ROWS) - 1 - row
        for index, (start, end) in enumerate(messages):
            axes.add_patch(Rectangle((start, y + 0.1), end - start, 0.8, linewidth=0, **style(index)))
        for start, end in spans(sizes):
            axes.add_patch(Rectangle((start, y + 0.1), end - start, 0.8, fill=False, linewidth=2, edgecolor="black"))
            if (end - start) / total > 0.06:
                axes.text((start + end) / 2, y + 0.5, f"{end - start} B", ha="center", va="center",
                          bbox={"facecolor": "white", "alpha": 0.8, "linewidth": 0})
    axes.set(xlim=(0, total), ylim=(0, len(ROWS)), title=title, xlabel=_("byte offset in the stream"))
    axes.set_yticks([2.5, 1.5, 0.5], [f"{_(r)} ({len(s)})" for r, s in zip(ROWS, [run["send_calls"], run["segments"],
                                                                           run["recv_chunks"]])])


def wire_view(facts):
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(9, 4.8))
    cut_three_ways(top, facts["nagle"], _("Nagle on: the segments merge what send() kept apart"))
    cut_three_ways(bottom, facts["nodelay"], _("TCP_NODELAY: more segments, and recv() still merges them"))
    figure.tight_layout()
    counts = {f"{m}_{k}": len(facts[m][run_key]) for m in ("nagle", "nodelay")
              for k, run_key in (("sends", "send_calls"), ("segments", "segments"), ("recvs", "recv_chunks"))}
    alt = _("The same bytes cut three ways. Nagle on: {nagle_sends} send() calls, {nagle_segments} TCP segments, "
            "{nagle_recvs} recv() chunks. TCP_NODELAY: {nodelay_sends} send() calls, {nodelay_segments} segments, "
            "{nodelay_recvs} recv() chunks. Each message has its own colour; black outlines are the pieces.").format(
        **counts)
    return svg(figure, alt)


def merge(facts):
    run = {"send_calls": facts["sends"], "segments": facts["segments"], "recv_chunks": facts["recvs"]}
    figure, axes = plt.subplots(figsize=(9, 2.6))
    cut_three_ways(axes, run, _("{messages} messages, {reads} recv() call(s)").format(messages=facts["messages"],
                                                                                        reads=facts["reads"]))
    return svg(figure, _("{messages} messages of {sends} send() calls arrived in {segments} segments and were read "
                         "by {reads} recv() call(s).").format(messages=facts["messages"], sends=len(facts["sends"]),
                                                              segments=len(facts["segments"]), reads=facts["reads"]))


def datagrams(facts):
    """Each datagram a box its length wide: what the read got filled, what was cut off hatched."""
    figure, axes = plt.subplots(figsize=(9, 1.8))
    at = 0
    for index, d in enumerate(facts["datagrams"]):
        axes.add_patch(Rectangle((at, 0.1), d["received"], 0.8, facecolor=COLORS[index % len(COLORS)],
                                 edgecolor="black"))
        if d["truncated"]:
            axes.add_patch(Rectangle((at + d["received"], 0.1), d["length"] - d["received"], 0.8, facecolor="white",
                                     hatch="xx", edgecolor="#D55E00"))
            axes.text(at + d["received"] + (d["length"] - d["received"]) / 2, 0.5, _("discarded"), ha="center",
                      va="center", color="#D55E00")
        at += d["length"]
    axes.set(xlim=(0, at), ylim=(0, 1), xlabel=_("bytes sent, datagram after datagram"), yticks=[],
             title=_("UDP: each datagram read whole or cut to the buffer"))
    cut = [d for d in facts["datagrams"] if d["truncated"]]
    reads = _(", ").join(_("{received} of {length} bytes read").format(received=d["received"], length=d["length"])
                         for d in cut)
    return svg(figure, _("{datagrams} datagrams; {cut} cut: {reads}").format(datagrams=len(facts["datagrams"]),
                                                                             cut=len(cut), reads=reads))


def loss(facts):
    udp = facts["udp"]
    lost = set(udp.get("lost_indices", []))
    figure, axes = plt.subplots(figsize=(9, 1.6))
    for index in range(udp["sent"]):
        axes.add_patch(Rectangle((index, 0.1), 0.9, 0.8, facecolor="white" if index in lost else COLORS[4],
                                 hatch="xx" if index in lost else HATCHES[0], edgecolor="#333333", linewidth=0.3))
    tcp = facts["tcp"]
    axes.set(xlim=(0, udp["sent"]), ylim=(0, 1), yticks=[], xlabel=_("datagram number (hatched: lost)"),
             title=_("UDP under {loss} loss: {lost} of {sent} lost; TCP: {bytes_received}/{bytes_sent} bytes, "
                     "{resent} segments resent").format(
                 loss=f"{facts['loss_percent']}%", lost=udp["lost"], sent=udp["sent"],  # "% l…" would read as printf
                 bytes_received=tcp["bytes_received"], bytes_sent=tcp["bytes_sent"],
                 resent=tcp["retransmitted_segments"]))
    return svg(figure, _("{lost} of {sent} UDP datagrams lost (hatched); TCP delivered every byte, resending {resent} "
                         "segments.").format(lost=udp["lost"], sent=udp["sent"], resent=tcp["retransmitted_segments"]))


DRAW = {"wire-view": wire_view, "tcp-merge-nagle": merge, "tcp-merge-nodelay": merge, "udp-truncation": datagrams,
        "udp-boundaries": datagrams, "udp-loss-tcp-intact": loss}


def frames_over_reads(facts):
    """The framed stream: each frame its colour (prefix, header and body, as on the wire), and the receiver's
    reads as black lines where one ended: reads cut frames anywhere; the length says where each ends."""
    frames, reads = facts["wire_sizes"], facts["reads"]
    total = sum(frames)
    figure, axes = plt.subplots(figsize=(9, 2.4))
    for index, (start, end) in enumerate(spans(frames)):
        axes.add_patch(Rectangle((start, 1.1), end - start, 0.8, linewidth=0, **style(index)))
    for _start, end in spans(reads):
        axes.plot([end, end], [0.1, 0.9], color="black", linewidth=0.6)
    axes.set(xlim=(0, total), ylim=(0, 2), xlabel=_("bytes on the wire (MB)"), title=_(
        "{frames} frames read in {reads} recv() calls over a link with {delay_ms} ms delay and {loss} loss").format(
        frames=len(frames), reads=len(reads), delay_ms=facts["link"]["delay_ms"],
        loss=f"{facts['link']['loss_percent']}%"))  # "% l…" would read as printf
    axes.set_yticks([1.5, 0.5], [_("frames"), _("recv() ends")])
    axes.xaxis.set_major_formatter(lambda x, _position: f"{x / 1e6:g}")
    return svg(figure, _("{frames} frames ({total} bytes on the wire) against {reads} reads: the reads end inside "
                         "frames, yet all {intact} arrived intact.").format(
        frames=len(frames), total=total, reads=len(reads), intact=facts["delivered_intact"]))


DRAW["framing-fix"] = frames_over_reads
