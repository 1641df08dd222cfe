"""socklab's command line: parse, call Lab/Node/scenarios, print for people, map errors to one line.

Exit codes: 0 success, 1 a scenario step failed, 2 an error (one line on stderr), 130 interrupted.
"""
import argparse
import functools
import json
import os
import sys
import time
import traceback
import webbrowser
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import docker.errors
from rich.console import Console

from orchestrator import engines, exercises, gradescope, i18n, pages, pictures, practice, report, scenarios
from orchestrator.errors import BadParameter, EngineUnavailable, LabError, UnknownName
from orchestrator.i18n import N_, _
from orchestrator.image import Images
from orchestrator.lab import Lab, connect_engine, default_project
from orchestrator.topology import workspace
from orchestrator.node import WORKSPACE

MIN_WIDTH, PIPE_WIDTH = 60, 140


def width(stream, environ=None):
    """The columns to print tables in: COLUMNS when set, else the terminal's, never under MIN_WIDTH; off a
    terminal (a pipe, a CI log) without COLUMNS, PIPE_WIDTH rather than the 80 rich would assume."""
    environ = os.environ if environ is None else environ
    columns = environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return max(MIN_WIDTH, int(columns))
    try:
        if stream.isatty():
            return max(MIN_WIDTH, os.get_terminal_size(stream.fileno()).columns)
    except (AttributeError, OSError, ValueError):
        pass
    return PIPE_WIDTH


out = Console(width=width(sys.stdout))
err = Console(stderr=True, width=width(sys.stderr))


def say(text):
    """A line for people on stderr, printed as it is: no rich markup or highlighting read into it."""
    err.print(text, markup=False, highlight=False, soft_wrap=True)


@contextmanager
def progress(text):
    """Yields a callback for news of long work: a spinner on a terminal, else a line now and then."""
    if err.is_terminal:
        with err.status(text) as status:
            yield lambda line: status.update(line[:150])
        return
    last = {"phase": None, "at": 0.0}

    def tell(line):
        phase, now = line.replace("：", ":").split(":")[0], time.monotonic()
        if phase != last["phase"] or now - last["at"] >= 5:
            say(line[:150])
            last.update(phase=phase, at=now)
    tell(text)
    yield tell


def open_lab(args, tell=lambda text: None):
    """The lab --project names, on the engine --engine names (else the one it was brought up on)."""
    return Lab(args.project, tell, backend=engines.for_lab(args.project, getattr(args, "engine", None),
                                                            progress=tell))


def placement(pairs):
    """{"server": "engine2"} from `--placement server=engine2` (repeated, or comma-separated)."""
    pinned = {}
    for pair in (part for given in pairs for part in given.split(",") if part.strip()):
        node, sep, machine = pair.partition("=")
        if not sep or not node.strip() or not machine.strip():
            raise BadParameter("--placement", pair, _("NODE=MACHINE, e.g. server=engine2"))
        pinned[node.strip()] = machine.strip()
    return pinned


def cmd_up(args):
    with progress(_("preparing the lab")) as tell:
        lab = open_lab(args, tell).up(workers=args.workers, placement=placement(args.placement))
    say(_("lab {project} is up: {nodes} nodes ready ({subnet})").format(
        project=lab.project, nodes=len(lab.nodes()), subnet=lab.subnet))
    return 0


def cmd_swarm_local(args):
    from orchestrator.engines.local_swarm import LocalSwarm
    if args.down:
        with progress(_("removing the local swarm")):
            LocalSwarm().down()
        say(_("the local swarm is gone"))
        return 0
    with progress(_("starting a swarm of {count} engines on this host").format(count=args.engines)) as tell:
        environment = LocalSwarm(progress=tell).up(args.engines)
    for name, value in environment.items():
        print(f"export {name}={value}")
    say(_("a swarm of {count} engines is up (a simulation on this host, for tests and demos); point socklab "
          "at it with: eval \"$(make -s swarm-local)\", then `socklab up`").format(count=args.engines))
    return 0


def cmd_build(args):
    with progress(_("checking the node images")) as tell:
        tag = Images(connect_engine(), tell).ensure()
    say(_("node image {tag} is ready").format(tag=tag))
    return 0


def cmd_down(args):
    with progress(_("taking the lab down")):
        unreachable = open_lab(args).down()
    if unreachable:
        raise EngineUnavailable(_("lab {project} is down except on {machines}, whose engines did not answer: run "
                                  "`socklab down` again once they do").format(project=args.project,
                                                                              machines=", ".join(unreachable)))
    say(_("lab {project} is down").format(project=args.project))
    return 0


