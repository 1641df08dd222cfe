"""The concurrency lesson as Gantt charts: every client's request, from start to answer, per server model."""
import matplotlib.pyplot as plt

from orchestrator.i18n import _
from orchestrator.pictures._draw import style, svg


def gantt(facts):
    models = [m for m, r in facts["models"].items() if r.get("requests")]
    figure, axes = plt.subplots(len(models), 1, figsize=(9, 1.3 * len(models) + 0.8), sharex=True)
    for index, (model, ax) in enumerate(zip(models, axes if len(models) > 1 else [axes])):
        requests = facts["models"][model]["requests"]
        for row, (start, latency) in enumerate(requests):
            ax.barh(row, latency, left=start, height=0.7, **style(index))
        ax.set_yticks([])
        ax.set_ylabel(model, rotation=0, ha="right", va="center")
        ax.invert_yaxis()
    (axes[-1] if len(models) > 1 else axes).set_xlabel(_("ms since the clients started (a bar per request)"))
    figure.suptitle(_("each client's request, from sending to the answer"))
    summary = _("; ").join(_("{model}: all answered after {seconds} s").format(
        model=m, seconds=facts["models"][m]["seconds"]) for m in models)
    return svg(figure, _("Gantt chart of the requests per server model. {summary}.").format(summary=summary))


DRAW = {"io-bound-models": gantt}
