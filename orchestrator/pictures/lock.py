"""The ticket race on a timeline: each buyer's wait for the lock, read, 0.1 s 'network' and write."""
import matplotlib.pyplot as plt

from orchestrator.i18n import _
from orchestrator.pictures._draw import COLORS, svg


def timeline(facts):
    buyers = facts["timeline"]
    figure, axes = plt.subplots(figsize=(9, 0.32 * len(buyers) + 1.4))
    sales = 0
    for row, b in enumerate(buyers):
        axes.plot([b["wait"], b["read"]], [row, row], color="#999999", linewidth=1, linestyle=":")
        axes.barh(row, b["decide"] - b["read"], left=b["read"], color=COLORS[1], hatch="//", edgecolor="#333333",
                  height=0.6)
        if b.get("write") is not None:
            sales += 1
            oversold = sales > facts["tickets"]
            axes.plot(b["write"], row, marker="X" if oversold else "o", markersize=10,
                      color="#D55E00" if oversold else "#009E73")
    axes.set_yticks(range(len(buyers)), [_("buyer {number}").format(number=n + 1) for n in range(len(buyers))])
    axes.invert_yaxis()
    lock = _("with a Lock: one buyer at a time") if facts["lock"] else _("no lock: everyone reads before anyone writes")
    axes.set(xlabel=_("seconds (dotted: waiting for the lock; hatched: read, then the 0.1 s network; "
                      "o: a sale, X: an oversold sale)"),
             title=_("{buyers} buyers, {tickets} ticket(s), {lock}: {sold} sold").format(
                 buyers=facts["buyers"], tickets=facts["tickets"], lock=lock, sold=facts["successful_buyers"]))
    return svg(figure, _("{buyers} buyers on a timeline, {lock}; {sales} sales for {tickets} ticket(s), "
                         "{oversold} oversold (marked X).").format(
        buyers=facts["buyers"], lock=lock, sales=facts["successful_buyers"], tickets=facts["tickets"],
        oversold=facts["oversold"]))


DRAW = {"local-oversold": timeline, "local-lock": timeline}