def cmd_ps(args):
    lab = open_lab(args)
    faults = {}
    for fault in lab.faults():
        faults.setdefault(fault.node, []).append(fault.kind)
    now = datetime.now(timezone.utc)
    rows = [{"node": n.name, "service": n.service, "machine": n.machine_name, "container": n.container.name,
             "ip": n.ip, "health": n.status,
             "uptime_s": round((now - n.started_at).total_seconds(), 1) if n.container.status == "running" else 0,
             "faults": faults.get(n.name, [])} for n in lab.nodes()]
    if args.json:
        print(json.dumps(rows, indent=2))
    elif rows:
        out.print(report.nodes_table(rows))
    else:
        say(_("lab {project} has no nodes: `make up` starts it").format(project=lab.project))
    return 0


def command(args, usage):
    argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if not argv:
        raise LabError(_("{command} needs a command, e.g. {usage}").format(command=args.command, usage=usage))
    return argv


def live(node, argv, detach, root):
    """Run argv in the node as the learner (or root), in /workspace: streamed, or left running detached."""
    if detach:
        say(practice.start_detached(node, argv, root))
        return 0
    stdin = None if sys.stdin is None or sys.stdin.isatty() else sys.stdin.buffer
    return node.attach(argv, sys.stdout.buffer, sys.stderr.buffer, stdin=stdin, user="" if root else node.learner,
                       workdir=WORKSPACE)


def cmd_exec(args):
    argv = command(args, "socklab exec server -- ps aux")
    return live(open_lab(args).node(args.node), argv, args.detach, args.root)


def cmd_run(args):
    """A Python file of the workspace, run on a node: `socklab run server workspace/echo_server.py 9100`."""
    inside = practice.workspace_file(args.file, workspace())
    return live(open_lab(args).node(args.node), ["python3", "-u", inside, *args.args], args.detach, False)


def cmd_shell(args):
    if not sys.stdin.isatty():
        raise LabError(_("socklab shell needs a terminal on its standard input; for a command without one: "
                         "socklab exec {node} -- CMD").format(node=args.node))
    node = open_lab(args).node(args.node)
    argv = node.shell_argv()
    os.execv(argv[0], argv)


def cmd_logs(args):
    node = open_lab(args).node(args.node)
    program = practice.chosen(node, args.id)
    node.attach(practice.output_argv(program, args.follow), sys.stdout.buffer, sys.stderr.buffer)
    say(practice.described(node, program))
    return 0


def cmd_stop(args):
    say(practice.stop(open_lab(args).node(args.node), args.id))
    return 0


def cmd_programs(args):
    lab = open_lab(args)
    rows = [{"node": node.name, **p} for node in ([lab.node(args.node)] if args.node else lab.nodes())
            for p in practice.detached(node)]
    if args.json:
        print(json.dumps(rows, indent=2))
    elif rows:
        out.print(report.programs_table(rows))
    else:
        say(_("no program was started with --detach"))
    return 0


def cmd_watch(args):
    from orchestrator.watch.server import WatchServer
    lab = open_lab(args)
    server = WatchServer(lab, args.port, i18n.current())
    say(_("watching lab {project} at {url} (Ctrl-C stops)").format(project=lab.project, url=server.url))
    if args.open and not webbrowser.open(server.url):
        say(_("no desktop browser to open it with: open {url} yourself").format(url=server.url))
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        say(_("watch stopped"))
    finally:
        server.server_close()
    return 0


def cmd_impair(args):
    node = open_lab(args).node(args.node)
    node.impair(delay=args.delay, jitter=args.jitter, loss=args.loss, rate=args.rate)
    say(_("{node} impaired; `socklab clear {node}` lifts it").format(node=node.name))
    return 0


def cmd_clear(args):
    results = open_lab(args).node(args.node).clear()
    say(report.cleared(args.node, results))
    return 0


def cmd_partition(args):
    open_lab(args).partition(args.a, args.b)
    say(_("{a} and {b} are cut off from each other; `socklab heal` joins them").format(a=args.a, b=args.b))
    return 0


def cmd_heal(args):
    healed = open_lab(args).heal()
    say(_("lifted {count} partition rule sets").format(count=len(healed)) if healed else _("no partitions"))
    return 0


