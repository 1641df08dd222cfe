"""The ticket race on a timeline: each buyer's wait for the lock, read, 0.1 s 'network' and write."""
import matplotlib.pyplot as plt

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
    axes.set_yticks(range(len(buyers)), [f"buyer {n + 1}" for n in range(len(buyers))])
    axes.invert_yaxis()
    lock = "with a Lock: one buyer at a time" if facts["lock"] else "no lock: everyone reads before anyone writes"
    axes.set(xlabel="seconds (dotted: waiting for the lock; hatched: read, then the 0.1 s network; "
                    "o: a sale, X: an oversold sale)", title=f"{facts['buyers']} buyers, {facts['tickets']} ticket(s), "
                                                         f"{lock}: {facts['successful_buyers']} sold")
    return svg(figure, f"{facts['buyers']} buyers on a timeline, {lock}; {facts['successful_buyers']} sales for "
                       f"{facts['tickets']} ticket(s), {facts['oversold']} oversold (marked X).")


DRAW = {"local-oversold": timeline, "local-lock": timeline}
