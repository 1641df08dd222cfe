"""socklab's command line: parse, call Lab/Node/scenarios, print for people, map errors to one line.

Exit codes: 0 success, 1 a scenario step failed, 2 an error (one line on stderr), 130 interrupted.
"""
import argparse
import json
import sys
import time
import traceback
from contextlib import contextmanager
from datetime import datetime, timezone

import docker.errors
from rich.console import Console

from orchestrator import report, scenarios
from orchestrator.errors import LabError
from orchestrator.fault import Fault
from orchestrator.image import Images
from orchestrator.lab import Lab, default_project, connect_engine

# off a terminal (a pipe, a CI log) rich would assume 80 columns and squeeze the tables
out = Console(width=None if sys.stdout.isatty() else 140)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 140)


@contextmanager
def progress(text):
    """Yields a callback for news of long work: a spinner on a terminal, else a line now and then."""
    if err.is_terminal:
        with err.status(text) as status:
            yield lambda line: status.update(line[:150])
        return
    last = {"phase": None, "at": 0.0}

    def tell(line):
        phase, now = line.split(":")[0], time.monotonic()
        if phase != last["phase"] or now - last["at"] >= 5:
            err.print(line[:150], markup=False, highlight=False, soft_wrap=True)
            last.update(phase=phase, at=now)
    tell(text)
    yield tell


def cmd_up(args):
    with progress("preparing the lab") as tell:
        lab = Lab(args.project, tell).up(workers=args.workers)
    err.print(f"lab {lab.project} is up: {len(lab.nodes())} nodes ready ({lab.subnet})")
    return 0


def cmd_build(args):
    with progress("checking the node images") as tell:
        tag = Images(connect_engine(), tell).ensure()
    err.print(f"node image {tag} is ready")
    return 0


def cmd_down(args):
    with progress("taking the lab down"):
        Lab(args.project).down()
    err.print(f"lab {args.project} is down")
    return 0


def cmd_ps(args):
    lab = Lab(args.project)
    faults = {}
    for fault in Fault.find(lab.engine, lab.project):
        faults.setdefault(fault.node, []).append(fault.kind)
    now = datetime.now(timezone.utc)
    rows = [{"node": n.name, "service": n.service, "container": n.container.name, "ip": n.ip, "health": n.status,
             "uptime_s": round((now - n.started_at).total_seconds(), 1) if n.container.status == "running" else 0,
             "faults": faults.get(n.name, [])} for n in lab.nodes()]
    if args.json:
        print(json.dumps(rows, indent=2))
    elif rows:
        out.print(report.nodes_table(rows))
    else:
        err.print(f"lab {lab.project} has no nodes: `make up` starts it")
    return 0


def cmd_exec(args):
    argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if not argv:
        raise LabError("exec needs a command after --, e.g. socklab exec server -- ps aux")
    done = Lab(args.project).node(args.node).run(argv, timeout=args.timeout)
    sys.stdout.buffer.write(done.stdout)
    sys.stderr.buffer.write(done.stderr)
    return done.exit_code


def cmd_impair(args):
    node = Lab(args.project).node(args.node)
    node.impair(delay=args.delay, jitter=args.jitter, loss=args.loss, rate=args.rate)
    err.print(f"{node.name} impaired; `socklab clear {node.name}` lifts it")
    return 0


def cmd_clear(args):
    results = Lab(args.project).node(args.node).clear()
    err.print(json.dumps(results) if results else f"{args.node} had no impairment")
    return 0


def cmd_partition(args):
    Lab(args.project).partition(args.a, args.b)
    err.print(f"{args.a} and {args.b} are cut off from each other; `socklab heal` joins them")
    return 0


def cmd_heal(args):
    healed = Lab(args.project).heal()
    err.print(f"lifted {len(healed)} partition rule sets" if healed else "no partitions")
    return 0


