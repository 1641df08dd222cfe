"""Results for people: rich tables on the terminal; under reports/, a folder per run (JSON, files, HTML)."""
import json
import time
from pathlib import Path

from rich.table import Table
from rich.text import Text

from orchestrator import pages
from orchestrator.i18n import N_, _

REPORTS = Path(__file__).resolve().parent.parent / "reports"
HEALTH = (N_("healthy"), N_("ready"), N_("starting"), N_("unhealthy"), N_("running"), N_("exited"))  # ps, said


def report_path(name, directory=REPORTS):
    """reports/<name>-<time>.json, its folder made if missing."""
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json"


def save(name, data, directory=REPORTS):
    """Write data as JSON under reports/ and return the path."""
    path = report_path(name, directory)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


def run_folder(name, directory=REPORTS):
    """A new folder reports/<name>-<time>[-n] for one run."""
    stem = directory / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    folder, n = stem, 1
    while folder.exists():
        n += 1
        folder = stem.with_name(f"{stem.name}-{n}")
    folder.mkdir(parents=True)
    return folder


def save_result(result, directory=REPORTS, kind="scenario"):
    """Save a run under reports/<name>-<time>/: result.json, each step's files (a pcap, a plot) named after
    the step (their paths go into its facts), and the HTML page; the list of runs is written anew. Returns
    the page's path."""
    folder = run_folder(result.scenario, directory)
    for step in result.steps:
        for suffix, content in step.files.items():
            artifact = folder / f"{step.key}.{suffix}"
            artifact.write_bytes(content)
            step.facts[suffix] = str(artifact)
    (folder / "result.json").write_text(json.dumps({**result.to_dict(), "kind": kind}, indent=2,
                                                   ensure_ascii=False) + "\n", encoding="utf-8")
    page = pages.write_run(folder, result, kind)
    pages.write_index(directory)
    return page


def result_table(result, kind="scenario"):
    """One row per step: verdict, name, expected, observed, why (and a failed exercise step's hint)."""
    verdict = f"[green]{_('passed')}[/]" if result.passed else f"[red]{_('FAILED')}[/]"
    table = Table(title=_("{kind} {name}: {verdict} in {seconds:.1f} s").format(
        kind=_(pages.KINDS[kind]), name=result.scenario, verdict=verdict, seconds=result.duration_s), show_lines=True,
        expand=True)
    table.add_column("", width=2)
    # fold, never cut with an ellipsis: a long hex string or a line with CJK text must lose nothing
    table.add_column(_("step"), style="bold", ratio=2, overflow="fold")
    table.add_column(_("expected"), ratio=3, overflow="fold")
    table.add_column(_("observed"), ratio=3, overflow="fold")
    table.add_column(_("why"), ratio=3, style="dim", overflow="fold")
    for step in result.steps:
        mark = "[green]✓[/]" if step.passed else "[red]✗[/]"
        why = Text.assemble(step.why, "\n", (_("hint: "), "bold yellow"), step.hint) if step.hint else Text(step.why)
        # Text, not markup: what a program printed may hold `[/x]` or `[b'\x00']`
        table.add_row(mark, Text(step.name, style="bold"), Text(step.expected), Text(step.observed), why)
    if result.notes:
        table.caption = "\n".join(_("note: {note}").format(note=note) for note in result.notes)
        table.caption_justify = "left"
    return table


def programs_table(rows):
    """The `programs` table: the learner's detached programs on each node."""
    table = Table(title=_("programs started with --detach"))
    for column in (_("node"), "id", "pid", _("state"), _("command")):
        table.add_column(column, overflow="fold")
    for row in rows:
        colour = "green" if row["state"] == "running" else "dim"
        table.add_row(row["node"], str(row["id"]), str(row["pid"] or "-"), f"[{colour}]{program_state(row)}[/]",
                      " ".join(row["argv"]))
    return table


def program_state(program):
    """A detached program's state for people: running, gone, exited N, killed by signal N."""
    code = program.get("exit_code")
    if code is None:
        return _("running") if program["state"] == "running" else _("gone")
    return _("exited {code}").format(code=code) if code >= 0 else _("killed by signal {signal}").format(signal=-code)


def nodes_table(rows):
    """The `ps` table from rows of node dicts."""
    table = Table(title=_("lab nodes"))
    for column in (_("node"), _("service"), _("container"), "ip", _("health"), _("uptime"), _("faults")):
        table.add_column(column)
    for row in rows:
        health = row["health"]
        colour = "green" if health in ("healthy", "ready") else "yellow" if health == "starting" else "red"
        table.add_row(row["node"], row["service"], row["container"], row["ip"] or "-", f"[{colour}]{_(health)}[/]",
                      f"{row['uptime_s']:.0f} s", ", ".join(row["faults"]) or "-")
    return table