def cmd_scenario(args):
    if args.list or not args.name:
        for name, module in sorted(scenarios.available().items()):
            out.print(f"[bold]{name:12}[/] {_(module.SUMMARY)}")
        return 0
    params = scenarios.parameters(scenarios.get(args.name), args.set)  # bad ones fail before the lab starts
    with progress(_("preparing the lab for {scenario}").format(scenario=args.name)) as tell:
        lab = open_lab(args, tell).up()
        result = scenarios.run(args.name, lab, params, tell)
    path = report.save_result(result)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        out.print(report.result_table(result))
    tell_report(path)
    return 0 if result.passed else 1


def cmd_check(args):
    if args.list or not args.name:
        for name, module in sorted(exercises.available().items()):
            out.print(f"[bold]{name:18}[/] --{module.ROLE:8} {_(module.SUMMARY)}", highlight=False)
        statement = "README.zh-CN.md" if i18n.current() == "zh" else "README.md"
        say(_("each exercise's task and protocol: exercises/NAME/{statement}, with a starter.py beside "
              "it").format(statement=statement))
        return 0
    exercise = exercises.get(args.name)
    learner = exercises.program(exercise, {role: getattr(args, role) for role in exercises.ROLES})
    with progress(_("preparing the lab to check {file}").format(file=learner.path.name)) as tell:
        lab = open_lab(args, tell).up()
        result = exercises.run(args.name, lab, learner, tell, seed=args.seed)
    path = report.save_result(result)
    if args.gradescope:
        Path(args.gradescope).write_text(json.dumps(gradescope.results(result), indent=2, ensure_ascii=False) + "\n",
                                         encoding="utf-8")
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        out.print(report.result_table(result))
    tell_report(path, args.gradescope)
    return 0 if result.passed else 1


@contextmanager
def class_progress(total):
    """Yields (graded, tell) for Grading.run: graded(outcome, done, total) moves a bar of students done and
    left, failures so far and the time left, tell(text) says what the labs are doing (on a terminal); else a
    line per student, and the labs' news now and then."""
    failing = {"students": 0}

    def counted(outcome):
        if outcome.result is None or not outcome.result.passed:
            failing["students"] += 1
        return failing["students"]

    def line(outcome, done):
        result = outcome.result
        verdict = outcome.error if result is None else _("{passed}/{steps} steps").format(
            passed=sum(1 for s in result.steps if s.passed), steps=len(result.steps))
        return _("{done}/{total} {student}: {verdict}").format(done=done, total=total,
                                                               student=outcome.submission.student, verdict=verdict)
    if not err.is_terminal:
        def graded(outcome, done, total_):
            counted(outcome)
            say(line(outcome, done) + ("" if outcome.result else _(" (the lab's failure)")))
        with progress(_("grading")) as tell:
            yield graded, tell
        return
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn(_("{task.fields[failing]} failing")), TimeRemainingColumn(), console=err,
                  transient=False) as bar:
        task = bar.add_task(_("grading"), total=total, failing=0)

        def graded(outcome, done, total_):
            bar.update(task, completed=done, failing=counted(outcome),
                       description=escape(outcome.submission.student[:24]))  # a name is not rich markup
        yield graded, lambda text: bar.update(task, description=escape(text[:40]))


def cmd_grade(args):
    from orchestrator import grading
    if args.labs is not None and args.labs < 1:
        raise BadParameter("--labs", args.labs, _("a whole number of 1 or more"))
    grading.submissions.find(args.submissions, exercises.get(args.name).NAME)  # bad usage: said before any work
    if args.csv and not Path(args.csv).resolve().parent.is_dir():
        raise BadParameter("--csv", args.csv, _("a file in a folder that exists"))
    if args.out and Path(args.out).exists() and not Path(args.out).is_dir():
        raise BadParameter("--out", args.out, _("a folder (this is a file)"))
    plan = grading.Plan(args.name, args.submissions, labs=args.labs, seed=args.seed, only_changed=args.only_changed,
                        out=args.out, similarity=args.similarity, engine=engines.chosen(getattr(args, "engine", None)),
                        project=args.project)
    with progress(_("preparing to grade {exercise}").format(exercise=args.name)) as tell:
        run = grading.Grading(plan, tell)
    say(run.said())
    with class_progress(len(run.submissions)) as (graded, tell):
        outcomes = run.run(graded, tell)
    data, folder = run.write()
    if args.csv:
        Path(args.csv).write_text((folder / "class.csv").read_text(encoding="utf-8"), encoding="utf-8")
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        out.print(report.class_table(data), highlight=False)
    failed_labs = [o.submission.student for o in outcomes if o.result is None]
    say(_("class page: {path}").format(path=folder / "index.html") + (_("; CSV: {file}").format(file=args.csv)
                                                                     if args.csv else ""))
    if failed_labs:
        say(_("not graded, for a reason of the lab's own: {students} (`--only-changed` grades just them "
              "again)").format(students=", ".join(failed_labs)))
        return 1
    return 0