def cmd_scenario(args):
    if args.list or not args.name:
        for name, module in sorted(scenarios.available().items()):
            out.print(f"[bold]{name:12}[/] {module.SUMMARY}")
        return 0
    scenarios.parameters(scenarios.get(args.name), args.set)  # bad names and values fail before the lab starts
    with progress(f"preparing the lab for {args.name}") as tell:
        lab = Lab(args.project, tell).up()
        result = scenarios.run(args.name, lab, args.set, tell)
    path = report.save_result(result)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        out.print(report.result_table(result))
    err.print(f"report: {path}")
    return 0 if result.passed else 1


def cmd_bench(args):
    from orchestrator import bench
    with progress("benchmarking") as tell:
        results = bench.run(args.project, tell, cold=args.cold)
    path = report.save("bench", results)
    out.print(bench.table(results))
    err.print(f"report: {path}")
    return 0


def parser():
    p = argparse.ArgumentParser(prog="socklab", description="A multi-node lab for network and concurrency lessons.")
    p.add_argument("--project", default=default_project(), help="Compose project name (COMPOSE_PROJECT_NAME)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    c = sub.add_parser("up", help="build what is missing and start the lab")
    c.add_argument("--workers", type=int, default=None, help="worker nodes (default: as running, else 3)")
    c.set_defaults(handler=cmd_up)
    sub.add_parser("build", help="build the node images if they are missing").set_defaults(handler=cmd_build)
    sub.add_parser("down", help="remove the lab's containers, network, volumes and secrets").set_defaults(
        handler=cmd_down)
    c = sub.add_parser("ps", help="the lab's nodes: service, container, IP, health, uptime, faults")
    c.add_argument("--json", action="store_true")
    c.set_defaults(handler=cmd_ps)
    c = sub.add_parser("exec", help="run a command in a node: exec NODE -- CMD...")
    c.add_argument("node")
    c.add_argument("--timeout", type=int, default=600)
    c.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- CMD")
    c.set_defaults(handler=cmd_exec)
    c = sub.add_parser("impair", help="delay, jitter, loss or rate-limit what a node sends")
    c.add_argument("node")
    c.add_argument("--delay", help="e.g. 50ms")
    c.add_argument("--jitter", help="e.g. 5ms (uniform ±, at most the delay)")
    c.add_argument("--loss", help="e.g. 10%%")
    c.add_argument("--rate", help="e.g. 1mbit")
    c.set_defaults(handler=cmd_impair)
    c = sub.add_parser("clear", help="lift a node's impairment")
    c.add_argument("node")
    c.set_defaults(handler=cmd_clear)
    c = sub.add_parser("partition", help="cut two nodes off from each other")
    c.add_argument("a")
    c.add_argument("b")
    c.set_defaults(handler=cmd_partition)
    sub.add_parser("heal", help="lift every partition").set_defaults(handler=cmd_heal)
    c = sub.add_parser("scenario", help="run a scenario: scenario NAME [--set key=value]...; --list")
    c.add_argument("name", nargs="?")
    c.add_argument("--list", action="store_true")
    c.add_argument("--json", action="store_true", help="print the result as JSON")
    c.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a scenario parameter")
    c.set_defaults(handler=cmd_scenario)
    c = sub.add_parser("bench", help="measure the lab and the framing against baselines; JSON under reports/")
    c.add_argument("--cold", action="store_true", help="also time a cold image build (about a minute)")
    c.set_defaults(handler=cmd_bench)
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        code = args.handler(args)
    except LabError as exc:
        err.print(f"socklab: error: {exc}", markup=False, highlight=False, soft_wrap=True)
        code = 2
    except docker.errors.DockerException as exc:
        err.print(f"socklab: error: Docker: {exc}", markup=False, highlight=False, soft_wrap=True)
        code = 2
    except KeyboardInterrupt:
        err.print("socklab: interrupted", markup=False, soft_wrap=True)
        code = 130
    except Exception as exc:  # a bug: one line here, the whole traceback kept in a file
        path = report.REPORTS / f"error-{time.strftime('%Y%m%d-%H%M%S')}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(traceback.format_exc())
        err.print(f"socklab: internal error: {type(exc).__name__}: {exc} (traceback in {path})", markup=False, soft_wrap=True)
        code = 2
    sys.exit(code)
