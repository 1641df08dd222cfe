"""Results for people: rich tables on the terminal; under reports/, a folder per run (JSON, files, HTML)."""
import json
import time
from pathlib import Path

from rich.console import Group
from rich.table import Table
from rich.text import Text

from orchestrator import pages
from orchestrator.watch import replay
from orchestrator.i18n import N_, _
from orchestrator.linebreak import Wrapped

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


def save_result(result, directory=REPORTS):
    """Save a run under reports/<name>-<time>/: result.json, each step's files (the sticky capture) named after
    the step (their paths in its artifacts), and the HTML page; the list of runs is written anew. Returns
    the page's path."""
    folder = run_folder(result.name, directory)
    for step in result.steps:
        for suffix, content in step.files.items():
            artifact = folder / f"{step.key}.{suffix}"
            artifact.write_bytes(content)
            step.artifacts[suffix] = str(artifact)
    (folder / "result.json").write_text(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n",
                                        encoding="utf-8")
    replay.write(folder, result)
    page = pages.write_run(folder, result)
    pages.write_index(directory)
    return page


def result_table(result):
    """One row per step: verdict, name, expected, observed, why (and a failed exercise step's hint); under the
    table, the notes and what a failed step's program wrote last on stderr."""
    verdict = f"[green]{_('passed')}[/]" if result.passed else f"[red]{_('FAILED')}[/]"
    table = Table(title=_("{kind} {name}: {verdict} in {seconds:.1f} s").format(
        kind=_(pages.KINDS[result.kind]), name=result.name, verdict=verdict, seconds=result.duration_s), show_lines=True,
        expand=True)
    table.add_column("", width=2)
    # every cell is Wrapped: broken at spaces and between Chinese characters, never before a `，`; a long hex
    # string or a line with CJK text loses nothing to an ellipsis
    table.add_column(_("step"), style="bold", ratio=2)
    table.add_column(_("expected"), ratio=3)
    table.add_column(_("observed"), ratio=3)
    table.add_column(_("why"), ratio=3, style="dim")
    for step in result.steps:
        mark = "[green]✓[/]" if step.passed else "[red]✗[/]"
        why = Text.assemble(step.why, "\n", (_("hint: "), "bold yellow"), step.hint) if step.hint else Text(step.why)
        # Text, not markup: what a program printed may hold `[/x]` or `[b'\x00']`
        table.add_row(mark, Wrapped(Text(result.label(step), style="bold")), Wrapped(step.expected),
                      Wrapped(step.observed), Wrapped(why))
    under = [Wrapped(_("note: {note}").format(note=note)) for note in result.notes]
    for step, parts in stderr_tails(result.steps):
        for place, lines in parts:
            heading = (_("{step}: what the program wrote last on stderr ({where})") if place not in ("", "record")
                       else _("{step}: what the program wrote last on stderr")).format(step=result.label(step),
                                                                                        where=place)
            under.append(Wrapped(Text.assemble(("✗ ", "red"), heading)))
            # as it was printed, one line each: a traceback's frames cut at the width, its last line (the error
            # itself, what a learner must read) wrapped whole
            under += [Text("    " + line, style="dim", no_wrap=True, overflow="ellipsis") for line in lines[:-1]]
            under += [Text("    " + line, style="dim") for line in lines[-1:]]
    if under:
        table.caption = Group(*under)
        table.caption_justify = "left"
    return table


STDERR_LINES = 5  # of a failed step's program, under the table


def program_stderr(facts, where=""):
    """[(where, text)] of what a learner's program wrote on stderr, as a step's facts keep it: a `stderr_tail`
    text, or the `stderr` of the sandbox's record of a run (a dict with an `exit_code`), at any depth; where is
    the path of the facts (`record`, `records.worker1`, `runs[2]`); the empty ones left out."""
    found = []
    if isinstance(facts, dict):
        if isinstance(facts.get("stderr_tail"), str):
            found.append((where, facts["stderr_tail"]))
        elif isinstance(facts.get("stderr"), str) and "exit_code" in facts:
            found.append((where, facts["stderr"]))
        for key, value in facts.items():
            if isinstance(value, (dict, list)):
                found += program_stderr(value, f"{where}.{key}" if where else str(key))
    elif isinstance(facts, list):
        for index, value in enumerate(facts):
            found += program_stderr(value, f"{where}[{index}]")
    return [(place, text) for place, text in found if text.strip()]