def tell_report(path, gradescope=None):
    """Where the run's report is (and its Gradescope results), and whether its pictures could speak Chinese."""
    say(_("report: {path}").format(path=path)
        + (_("; Gradescope results: {file}").format(file=gradescope) if gradescope else ""))
    notice = pictures.font_notice()
    if notice:
        say(notice)


def cmd_report(args):
    runs = pages.runs(report.REPORTS)
    if not runs:
        raise LabError(_("no reports yet in {folder}: run a scenario or a check first").format(folder=report.REPORTS))
    if args.run:
        wanted = Path(args.run).name
        found = [run for run in runs if run["folder"] == wanted]
        if not found:
            raise UnknownName(N_("run"), args.run, [run["folder"] for run in runs[:5]] + ["…"])
        page = report.REPORTS / found[0]["folder"] / "index.html"
    else:
        page = report.REPORTS / "index.html"
        if not page.exists():
            pages.write_index(report.REPORTS)
    print(page)
    if args.open and not webbrowser.open(page.as_uri()):
        raise LabError(_("no desktop browser to open {page} with: open the file yourself").format(page=page))
    return 0


def cmd_bench(args):
    from orchestrator import bench
    with progress(_("benchmarking")) as tell:
        results = bench.run(args.project, tell, cold=args.cold)
    path = report.save("bench", results)
    out.print(bench.table(results))
    say(_("report: {path}").format(path=path))
    return 0


def parser():
    """socklab's argument parser: the lab's lifecycle, the learner's practice commands, faults, and the
    lessons, checks and reports; --lang on every command."""
    common = argparse.ArgumentParser(add_help=False, allow_abbrev=False)  # --lang before or after the command
    common.add_argument("--lang", metavar="zh|en", default=argparse.SUPPRESS,
                        help=_("the language to speak (default: SOCKLAB_LANG, else LANGUAGE, LC_ALL or LANG: zh_* "
                               "gives Chinese, anything else English)"))
    common.add_argument("--engine", choices=engines.NAMES, default=argparse.SUPPRESS,
                        help=_("where the lab runs: compose (this host's engine) or swarm (a swarm's machines); "
                               "default SOCKLAB_ENGINE, else where the lab was brought up, else compose"))
    p = argparse.ArgumentParser(prog="socklab", parents=[common], allow_abbrev=False,
                                description=_("A multi-node lab for network and concurrency lessons."))
    p.add_argument("--project", default=default_project(), help=_("the lab's name: its Compose project or swarm "
                                                                 "stack (COMPOSE_PROJECT_NAME)"))
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser = functools.partial(sub.add_parser, parents=[common], allow_abbrev=False)
    for commands in (lab_commands, practice_commands, fault_commands, lesson_commands):
        commands(sub)
    return p


def lab_commands(sub):
    c = sub.add_parser("up", help=_("build what is missing and start the lab"))
    c.add_argument("--workers", type=int, default=None, help=_("worker nodes (default: as running, else 3)"))
    c.add_argument("--placement", action="append", default=[], metavar="NODE=MACHINE",
                   help=_("on a swarm: pin a node to a machine, e.g. server=engine2 (default: spread over them)"))
    c.set_defaults(handler=cmd_up)
    sub.add_parser("build", help=_("build the node images if they are missing")).set_defaults(handler=cmd_build)
    sub.add_parser("down", help=_("remove the lab's containers, network, volumes and secrets")).set_defaults(
        handler=cmd_down)
    c = sub.add_parser("swarm-local", help=_("a swarm of Docker engines in containers on this host, for tests and "
                                             "demos; prints what points socklab at it"))
    c.add_argument("--engines", type=int, default=3, help=_("how many engines (default 3)"))
    c.add_argument("--down", action="store_true", help=_("remove the engines instead"))
    c.set_defaults(handler=cmd_swarm_local)
    c = sub.add_parser("ps", help=_("the lab's nodes: service, container, IP, health, uptime, faults"))
    c.add_argument("--json", action="store_true")
    c.set_defaults(handler=cmd_ps)
    c = sub.add_parser("watch", help=_("a live page of the lab: nodes, programs, connections and their traffic; "
                                       "served on 127.0.0.1"))
    c.add_argument("--port", type=int, default=0, help=_("the page's port (default: a free one)"))
    c.add_argument("--open", action="store_true", help=_("also open it in the desktop's browser"))
    c.set_defaults(handler=cmd_watch)


