"""The HTML report: a page per run (reports/<run>/index.html) and the list of runs (reports/index.html).

Self-contained: the style is inline, the pictures are inline SVG, nothing is fetched.
Templates are in orchestrator/templates (Jinja2, autoescaped); the pictures come from orchestrator.pictures.
"""
import json
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from orchestrator import facts, i18n, pictures
from orchestrator.i18n import N_

PAGE_FILES = ("index.html", "result.json", "replay.html", "timeline.json")
KINDS = {"scenario": N_("scenario"), "check": N_("check"), "class": N_("class")}  # what a run is, said for people
environment = Environment(loader=PackageLoader("orchestrator", "templates"), autoescape=select_autoescape(["html"]),
                          extensions=["jinja2.ext.i18n"])
environment.install_gettext_callables(gettext=i18n._, ngettext=lambda one, many, n: i18n._(one if n == 1 else many),
                                      newstyle=True)


def css():
    return (Path(__file__).parent / "templates" / "style.css").read_text(encoding="utf-8")


def card_picture(name, step):
    picture, problem = pictures.drawing(name, step)
    return {"picture": picture, "problem": problem}


def write_run(folder, result, up=None):
    """Write folder/index.html for a result saved in folder (its files beside it), in the result's language;
    the page's path. up: (href, text) of the link back (default: the list of every run)."""
    files = sorted(p.name for p in folder.iterdir() if p.name not in PAGE_FILES)
    with i18n.using(result.lang):
        cards = [{"step": step, "label": result.label(step), **card_picture(result.name, step),
                  "facts": facts.rows(step.facts), "files": [name for name in files if name.startswith(f"{step.key}.")]}
                 for step in result.steps]
        page = environment.get_template("run.html").render(
            result=result, kind=result.kind, kind_text=i18n._(KINDS[result.kind]), cards=cards, files=files, css=css(),
            lang=result.lang, notice=pictures.font_notice(), up=up or ("../index.html", i18n._("all runs")),
            replay=(folder / "replay.html").exists())
    path = folder / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def runs(directory):
    """Every saved run under directory, newest first: {folder, kind, name, started, passed, steps, passed_steps};
    a class (grading.summary's class.json) counts students where a run counts steps."""
    found = []
    for saved in directory.glob("*/class.json"):
        try:
            data = json.loads(saved.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        students = data.get("students", [])
        found.append({"folder": saved.parent.name, "kind": "class", "name": data.get("exercise"),
                      "started": data.get("started", ""), "passed": bool(students) and all(s.get("passed") for s in students),
                      "steps": len(students), "passed_steps": sum(1 for s in students if s.get("passed"))})
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
