"""The large file seen from the server's side: its resident memory while the file went up and came down,
against the limit."""
import matplotlib.pyplot as plt

from orchestrator.i18n import _
from orchestrator.pictures._draw import COLORS, HATCHES, svg


def memory(facts):
    """The resident memory as a step line over the large file's case, the limit dashed, the upload and the
    download shaded (each with a hatch of its own: greyscale keeps them apart)."""
    used = facts["memory"]
    samples, limit, peak = used["samples"], used["limit_mib"], used["peak_mib"]
    figure, axes = plt.subplots(figsize=(9, 2.8))
    names = {"put": _("upload"), "get": _("download")}
    top = max([limit, peak, *(mib for __, mib in samples)]) * 1.15
    for index, (cmd, (start, end)) in enumerate(used["phases"].items()):
        axes.axvspan(start, end, facecolor=COLORS[index + 1], alpha=0.25, hatch=HATCHES[index + 1],
                     edgecolor="#777777")
        axes.text((start + end) / 2, top * 0.93, names.get(cmd, cmd), ha="center", fontsize=8)
    if samples:
        end = max(samples[-1][0], used["seconds"])
        axes.step([at for at, __ in samples] + [end], [mib for __, mib in samples] + [samples[-1][1]],
                  where="post", color="#333333")
    axes.axhline(limit, color="#D55E00", linestyle="--")
    axes.text(0, limit, _("limit {limit} MiB").format(limit=limit), va="bottom", fontsize=8, color="#D55E00")
    axes.set(xlabel=_("seconds from the case's start"), ylabel=_("resident memory (MiB)"), ylim=(0, top),
             title=_("the server's resident memory while {size} MiB moved: at most {peak} MiB").format(
                 size=used["size_mib"], peak=peak))
    return svg(figure, _("The server's resident memory while a {size} MiB file was uploaded, then downloaded: at "
                         "most {peak} MiB, against a limit of {limit} MiB ({verdict}).").format(
        size=used["size_mib"], peak=peak, limit=limit,
        verdict=_("under it: streamed") if 0 < peak < limit else _("not under it")))


DRAW = {"large-file": memory}
