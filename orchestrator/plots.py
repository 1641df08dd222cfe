"""Pictures where a person would rather look than read: PNG bytes from matplotlib (no display needed).

Titles come untranslated (marked N_) and everything is labelled here, in the language in use, or in English
when no installed font draws Chinese (orchestrator.pictures.font_notice)."""
import functools
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

from orchestrator.i18n import _  # noqa: E402
from orchestrator.pictures import labels_language  # noqa: E402


def labelled(draw):
    """draw, run where its labels are in a language a font can show."""
    @functools.wraps(draw)
    def drawing(*args, **kwargs):
        with labels_language():
            return draw(*args, **kwargs)
    return drawing


def png(figure):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


@labelled
def queue_depth(samples, maxsize, title):
    """Depth over time, with the queue's maxsize drawn as its ceiling."""
    figure, axes = plt.subplots(figsize=(8, 3.5))
    axes.step([t for t, __ in samples], [d for __, d in samples], where="post",
              label=_("depth after every put and get"))
    axes.axhline(maxsize, color="red", linestyle="--", label=_("maxsize = {maxsize}").format(maxsize=maxsize))
    axes.set(xlabel=_("seconds"), ylabel=_("items in the queue"), title=_(title), ylim=(0, maxsize + 1.5))
    axes.legend(loc="upper right")
    return png(figure)


@labelled
def throughput(workers, rates, title):
    """Tasks per second against the number of workers."""
    figure, axes = plt.subplots(figsize=(5, 3.5))
    axes.plot(workers, rates, marker="o")
    axes.set(xlabel=_("workers"), ylabel=_("tasks per second"), title=_(title), xticks=workers,
             ylim=(0, max(rates) * 1.2))
    return png(figure)