def practice_commands(sub):
    c = sub.add_parser("exec", help=_("run a command in a node as the learner, in /workspace: exec NODE -- CMD...; "
                                      "output streams as it comes, piped input goes in"))
    c.add_argument("node")
    c.add_argument("-d", "--detach", action="store_true", help=_("leave it running; see logs, stop, programs"))
    c.add_argument("--root", action="store_true", help=_("as root instead of the learner"))
    c.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- CMD")
    c.set_defaults(handler=cmd_exec)
    c = sub.add_parser("run", help=_("run a Python file of the workspace on a node: run NODE FILE [ARGS...]"))
    c.add_argument("-d", "--detach", action="store_true", help=_("leave it running; see logs, stop, programs"))
    c.add_argument("node")
    c.add_argument("file", help=_("a path on this host, inside the workspace (workspace/ or SOCKLAB_WORKSPACE), or "
                                        "relative to the workspace, as a node's shell in /workspace takes it"))
    c.add_argument("args", nargs=argparse.REMAINDER)
    c.set_defaults(handler=cmd_run)
    c = sub.add_parser("shell", help=_("an interactive shell in a node, as the learner, in /workspace"))
    c.add_argument("node")
    c.set_defaults(handler=cmd_shell)
    c = sub.add_parser("logs", help=_("the output of a program started with --detach (the latest, or ID)"))
    c.add_argument("node")
    c.add_argument("id", type=int, nargs="?")
    c.add_argument("-f", "--follow", action="store_true", help=_("keep showing output until the program ends"))
    c.set_defaults(handler=cmd_logs)
    c = sub.add_parser("stop", help=_("stop the programs started with --detach on a node (all, or ID)"))
    c.add_argument("node")
    c.add_argument("id", type=int, nargs="?")
    c.set_defaults(handler=cmd_stop)
    c = sub.add_parser("programs", help=_("the programs started with --detach, on every node or one"))
    c.add_argument("node", nargs="?")
    c.add_argument("--json", action="store_true")
    c.set_defaults(handler=cmd_programs)


def fault_commands(sub):
    c = sub.add_parser("impair", help=_("delay, jitter, loss or rate-limit what a node sends"))
    c.add_argument("node")
    c.add_argument("--delay", help=_("e.g. 50ms"))
    c.add_argument("--jitter", help=_("e.g. 5ms (uniform ±, at most the delay)"))
    c.add_argument("--loss", help=_("e.g. 10%%"))
    c.add_argument("--rate", help=_("e.g. 1mbit"))
    c.set_defaults(handler=cmd_impair)
    c = sub.add_parser("clear", help=_("lift a node's impairment"))
    c.add_argument("node")
    c.set_defaults(handler=cmd_clear)
    c = sub.add_parser("partition", help=_("cut two nodes off from each other"))
    c.add_argument("a")
    c.add_argument("b")
    c.set_defaults(handler=cmd_partition)
    sub.add_parser("heal", help=_("lift every partition")).set_defaults(handler=cmd_heal)