def stderr_tails(steps, limit=STDERR_LINES):
    """[(step, [(where, [line, ...]), ...])] for each failed step whose facts keep its program's stderr: its last
    lines, at most limit in all for a step, each stderr shown once (not again under a later step)."""
    shown, tails = set(), []
    for step in steps:
        found = [] if step.passed else [(p, t) for p, t in program_stderr(step.facts) if t not in shown]
        shown.update(text for __, text in found)
        if found:
            each = max(1, limit // len(found))
            tails.append((step, [(place, text.rstrip().splitlines()[-each:]) for place, text in found][:limit]))
    return tails


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


def cleared(node, results):
    """What `socklab clear NODE` lifted, in words, from the faults' own results (nodes.faults impair: delay_ms,
    jitter_ms, loss, rate_kbit, and the packets it passed and dropped)."""
    if not results:
        return _("{node}: nothing to clear").format(node=node)
    said = []
    for result in results:
        parts = []
        if result.get("delay_ms"):
            parts.append(_("delay {ms} ms").format(ms=result["delay_ms"]))
        if result.get("jitter_ms"):
            parts.append(_("jitter ±{ms} ms").format(ms=result["jitter_ms"]))
        if result.get("loss"):
            parts.append(_("loss {percent:g}%").format(percent=result["loss"]))
        if result.get("rate_kbit"):
            parts.append(_("rate {kbit} kbit/s").format(kbit=result["rate_kbit"]))
        what = _(", ").join(parts) or _("an impairment")
        if (result.get("delay_ms") or result.get("loss")) and "passed" in result:  # counted by the NFQUEUE
            what = _("{what} ({passed} packets let through, {dropped} dropped)").format(
                what=what, passed=result["passed"], dropped=result["dropped"])
        said.append(what)
    return _("{node}: cleared {what}").format(node=node, what=_("; ").join(said))


def nodes_table(rows):
    """The `ps` table from rows of node dicts."""
    table = Table(title=_("lab nodes"))
    for column in (_("node"), _("service"), _("machine"), _("container"), "ip", _("health"), _("uptime"), _("faults")):
        table.add_column(column)
    for row in rows:
        health = row["health"]
        colour = "green" if health in ("healthy", "ready") else "yellow" if health == "starting" else "red"
        table.add_row(row["node"], row["service"], row.get("machine") or "-", row["container"], row["ip"] or "-",
                      f"[{colour}]{_(health)}[/]",
                      f"{row['uptime_s']:.0f} s", ", ".join(row["faults"]) or "-")
    return table


def class_table(data):
    """The `grade` table: a row per student, their score and the steps they failed (or the lab's failure)."""
    table = Table(title=_("class {exercise}: {passed} of {students} passed every step (seed {seed})").format(
        exercise=data["exercise"], passed=sum(1 for s in data["students"] if s["passed"]),
        students=len(data["students"]), seed=data["seed"]), expand=True)
    table.add_column("", width=2)
    table.add_column(_("student"), ratio=2)
    table.add_column(_("score"), justify="right")
    table.add_column(_("failed steps"), ratio=4)
    for student in data["students"]:
        mark = "[green]✓[/]" if student["passed"] else "[red]✗[/]"
        failed = Text(student["error"], style="yellow") if student.get("error") else \
            Text(", ".join(student["failed_steps"]))
        score = "-" if student.get("error") else f"{student['score']}/{student['max_score']}"
        table.add_row(mark, Wrapped(Text(student["student"])), score, Wrapped(failed))
    return table
