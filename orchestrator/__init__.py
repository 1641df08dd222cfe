"""socklab's host side: a lab of containers driven through the Docker SDK, and the lessons run on it.

lab.py       Lab: one Compose project — images, secrets, up/down, its nodes, readiness, partitions.
node.py      Node: one container — run / program / start / serve a program in it, ps, faults on it;
             Process: a program running in the background; Completed: one that has ended.
fault.py     Impairment (delay, jitter, loss, rate) and Fault, the sidecar container that holds one.
image.py     the node images, built without a registry (debootstrap + docker import, or a Dockerfile).
compose.py   the Compose CLI (v2 or v1), used for up and down only.
labels.py    every Docker label socklab reads or writes.
errors.py    LabError and its typed children (ProgramFailed, NodeNotFound, TimedOut, …).
result.py    Step (key, name, passed, expected, observed, why, facts, hint) and Result, as JSON.
registry.py  the scenario and exercise registries: every public module with the entry point.
scenarios/   one module (or package, with its own helpers) per lesson: run(lab, params, progress) → [Step].
exercises/   one module per exercise: check(lab, program, progress) → [Step], failed steps with a hint.
learner.py   LearnerProgram: a learner's file, checked on the host, run on a node under nodes.sandbox.
gradescope.py  a check's Result as Gradescope's autograder results.json.
report.py    results for people: rich tables; a folder per run under reports/ (JSON, files, the page).
linebreak.py line breaking for the tables: at spaces and between Chinese characters, by 禁则, never inside a word.
pages.py     the HTML report: a page per run and the list of runs (Jinja2 templates in templates/).
pictures/    a picture per step, drawn from its facts (matplotlib SVG), one module per scenario.
plots.py     matplotlib pictures from measured facts.
bench.py     `make bench`: every figure against a baseline measured in the same run.
i18n.py      the language people read: `_()` over gettext catalogs in locale/ (English in the source, zh_CN).
cli.py       thin: parse arguments, call the above, turn a LabError into one line and exit 2.
"""
