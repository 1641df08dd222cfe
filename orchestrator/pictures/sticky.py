"""The sticky lesson's pictures: one byte axis cut three ways (send() calls, TCP segments, recv() chunks),
the UDP datagrams kept, cut and lost."""
import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

from orchestrator.pictures._draw import COLORS, HATCHES, style, svg

ROWS = ["send() calls", "TCP segments", "recv() chunks"]


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
    axes.set(xlim=(0, total), ylim=(0, len(ROWS)), title=title, xlabel="byte offset in the stream")
    axes.set_yticks([2.5, 1.5, 0.5], [f"{r} ({len(s)})" for r, s in zip(ROWS, [run["send_calls"], run["segments"],
                                                                           run["recv_chunks"]])])


def wire_view(facts):
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(9, 4.8))
    cut_three_ways(top, facts["nagle"], "Nagle on: the segments merge what send() kept apart")
    cut_three_ways(bottom, facts["nodelay"], "TCP_NODELAY: more segments, and recv() still merges them")
    figure.tight_layout()
    alt = ("The same bytes cut three ways. Nagle on: {} send() calls, {} TCP segments, {} recv() chunks. "
           "TCP_NODELAY: {} send() calls, {} segments, {} recv() chunks. Each message has its own colour; "
           "black outlines are the pieces.").format(*(len(facts[m][k]) for m in ("nagle", "nodelay")
                                                     for k in ("send_calls", "segments", "recv_chunks")))
    return svg(figure, alt)


def merge(facts):
    run = {"send_calls": facts["sends"], "segments": facts["segments"], "recv_chunks": facts["recvs"]}
    figure, axes = plt.subplots(figsize=(9, 2.6))
    cut_three_ways(axes, run, f"{facts['messages']} messages, {facts['reads']} recv() call(s)")
    return svg(figure, f"{facts['messages']} messages of {len(facts['sends'])} send() calls arrived in "
                       f"{len(facts['segments'])} segments and were read by {facts['reads']} recv() call(s).")


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
            axes.text(at + d["received"] + (d["length"] - d["received"]) / 2, 0.5, "discarded", ha="center",
                      va="center", color="#D55E00")
        at += d["length"]
    axes.set(xlim=(0, at), ylim=(0, 1), xlabel="bytes sent, datagram after datagram", yticks=[],
             title="UDP: each datagram read whole or cut to the buffer")
    cut = [d for d in facts["datagrams"] if d["truncated"]]
    return svg(figure, f"{len(facts['datagrams'])} datagrams; {len(cut)} cut: " +
               ", ".join(f"{d['received']} of {d['length']} bytes read" for d in cut))


def loss(facts):
    udp = facts["udp"]
    lost = set(udp.get("lost_indices", []))
    figure, axes = plt.subplots(figsize=(9, 1.6))
    for index in range(udp["sent"]):
        axes.add_patch(Rectangle((index, 0.1), 0.9, 0.8, facecolor="white" if index in lost else COLORS[4],
                                 hatch="xx" if index in lost else HATCHES[0], edgecolor="#333333", linewidth=0.3))
    axes.set(xlim=(0, udp["sent"]), ylim=(0, 1), yticks=[], xlabel="datagram number (hatched: lost)",
             title=f"UDP under {facts['loss_percent']}% loss: {udp['lost']} of {udp['sent']} lost; TCP: "
                   f"{facts['tcp']['bytes_received']}/{facts['tcp']['bytes_sent']} bytes, "
                   f"{facts['tcp']['retransmitted_segments']} segments resent")
    return svg(figure, f"{udp['lost']} of {udp['sent']} UDP datagrams lost (hatched); TCP delivered every byte, "
                       f"resending {facts['tcp']['retransmitted_segments']} segments.")


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
    for _, end in spans(reads):
        axes.plot([end, end], [0.1, 0.9], color="black", linewidth=0.6)
    axes.set(xlim=(0, total), ylim=(0, 2), xlabel="bytes on the wire (MB)", title=f"{len(frames)} frames read in "
             f"{len(reads)} recv() calls over a link with {facts['link']['delay_ms']} ms delay and "
             f"{facts['link']['loss_percent']}% loss")
    axes.set_yticks([1.5, 0.5], ["frames", "recv() ends"])
    axes.xaxis.set_major_formatter(lambda x, _: f"{x / 1e6:g}")
    return svg(figure, f"{len(frames)} frames ({total} bytes on the wire) against {len(reads)} reads: the reads "
                       f"end inside frames, yet all {facts['delivered_intact']} arrived intact.")


DRAW["framing-fix"] = frames_over_reads
