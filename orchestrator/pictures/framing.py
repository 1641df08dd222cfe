"""The framing exercise: for a failed case, the message sent against what came back."""
import matplotlib.pyplot as plt

from orchestrator.i18n import N_, _
from orchestrator.pictures._draw import COLORS, svg

# the checker's verdict on an echo (nodes.checkers.framing), said short for a label
VERDICTS = {"short": N_("short"), "no-reply": N_("no reply"), "mismatch": N_("wrong bytes"),
            "swapped": N_("other bytes"), "refused": N_("refused"), "ok": N_("intact")}


def echo(facts):
    failure = facts["failure"]
    if not failure or "size" not in failure:
        return None  # an echo that did not fail, or failed before a size: nothing to draw, the facts say it
    sent = failure["size"]
    came = failure.get("received", failure.get("header", 0))
    if not sent and not came:
        return None  # nothing sent and nothing back: bars of 0 bytes on a ±0.04 axis say nothing
    figure, axes = plt.subplots(figsize=(8, 1.9))
    axes.barh(1, sent, color=COLORS[4], edgecolor="#333333")
    axes.barh(0, came, color="white", hatch="xx", edgecolor="#D55E00")
    verdict = _(VERDICTS.get(failure["verdict"], failure["verdict"]))
    axes.set_yticks([1, 0], [_("sent ({size} B)").format(size=sent),
                             _("echo ({size} B, {verdict})").format(size=came, verdict=verdict)])
    axes.set(xlabel=_("bytes"), title=_("message {number}: what was sent and what came back").format(
        number=failure["index"] + 1))
    return svg(figure, _("Message {number} was {sent} bytes; the echo was {received} bytes ({verdict}).").format(
        number=failure["index"] + 1, sent=sent, received=came, verdict=verdict))


DRAW = {case: echo for case in ("sizes", "byte-writes", "random-chunks", "batched", "paused-prefix",
                                "empty-then-small", "mid-frame-close")}
