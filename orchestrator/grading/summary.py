"""The class at a glance, from the Outcomes of a grading run: the --json dict, the CSV, a Gradescope
results.json per student, every student's own report page, and the class page.

Written under the class's folder (reports/class-<exercise>-<time>/ by default):
    index.html  class.json  class.csv  students/<student>/index.html  gradescope/<student>.json
    similar/<a>--<b>.html
"""
import csv
import io
import json
import re
from collections import Counter

from orchestrator import gradescope, i18n, pages
from orchestrator.grading.store import write
from orchestrator.report import REPORTS
from orchestrator.result import Step, numbered
from orchestrator.watch import replay


def slug(name, taken):
    """A folder name for a student: their name with what a path cannot hold replaced, unique in taken."""
    base = re.sub(r"[^\w.-]+", "_", name).strip("._") or "student"
    chosen, n = base, 1
    while chosen in taken:
        n += 1
        chosen = f"{base}-{n}"
    taken.add(chosen)
    return chosen


def unreadable(result):
    """Whether the Result is that of a program that could not be read (its one step, `program`)."""
    return result is not None and [step.key for step in result.steps] == ["program"]


def step_columns(outcomes):
    """[(key, name)] of every step the class's checks have, in the exercise's order."""
    columns = {}
    for outcome in sorted(outcomes, key=lambda o: -len(o.result.steps) if o.result else 0):
        for step in outcome.result.steps if outcome.result and not unreadable(outcome.result) else []:
            columns.setdefault(step.key, step.name)
    return list(columns.items())


def entry(outcome, folder_name, columns):
    """A student's line of the --json output. Every graded student is scored out of the class's steps
    (columns): a step the check never came to (a server that did not start) is failed, as is every step
    of a program that could not be read (its failed_steps: `program`)."""
    result, student = outcome.result, outcome.submission.student
    if result is None:
        return {"student": student, "passed": False, "score": 0, "max_score": 0, "failed_steps": [], "hints": [],
                "report": None, "error": outcome.error}
    ran = {step.key: step for step in result.steps}
    failed = ["program"] if unreadable(result) else [key for key, _name in columns
                                                      if key not in ran or not ran[key].passed]
    score = 0 if unreadable(result) else len(columns) - len(failed)
    return {"student": student, "passed": result.passed and score == len(columns), "score": score,
            "max_score": len(columns), "failed_steps": failed,
            "hints": [step.hint for step in result.steps if not step.passed and step.hint], "report": f"students/{folder_name}/index.html",
            **({"retried_after": outcome.retried} if outcome.retried else {}), "cached": outcome.cached,
            "program": str(outcome.submission.path) if outcome.submission.path else None}


def cell(text):
    """A CSV cell a spreadsheet shows as text: one starting like a formula (= + - @) is quoted with '."""
    return f"'{text}" if str(text)[:1] in ("=", "+", "-", "@") else text


