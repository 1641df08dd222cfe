"""Pictures where a person would rather look than read: PNG bytes from matplotlib (no display needed)."""
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)


def png(figure):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def queue_depth(samples, maxsize, title):
    """Depth over time, with the queue's maxsize drawn as its ceiling."""
    figure, axes = plt.subplots(figsize=(8, 3.5))
    axes.step([t for t, _ in samples], [d for _, d in samples], where="post", label="depth after every put and get")
    axes.axhline(maxsize, color="red", linestyle="--", label=f"maxsize = {maxsize}")
    axes.set(xlabel="seconds", ylabel="items in the queue", title=title, ylim=(0, maxsize + 1.5))
    axes.legend(loc="upper right")
    return png(figure)


def throughput(workers, rates, title):
    """Tasks per second against the number of workers."""
    figure, axes = plt.subplots(figsize=(5, 3.5))
    axes.plot(workers, rates, marker="o")
    axes.set(xlabel="workers", ylabel="tasks per second", title=title, xticks=workers, ylim=(0, max(rates) * 1.2))
    return png(figure)
