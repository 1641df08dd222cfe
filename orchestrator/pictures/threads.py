"""Threads against processes as measured: start cost, memory, updates lost with and without a Lock, and when
each daemon's ticks stopped."""
import matplotlib.pyplot as plt
from matplotlib import ticker

from orchestrator.i18n import _
from orchestrator.pictures._draw import style, svg

LOST = {"facecolor": "white", "hatch": "xx", "edgecolor": "#D55E00"}  # lost updates: cross-hatched, in grey too


def start_cost(facts):
    figure, axes = plt.subplots(figsize=(6, 2.4))
    kinds = [("thread", _("a thread")), ("process", _("a process"))]
    for row, (kind, label) in enumerate(kinds):
        axes.barh(row, facts["median_us"][kind], height=0.6, **style(row))
        axes.plot(facts["rounds_us"][kind], [row] * len(facts["rounds_us"][kind]), "k|", markersize=14)
    axes.set_yticks(range(len(kinds)), [label for __, label in kinds])
    axes.set(xlabel=_("µs to start and join one worker (bar: median; |: each round)"),
             title=_("{count} workers at a time, {rounds} rounds each").format(
                 count=facts["count"], rounds=len(facts["rounds_us"]["thread"])))
    return svg(figure, _("Start and join, per worker: a thread {thread} µs, a process {process} µs (medians of "
                         "{rounds} rounds).").format(thread=facts["median_us"]["thread"],
                                                      process=facts["median_us"]["process"],
                                                      rounds=len(facts["rounds_us"]["thread"])))


def memory_cost(facts):
    figure, axes = plt.subplots(figsize=(7, 2.4))
    bars = [(_("a thread: RSS it adds"), facts["thread_kib"]),
            (_("a child process: its private pages"), facts["process_private_kib"]),
            (_("a child process: RSS (with shared pages)"), facts["process_rss_kib"])]
    for row, (label, kib) in enumerate(bars):
        axes.barh(row, kib, height=0.6, **style(row))
        axes.text(kib, row, f" {kib:g} KiB", va="center", fontsize=8)
    axes.set_yticks(range(len(bars)), [label for label, __ in bars])
    axes.set_xscale("log")
    axes.xaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _pos: f"{value:g}"))  # 100, not TeX 10^2
    axes.xaxis.set_minor_formatter(ticker.NullFormatter())
    axes.invert_yaxis()
    axes.set(xlabel=_("KiB (logarithmic)"), title=_("memory of one waiting worker, {count} of each").format(
        count=facts["count"]))
    return svg(figure, _("Memory per waiting worker: a thread adds {thread} KiB of RSS to its process; a child "
                         "process holds {private} KiB of its own (RSS {rss} KiB with shared pages).").format(
        thread=facts["thread_kib"], private=facts["process_private_kib"], rss=facts["process_rss_kib"]))


def race_label(race):
    return race["code"] + (_(" with a Lock") if race["lock"] else "")


def lost(facts):
    races = list(facts["races"].values())
    figure, axes = plt.subplots(figsize=(7, 0.45 * len(races) + 1.2))
    for row, race in enumerate(races):
        share = 100 * race["lost"] / race["updates"]
        axes.barh(row, 100 - share, height=0.6, label=_("counted") if row == 0 else None, **style(1))
        axes.barh(row, share, left=100 - share, height=0.6, label=_("lost") if row == 0 else None, **LOST)
        axes.text(100, row, " " + _("{lost} of {updates} lost").format(lost=race["lost"], updates=race["updates"]),
                  va="center", fontsize=8)
    axes.set_yticks(range(len(races)), [race_label(race) for race in races])
    axes.invert_yaxis()
    axes.legend(loc="lower left", bbox_to_anchor=(0, 1.08), ncol=2, frameon=False, fontsize=8)
    axes.set(xlim=(0, 135), xticks=range(0, 101, 20), xlabel=_("share of the updates (%)"),
             title=_("{threads} threads, switch interval {interval} s, Python {python}").format(
                 threads=facts["threads"], interval=facts["switch_interval_s"], python=facts["python"]))
    return svg(figure, _("Updates lost per race: {summary}.").format(summary=_("; ").join(
        _("{race}: {lost} of {updates}").format(race=race_label(r), lost=r["lost"], updates=r["updates"])
        for r in races)))


def daemons(facts):
    figure, axes = plt.subplots(figsize=(8, 2.2))
    kinds = [("thread", _("threads")), ("process", _("processes"))]
    for row, (kind, __) in enumerate(kinds):
        seen = facts[kind]
        first = row == 0
        axes.plot(seen["ticks_s"], [row] * len(seen["ticks_s"]), "|", markersize=14, color="#0072B2",
                  label=_("the daemon ticks") if first else None)
        axes.plot(seen["ordinary_done_s"], row, "o", color="#009E73", markersize=8,
                  label=_("the ordinary worker is done") if first else None)
        axes.plot(seen["exit_s"], row, "X", color="#D55E00", markersize=10,
                  label=_("the interpreter exits") if first else None)
    axes.axvline(0, color="#333333", linestyle="--", linewidth=1, label=_("the main code ends"))
    axes.set_yticks(range(len(kinds)), [label for __, label in kinds])
    axes.set_ylim(-0.6, 1.6)
    axes.invert_yaxis()
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=8)
    axes.set(xlabel=_("seconds after the main code ended"), title=_("a daemon meant to tick for {meant} s").format(
        meant=facts["daemon_meant_s"]))
    ticks_after = {kind: sum(t > 0 for t in facts[kind]["ticks_s"]) for kind, __ in kinds}
    return svg(figure, _("After the main code ended, the daemon thread ticked {thread} times, until the interpreter "
                         "exited at {thread_exit} s; the daemon process ticked {process} times, its parent exiting "
                         "at {process_exit} s.").format(
        thread=ticks_after["thread"], thread_exit=facts["thread"]["exit_s"], process=ticks_after["process"],
        process_exit=facts["process"]["exit_s"]))


DRAW = {"start-cost": start_cost, "memory-cost": memory_cost, "lost-updates": lost, "lock-exact": lost,
        "daemon-thread": daemons}