def as_csv(students, columns):
    """student,score,max_score,passed, then 1/0 per step key (empty where the lab failed)."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["student", "score", "max_score", "passed", *(key for key, _name in columns)])
    for student in students:
        failed = [key for key, _name in columns] if student["failed_steps"] == ["program"] else student["failed_steps"]
        writer.writerow([cell(student["student"]), student["score"], student["max_score"], int(student["passed"]),
                         *("" if student.get("error") else 0 if key in failed else 1 for key, _name in columns)])
    return text.getvalue()


def common_mistakes(outcomes, limit=8):
    """[(hint, [students], [step keys])] of the hints that fired for the most students, the most first."""
    fired = {}
    for outcome in outcomes:
        for step in outcome.result.steps if outcome.result else []:
            if not step.passed and step.hint:
                students, keys = fired.setdefault(step.hint, ({}, {}))
                students[outcome.submission.student] = keys[step.key] = True
    ranked = sorted(fired.items(), key=lambda item: (-len(item[1][0]), item[0]))[:limit]
    return [(hint, list(students), list(keys)) for hint, (students, keys) in ranked]


def write_class(folder, info, outcomes, similar, lang):
    """Write the class's folder; the --json dict (students in name order)."""
    outcomes = sorted(outcomes, key=lambda o: o.submission.student)
    taken, rows, students = set(), [], []
    columns = step_columns(outcomes)
    with i18n.using(lang):
        for outcome in outcomes:
            name = slug(outcome.submission.student, taken)
            said = entry(outcome, name, columns)
            if outcome.result is not None:
                student_folder = folder / "students" / name
                student_folder.mkdir(parents=True, exist_ok=True)
                write(student_folder / "result.json", json.dumps(outcome.result.to_dict(), indent=2,
                                                                 ensure_ascii=False) + "\n")
                replay.write(student_folder, outcome.result)
                pages.write_run(student_folder, outcome.result)
                (folder / "gradescope").mkdir(exist_ok=True)
                write(folder / "gradescope" / f"{name}.json",
                      json.dumps(gradescope.results(outcome.result), indent=2, ensure_ascii=False) + "\n")
            students.append(said)
            rows.append({"student": said, "outcome": outcome, "folder": name,
                         "cells": cells(outcome, columns)})
        data = {"exercise": info["exercise"], "seed": info["seed"],
                "students": students,
                "similar": [{k: pair[k] for k in ("a", "b", "score")} for pair in similar]}
        write(folder / "class.csv", as_csv(students, columns))
        write(folder / "class.json", json.dumps({**info, **data}, indent=2, ensure_ascii=False) + "\n")
        pairs = similar_pages(folder, similar, taken_names={r["student"]["student"]: r["folder"] for r in rows})
        page = pages.environment.get_template("class.html").render(
            info=info, rows=rows, columns=numbered_columns(columns), rates=pass_rates(rows, columns),
            mistakes=common_mistakes(outcomes), students=len(outcomes), scores=distribution(students), similar=pairs,
            failed_labs=[r for r in rows if r["outcome"].result is None], css=pages.css(), lang=lang,
            listed=folder.resolve().parent == REPORTS.resolve())
        write(folder / "index.html", page)
    return data


def cells(outcome, columns):
    """{key: True/False/None} of a student's steps (None: not graded; False for a step the check did not come
    to, and for every step of a program that could not be read)."""
    if outcome.result is None:
        return {key: None for key, _name in columns}
    steps = {} if unreadable(outcome.result) else {step.key: step.passed for step in outcome.result.steps}
    return {key: steps.get(key, False) for key, _name in columns}


def numbered_columns(columns):
    """[(number, key, name)] as people see steps numbered."""
    stand_ins = [Step(key, name, True, "", "", "") for key, name in columns]
    return [(number, step.key, step.name) for number, step in numbered(stand_ins)]


def pass_rates(rows, columns):
    """{key: percent of the graded students who passed that step}."""
    rates = {}
    for key, _name in columns:
        marks = [row["cells"][key] for row in rows if row["cells"][key] is not None]
        rates[key] = round(100 * sum(marks) / len(marks)) if marks else None
    return rates


def distribution(students):
    """[(score, count, percent of the largest count)] from 0 to the best max_score."""
    graded = [s for s in students if s.get("error") is None]
    top = max((s["max_score"] for s in graded), default=0)
    counts = Counter(s["score"] for s in graded)
    most = max(counts.values(), default=1)
    return [(score, counts.get(score, 0), round(100 * counts.get(score, 0) / most)) for score in range(top + 1)]


def similar_pages(folder, similar, taken_names):
    """Write similar/<a>--<b>.html, the two programs side by side; [(pair, link)]."""
    linked = []
    for number, pair in enumerate(similar, 1):
        name = f"{number:03}-{taken_names[pair['a']]}--{taken_names[pair['b']]}.html"
        (folder / "similar").mkdir(exist_ok=True)
        write(folder / "similar" / name, pages.environment.get_template("similar.html").render(
            pair=pair, css=pages.css(), lang=i18n.current()))
        linked.append((pair, f"similar/{name}"))
    return linked
