"""The framing exercise: for a failed case, the message sent against what came back."""
import matplotlib.pyplot as plt

from orchestrator.pictures._draw import COLORS, svg


def echo(facts):
    failure = facts["failure"]
    if not failure or "size" not in failure:
        raise KeyError("no failed echo with sizes")  # the generic picture then
    sent = failure["size"]
    came = failure.get("received", failure.get("header", 0))
    figure, axes = plt.subplots(figsize=(8, 1.9))
    axes.barh(1, sent, color=COLORS[4], edgecolor="#333333")
    axes.barh(0, came, color="white", hatch="xx", edgecolor="#D55E00")
    axes.set_yticks([1, 0], [f"sent ({sent} B)", f"echo ({came} B, {failure['verdict']})"])
    axes.set(xlabel="bytes", title=f"message {failure['index'] + 1}: what was sent and what came back")
    return svg(figure, f"Message {failure['index'] + 1} was {sent} bytes; the echo was {came} bytes "
                       f"({failure['verdict']}).")


DRAW = {case: echo for case in ("sizes", "byte-writes", "random-chunks", "batched", "paused-prefix",
                                "empty-then-small", "mid-frame-close")}
