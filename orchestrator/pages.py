"""The HTML report: a page per run (reports/<run>/index.html) and the list of runs (reports/index.html).

Self-contained: the style is inline, the pictures are inline SVG (or embedded PNG), nothing is fetched.
Templates are in orchestrator/templates (Jinja2, autoescaped); the pictures come from orchestrator.pictures.
"""
import json
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from orchestrator import i18n, pictures
from orchestrator.i18n import N_, _

PAGE_FILES = ("index.html", "result.json")
KINDS = {"scenario": N_("scenario"), "check": N_("check")}  # what a run is, said for people
environment = Environment(loader=PackageLoader("orchestrator", "templates"), autoescape=select_autoescape(["html"]),
                          extensions=["jinja2.ext.i18n"])
environment.install_gettext_callables(gettext=i18n._, ngettext=lambda one, many, n: i18n._(one if n == 1 else many),
                                      newstyle=True)


def css():
    return (Path(__file__).parent / "templates" / "style.css").read_text(encoding="utf-8")


# labels for the facts many steps share; any other fact is shown by its key, in code font
FACT_LABELS = {"port": N_("port"), "seconds": N_("seconds"), "exit_code": N_("exit code"), "signal": N_("signal"),
               "timed_out": N_("stopped at the time limit"), "flooded": N_("stopped for printing too much"),
               "ready": N_("ready"), "alive": N_("still running"), "stderr_tail": N_("the end of its stderr"),
               "stdout_bytes": N_("bytes on stdout"), "stderr_bytes": N_("bytes on stderr"),
               "outlived": N_("processes left after it ended"), "left": N_("processes left running"),
               "record": N_("the program's run"), "lost": N_("lost"), "duplicates": N_("duplicates")}
FACT_TEXT = 1500  # characters of a text fact on the page (result.json has all of it)
FACT_ITEMS = 10  # items of a list fact on the page
FACT_DEPTH = 2  # levels of nested facts flattened into rows (`record.exit_code`); deeper ones are summed up


def facts_rows(facts):
    """A step's facts for people: [{key, label, value}], nested dicts flattened into rows (`record.exit_code`),
    values said as words and numbers, long texts and lists cut with a count; label is "" for a fact of no
    common name (the page shows its key)."""
    rows = []

    def add(key, value, depth):
        if isinstance(value, dict) and value and depth < FACT_DEPTH:
            for inner, item in value.items():
                add(f"{key}.{inner}", item, depth + 1)
            return
        name = key.rsplit(".", 1)[-1]
        label = _(FACT_LABELS[name]) if name in FACT_LABELS else ""
        rows.append({"key": key, "label": label if label != name else "", "value": fact_text(key, value)})

    for key, value in facts.items():
        add(str(key), value, 0)
    return rows


def fact_text(key, value):
    """One fact's value in words: yes/no, numbers as numbers, lists shortened with their count, a long text cut
    (at its start for a program's stderr, whose end matters)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        if len(value) <= FACT_TEXT:
            return value
        return "… " + value[-FACT_TEXT:] if "stderr" in key else value[:FACT_TEXT] + " …"
    if not value:
        return _("none")
    if isinstance(value, list):
        shown = _(", ").join(fact_text(key, item) if not isinstance(item, (dict, list)) else compact(item)
                             for item in value[:FACT_ITEMS])
        return shown if len(value) <= FACT_ITEMS else _("{items} … ({count} in all)").format(items=shown,
                                                                                            count=len(value))
    return compact(value)


def compact(value):
    """A nested value too deep for rows: compact JSON, cut."""
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return text if len(text) <= 300 else text[:300] + " …"


def write_run(folder, result):
    """Write folder/index.html for a result saved in folder (its files beside it), in the result's language;
    the page's path."""
    files = sorted(p.name for p in folder.iterdir() if p.name not in PAGE_FILES)
    with i18n.using(result.lang):
        cards = [{"step": step, "label": result.label(step), "picture": pictures.for_step(result.name, step),
                  "facts": facts_rows(step.facts), "files": [name for name in files if name.startswith(f"{step.key}.")]}
                 for step in result.steps]
        page = environment.get_template("run.html").render(
            result=result, kind=result.kind, kind_text=i18n._(KINDS[result.kind]), cards=cards, files=files, css=css(),
            lang=result.lang, notice=pictures.font_notice())
    path = folder / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def runs(directory):
    """Every saved run under directory, newest first: {folder, kind, name, started, passed, steps, passed_steps}."""
    found = []
    for saved in directory.glob("*/result.json"):
        try:
            data = json.loads(saved.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a run being written, or a damaged one: the list shows the others
        steps = data.get("steps", [])
        found.append({"folder": saved.parent.name, "kind": data.get("kind", "scenario"),
                      "name": data.get("name", data.get("scenario")), "started": data.get("started", ""), "passed": data.get("passed", False), "steps": len(steps),
                      "passed_steps": sum(1 for s in steps if s.get("passed"))})
    return sorted(found, key=lambda run: (run["started"], run["folder"]), reverse=True)


def write_index(directory):
    """Write directory/index.html, the list of every run, in the language in use; its path."""
    path = directory / "index.html"
    path.write_text(environment.get_template("index.html").render(runs=runs(directory), css=css(), kinds=KINDS,
                                                                   lang=i18n.current()), encoding="utf-8")
    return path
