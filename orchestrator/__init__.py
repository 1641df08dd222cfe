"""socklab's host side: a lab of containers driven through the Docker SDK, and the lessons run on it.

lab.py         Lab: one lab on its engine backend — secrets, up/down, its nodes, readiness, partitions, faults.
topology.py    the lab's shape whatever runs it: services, node names, the workspace, the learner's uid.
engines/       where a lab runs, one backend each: compose.py (a Compose project on one engine; the Compose CLI
               for up and down), swarm.py (a stack over a swarm's machines, each node reached through its
               own machine's engine; stack.py derives the stack from compose.yaml), local_swarm.py (`make
               swarm-local`: engines in containers on this host, their image in machine/).
node.py        Node: one container, reached through its machine's engine — run / program / start / serve a program in it, ps, faults on it. Its
               docstring is the node contract (one JSON line, or one error line and a non-zero exit).
               Process: any program running on a node (a lesson's, or a learner's under the sandbox, whose
               result() is the sandbox's record), read through a Condition; Completed: one that has ended;
               at_once(), results(), outcomes(): several at a time.
fault.py       Impairment (delay, jitter, loss, rate) and Fault, the sidecar container that holds one.
image.py       the node images, built without a registry (debootstrap + docker import, or a Dockerfile).
labels.py      every Docker label socklab reads or writes.
errors.py      LabError and its typed children (ProgramFailed, NodeNotFound, TimedOut, …), each with the
               fields a caller may handle.
result.py      Step (key, name, passed, expected, observed, why, facts, hint, artifacts) and Result (kind,
               name, steps; refuses missing or repeated keys), as JSON; steps are numbered where shown.
registry.py    the scenario and exercise registries: every public module with the entry point.
scenarios/     one module (or package, with its own helpers) per lesson: run(lab, params, progress) → [Step].
exercises/     one module per exercise: check(lab, program, progress, seed) → [Step], failed steps with a hint;
               _steps.py for the steps every exercise has.
grading/       `socklab grade`: a class's submissions on labs side by side — submissions (plain, Gradescope,
               Moodle), labs, grader (the queue, a lab's failure retried once), store (results kept by
               content, version, image, seed), similarity (copydetect), summary (class page, CSV, JSON).
learner.py     LearnerProgram: a learner's file, checked on the host, run on a node under nodes.sandbox;
               scrub(): nothing of any learner's program left on a node.
practice.py    the learner's own programs on the nodes: workspace files, detached programs (logs, stop).
gradescope.py  a check's Result as Gradescope's autograder results.json.
report.py      results for people: rich tables; a folder per run under reports/ (JSON, files, the page).
linebreak.py   line breaking for the tables: at spaces and between Chinese characters, by 禁则.
pages.py       the HTML report: a page per run and the list of runs (Jinja2 templates in templates/).
facts.py       a step's facts for people: rows with a label in the reader's language, values as words.
pictures/      the one way to draw: a picture per step from its facts (matplotlib SVG), a module per lesson.
watch/         what the lab does, seen: sockets (a node's TCP table through sock_diag, read from the host), live
               (the lab sampled: nodes, programs, connections, traffic, faults, events), server (`socklab
               watch`, a page on 127.0.0.1), timeline (a run's events, recorded by Lab and Node and its steps),
               replay (a run's timeline and capture, linked, as replay.html beside its report).
bench.py       `make bench`: every figure against a baseline measured in the same run.
i18n.py        the language people read: `_()` over gettext catalogs in locale/ (English in the source, zh_CN).
cli.py         thin: parse arguments, call the above, print, turn a LabError into one line and exit 2.

What runs on the nodes shares only nodes/lib/ with this side (ports, layout, keys, numbered messages, the
program contract, frames); no module here imports one that imports it back. Every exercise's bug variants are held
to their diagnoses by tests/integration/test_exercises.py's BUGS table, graded as a class by test_grading
(and test_every_bug_variant_is_tested keeps the table whole); the framing fuzzer's corpus is replayed by a
unit test.
"""