def lesson_commands(sub):
    c = sub.add_parser("scenario", help=_("run a scenario: scenario NAME [--set key=value]...; --list"))
    c.add_argument("name", nargs="?", help=_("the scenario to run (--list shows them all)"))
    c.add_argument("--list", action="store_true", help=_("list the scenarios and what each one shows"))
    c.add_argument("--json", action="store_true", help=_("print the result as JSON"))
    c.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help=_("a scenario parameter"))
    c.set_defaults(handler=cmd_scenario)
    c = sub.add_parser("check", help=_("check your own program against an exercise: check NAME --server FILE "
                                       "(or --client, --program, --consumer); --list"))
    c.add_argument("name", nargs="?", help=_("the exercise to check your program against (--list shows them all)"))
    c.add_argument("--list", action="store_true",
                   help=_("list the exercises and the option that takes each one's file"))
    for role, what in exercises.ROLES.items():
        c.add_argument(f"--{role}", metavar="FILE", help=_("{what}: a Python file on this host").format(what=_(what)))
    c.add_argument("--json", action="store_true", help=_("print the result as JSON"))
    c.add_argument("--gradescope", metavar="OUT.json", help=_("also write Gradescope's autograder results.json"))
    c.add_argument("--seed", type=int, help=_("the check's random choices (default: a new one, kept in the report)"))
    c.set_defaults(handler=cmd_check)
    c = sub.add_parser("grade", help=_("grade a class: every student's program in SUBMISSIONS, on labs side by "
                                       "side; a class page, a CSV, Gradescope files"))
    c.add_argument("name", metavar="EXERCISE", help=_("the exercise (socklab check --list)"))
    c.add_argument("submissions", metavar="SUBMISSIONS", help=_("a folder: STUDENT.py or STUDENT/ per student, or "
                                                                "a Gradescope or Moodle export"))
    c.add_argument("--labs", type=int, help=_("labs side by side (default: from the cores and the memory)"))
    c.add_argument("--seed", type=int, help=_("the random choices of every check (default: a new one, said)"))
    c.add_argument("--only-changed", action="store_true",
                   help=_("grade only the submissions that changed since the last run with the same seed"))
    c.add_argument("--out", metavar="DIR", help=_("the class's folder (default: reports/class-EXERCISE-TIME/)"))
    c.add_argument("--csv", metavar="FILE", help=_("also write the class's CSV here"))
    c.add_argument("--json", action="store_true", help=_("print the class as JSON"))
    c.add_argument("--similarity", action="store_true", help=_("list the pairs of similar programs (copydetect)"))
    c.set_defaults(handler=cmd_grade)
    c = sub.add_parser("report", help=_("the HTML report: report [RUN] [--open] prints the page's path (no RUN: the "
                                      "list of every run)"))
    c.add_argument("run", nargs="?", help=_("a run's folder under reports/, e.g. sticky-20261127-120000"))
    c.add_argument("--open", action="store_true", help=_("also open it in the desktop's browser"))
    c.set_defaults(handler=cmd_report)
    c = sub.add_parser("bench", help=_("measure the lab and the framing against baselines; JSON under reports/"))
    c.add_argument("--cold", action="store_true", help=_("also time a cold image build (about a minute)"))
    c.set_defaults(handler=cmd_bench)


def guessed_language(argv):
    """The language to parse the command line in: the last valid `--lang X` (or `--lang=X`) before a `--`,
    or None. What argparse makes of --lang decides in the end (language())."""
    chosen = None
    for index, word in enumerate(argv):
        if word == "--":
            break
        value = argv[index + 1] if word == "--lang" and index + 1 < len(argv) else \
            word.partition("=")[2] if word.startswith("--lang=") else None
        try:
            chosen = i18n.normal(value) if value is not None else chosen
        except ValueError:
            pass
    return chosen


def language(args, environ=None):
    """`zh` or `en`: the --lang socklab's own parser took (not one in a program's arguments), else the
    environment's choice (orchestrator.i18n); ValueError for a language socklab does not speak."""
    chosen = getattr(args, "lang", None)
    return i18n.normal(chosen) if chosen is not None else i18n.from_environment(environ)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        i18n.use(guessed_language(argv) or i18n.from_environment())
        args = parser().parse_args(argv)
        i18n.use(language(args))
    except ValueError as exc:
        say(f"socklab: error: {exc}")
        sys.exit(2)
    try:
        code = args.handler(args)
    except LabError as exc:
        say(_("socklab: error: {message}").format(message=exc))
        code = 2
    except docker.errors.DockerException as exc:
        say(_("socklab: error: Docker: {message}").format(message=exc))
        code = 2
    except KeyboardInterrupt:
        say(_("socklab: interrupted"))
        code = 130
    except Exception as exc:  # a bug: one line here, the whole traceback kept in a file
        path = report.REPORTS / f"error-{time.strftime('%Y%m%d-%H%M%S')}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(traceback.format_exc(), encoding="utf-8")
        say(_("socklab: internal error: {error}: {message} (traceback in {path})").format(
            error=type(exc).__name__, message=exc, path=path))
        code = 2
    sys.exit(code)
