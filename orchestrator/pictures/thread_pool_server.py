"""A pool seen from outside: the crowd's clients waiting their turn and being served, and the program's
thread count over the whole check against its limit."""
import matplotlib.pyplot as plt

from orchestrator.i18n import _
from orchestrator.pictures._draw import COLORS, style, svg


def crowd(facts):
    """A row per client: dotted while it waits for its first reply, a bar while it is being served."""
    clients = [c for c in facts["clients"] if c and c["span"][0] is not None]
    zero = min(c["span"][0] for c in clients)
    figure, axes = plt.subplots(figsize=(9, 0.28 * len(clients) + 1.4))
    for row, client in enumerate(clients):
        connected, first, done = (None if t is None else t - zero for t in client["span"])
        axes.plot([connected, first if first is not None else done], [row, row], color="#999999", linestyle=":")
        if first is not None:
            axes.barh(row, done - first, left=first, height=0.6, **style(0 if not client["failure"] else 5))
    axes.set_yticks(range(len(clients)), [_("client {number}").format(number=n + 1) for n in range(len(clients))])
    axes.invert_yaxis()
    axes.set(xlabel=_("seconds (dotted: connected, waiting for a worker; bar: being served)"),
             title=_("{clients} clients, at most {at_once} served at once, all done in {seconds} s").format(
                 clients=len(clients), at_once=facts["served_at_once"], seconds=facts["seconds"]))
    return svg(figure, _("The crowd's {clients} clients on a timeline: at most {at_once} were served at once, the "
                         "others waited for a free worker; done in {seconds} s, against {limit} s allowed.").format(
        clients=len(clients), at_once=facts["served_at_once"], seconds=facts["seconds"], limit=facts["limit_seconds"]))


def threads(facts):
    """The thread count as a step line, the limit dashed, each case's span shaded and named."""
    samples, timing = facts["samples"], facts["timing"]
    zero = min([samples[0][0]] + [span[0] for spans in timing.values() for span in spans])
    figure, axes = plt.subplots(figsize=(9, 2.6))
    names = {"alone": _("one client"), "crowd": _("the crowd"), "vanished-workers": _("vanished, then more")}
    for index, (case, spans) in enumerate(timing.items()):
        for start, end in spans:
            axes.axvspan(start - zero, end - zero, color=COLORS[(index + 1) % len(COLORS)], alpha=0.25)
            axes.text((start + end) / 2 - zero, facts["limit"] + 0.5, names.get(case, case), ha="center",
                      fontsize=7)
    end = max(samples[-1][0], max(span[1] for spans in timing.values() for span in spans))
    times = [at - zero for at, __ in samples] + [end - zero]
    axes.step(times, [n for __, n in samples] + [samples[-1][1]], where="post", color="#333333")
    axes.axhline(facts["limit"], color="#D55E00", linestyle="--")
    axes.set(xlabel=_("seconds"), ylabel=_("threads at once"),
             ylim=(0, max(facts["max_threads"], facts["limit"]) + 2),
             title=_("the program's threads (at most {most}; limit {limit}, dashed)").format(
                 most=facts["max_threads"], limit=facts["limit"]))
    return svg(figure, _("The program's thread count over the check: at most {most}, {crowd} during the crowd, "
                         "against a limit of {limit}.").format(most=facts["max_threads"],
                                                               crowd=facts["max_threads_in_crowd"],
                                                               limit=facts["limit"]))


DRAW = {"crowd": crowd, "pool-threads": threads}
