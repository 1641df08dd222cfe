"""Benchmarks, each against a baseline measured in the same run; `socklab bench` saves them under reports/.

- lab: warm up / down of the 6-node lab (images in cache) against starting and removing as many bare
  containers of the same image; idle memory per node against a bare `sleep` container; --cold adds a cold
  build of both images.
- idle: the whole machine's busy time while the lab waits (6 nodes, then WORKERS=10) against the same
  window with no lab, each window longer than the health checks' interval.
- framing: client1 -> server, framed messages (with and without sha256) against raw sendall() of the same
  bytes, for 1 MiB messages (throughput) and 64-byte messages (rate).
- remote exec: execd's framed round trip of `true` and a large output's throughput against real SSH.
- swarm: the same lab on the local three-engine swarm (`make swarm-local`, started for the bench when it is
  not running) beside the Compose lab, rounds alternating: warm up, an exec's round trip through a remote
  machine's engine against one through this host's, and ping's round trips within a machine and between two.
- class: a class of CLASS_SIZE framing submissions (the reference, programs written apart and the bug
  variants, each file its own) graded on 3 labs against the same class on 1 lab (one run each: each is
  minutes long); the memory of one grading lab's nodes after a check; a class of BIG_CLASS on the default
  number of labs, timed whole (labs up and down included).
- watch: the machine's busy time with the lab idle and the `socklab watch` page open in Chromium against the
  same lab and browser on a blank page (and, for scale, with no browser at all); and a lesson's timing facts
  with the page open and without, rounds alternating: ping's median round trip between every pair of nodes,
  and framed 1 MiB throughput.
- queue: no-op tasks, the lesson's plain Queue against a bare managers queue (nodes.queuebase), each timed by
  its consumer from the first item to the last; the reliable queue with 1, 2 and 3 workers, timed from the
  producers' start to the consumers' end.
"""
import functools
import os
import shutil
import statistics
import threading
import time
from contextlib import contextmanager

import docker.errors
from rich.table import Table

from orchestrator import labels
from orchestrator.errors import LabError
from orchestrator.i18n import _
from orchestrator.image import Images, base_tag, node_tag
from orchestrator.lab import Lab
from orchestrator.topology import CLIENTS, DEFAULT_WORKERS
from orchestrator.node import program_argv, results

ROUNDS = 5
TARGETS = {"warm_up_ratio": 1.3, "down_s": 3.0, "idle_node_mb": 15.0, "idle_busy_pct": 1.0,
           "idle_busy_10_workers_pct": 2.0, "framed_1mib_ratio": 0.9, "exec_p50_ratio": 1 / 3,
           "queue_plain_to_bare": 0.9, "queue_reliable_3_to_1": 1.0, "swarm_up_ratio": 2.0, "swarm_exec_ratio": 2.0,
           "class_3_to_1_labs": 2.0, "class_100_s": 240.0, "watch_idle_busy_pct": 2.0, "watch_rtt_ratio": 1.25}
UPPER_BOUNDS = {"warm_up_ratio", "down_s", "idle_node_mb", "idle_busy_pct", "idle_busy_10_workers_pct",
                "exec_p50_ratio", "swarm_up_ratio", "swarm_exec_ratio", "class_100_s",
                "watch_idle_busy_pct", "watch_rtt_ratio"}
CLASS_SIZE, BIG_CLASS = 24, 100
SWARM_ROUNDS, SWARM_EXECS, SWARM_PINGS = 3, 50, 20
IDLE_WINDOW_S = 65  # longer than the health checks' 60 s interval, so every node's check falls inside
WATCH_WINDOW_S, WATCH_IDLE_ROUNDS = 30, 4  # alternating: one long window each was ±1 point apart run to run
WATCH_TRANSFERS = 4
IDLE_SETTLE_S = 3   # after `up` returns, Compose and the engine finish their own bookkeeping
MANY_WORKERS = 10
REMOTE_EXEC = {"repeat": 200, "big_mib": 10}
# tasks per producer (plain pair, reliable queue: at 70,000 tasks/s, 2 x 20,000 were over in 0.6 s, less than
# the start of the programs the wall clock counts); items per reliable get/put
QUEUE_TASKS, QUEUE_RELIABLE_TASKS, QUEUE_BATCH, QUEUE_MAXSIZE = 20_000, 100_000, 50, 1000
# the plain consumer's completions per record: at 12,000 no-op tasks a second, one every 40 ms or so (its
# `done` lines go every 50 ms); every 50 tasks took 3-4 points of the ratio, a round trip each
QUEUE_RECORD_EVERY = 500
FRAMING_CASES = {"1 MiB": (1 << 20, 512), "64 B": (64, 100_000)}  # message size, messages per transfer
MODES = ("raw", "framed", "framed+sha256")


def timed(action):
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def median(values):
    return round(statistics.median(values), 3)


def memory_mb(container):
    """Memory in use as `docker stats` counts it: usage less inactive page cache."""
    stats = container.stats(stream=False, one_shot=True)["memory_stats"]
    extra = stats.get("stats", {})
    cache = extra.get("total_inactive_file", extra.get("inactive_file", 0))
    return (stats["usage"] - cache) / 2**20


def bare_containers(engine, image, count):
    """Start count bare containers and wait until each runs; returns them."""
    containers = [engine.containers.run(image, ["sleep", "infinity"], detach=True, init=True,
                                        labels={labels.BENCH: "bare"}) for unused in range(count)]
    for container in containers:
        while container.status != "running":
            container.reload()
    return containers


def remove(containers):
    for container in containers:
        container.remove(force=True)


def busy_seconds():
    """(busy, total) CPU time of the whole machine so far, from /proc/stat (idle and iowait are not busy)."""
    with open("/proc/stat") as stat:
        ticks = [int(word) for word in stat.readline().split()[1:]]
    return sum(ticks) - ticks[3] - ticks[4], sum(ticks)


def busy_percent(seconds):
    """The share of the whole machine that was busy over the next `seconds`, in percent."""
    busy0, total0 = busy_seconds()
    time.sleep(seconds)
    busy1, total1 = busy_seconds()
    return round(100 * (busy1 - busy0) / (total1 - total0), 2)


def idle_bench(lab, progress):
    """Busy time with the lab idle (6 nodes, then MANY_WORKERS workers) against no lab, same window."""
    lab.down()
    progress(_("idle: {seconds} s with no lab").format(seconds=IDLE_WINDOW_S))
    none = busy_percent(IDLE_WINDOW_S)
    measured = {}
    for workers in (DEFAULT_WORKERS, MANY_WORKERS):
        lab.up(workers=workers)
        time.sleep(IDLE_SETTLE_S)
        progress(_("idle: {seconds} s with {nodes} nodes waiting").format(seconds=IDLE_WINDOW_S,
                                                                         nodes=1 + CLIENTS + workers))
        measured[workers] = busy_percent(IDLE_WINDOW_S)
    lab.down()
    return {"window_s": IDLE_WINDOW_S, "no_lab_pct": none, "lab_pct": measured[DEFAULT_WORKERS],
            "lab_10_workers_pct": measured[MANY_WORKERS],
            "idle_busy_pct": round(measured[DEFAULT_WORKERS] - none, 2),
            "idle_busy_10_workers_pct": round(measured[MANY_WORKERS] - none, 2)}


def lab_bench(lab, progress, cold):
    engine = lab.engine
    nodes = 1 + CLIENTS + DEFAULT_WORKERS
    results = {"nodes": nodes}
    if cold:
        progress(_("cold build: removing the node and base images, then building both"))
        lab.down()
        for tag in (node_tag(), base_tag()):
            if Images(engine).exists(tag):
                engine.images.remove(tag, force=True)
        results["cold_build_s"] = round(timed(lambda: Images(engine, progress).ensure()), 2)
    image = Images(engine, progress).ensure()
    lab.down()
    ups, downs, bare_ups, bare_downs = [], [], [], []
    for round_ in range(1, ROUNDS + 1):
        progress(_("lab round {round}/{rounds}: lab up and down, {nodes} bare containers up and down").format(
            round=round_, rounds=ROUNDS, nodes=nodes))
        ups.append(timed(lambda: lab.up(workers=DEFAULT_WORKERS)))
        if round_ == ROUNDS:
            idle = [memory_mb(n.container) for n in lab.nodes()]
        downs.append(timed(lab.down))
        containers = []
        bare_ups.append(timed(lambda: containers.extend(bare_containers(engine, image, nodes))))
        if round_ == ROUNDS:
            bare_idle = memory_mb(containers[0])
        bare_downs.append(timed(lambda: remove(containers)))
    return {**results,
            "warm_up_s": median(ups), "bare_up_s": median(bare_ups), "warm_up_ratio": round(median(ups) / median(bare_ups), 2),
            "down_s": median(downs), "bare_down_s": median(bare_downs),
            "down_ratio": round(median(downs) / median(bare_downs), 2),
            "idle_node_mb": round(statistics.mean(idle), 2), "idle_node_max_mb": round(max(idle), 2),
            "bare_idle_mb": round(bare_idle, 2), "idle_ratio": round(statistics.mean(idle) / bare_idle, 2)}


def transfer(server, client, mode, size, count):
    """Seconds for one transfer of count messages, from the sender's first byte to the receiver's last."""
    with server.serve("framed", "sink", "--mode", mode) as sink:
        sent = client.program("framed", "source", "server", "--mode", mode, "--count", count, "--size", size,
                              timeout=300)
        got = sink.result(300)
    if got["bytes"] < size * count:
        raise LabError(_("framing bench, {mode}: the sink got {received} of {sent} bytes").format(
            mode=mode, received=got["bytes"], sent=size * count))
    return max(sent["seconds"], got["seconds"])


def framing_bench(lab, progress):
    lab.up()
    server, client = lab.node("server"), lab.node("client1")
    results = {}
    for case, (size, count) in FRAMING_CASES.items():
        seconds = {mode: [] for mode in MODES}
        for round_ in range(1, ROUNDS + 1):
            progress(_("framing {case} round {round}/{rounds}: {modes}").format(case=case, round=round_, rounds=ROUNDS,
                                                                               modes=", ".join(MODES)))
            for mode in MODES:  # alternating, so that drifting load falls on every mode alike
                seconds[mode].append(transfer(server, client, mode, size, count))
        rate = {mode: median([count / s for s in seconds[mode]]) for mode in MODES}
        results[case] = {"size": size, "messages": count, "messages_per_s": rate,
                         "mb_per_s": {mode: round(r * size / 1e6, 1) for mode, r in rate.items()},
                         "ratio_to_raw": {mode: round(rate[mode] / rate["raw"], 2) for mode in MODES}}
    return results


def remote_exec_bench(lab, progress):
    """The remote-exec scenario's own measurement: `true` round trips and a large output, framed vs SSH."""
    from orchestrator.scenarios import remote_exec
    progress(_("remote exec: `true` {repeat} times and {big_mib} MiB, framed vs SSH").format(
        repeat=REMOTE_EXEC["repeat"], big_mib=REMOTE_EXEC["big_mib"]))
    return remote_exec.measured_against_ssh(lab, REMOTE_EXEC)


@contextmanager
def browser_page():
    """A page of Debian's Chromium, headless, through Playwright (as the tests drive it)."""
    from playwright.sync_api import sync_playwright
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise LabError(_("the watch bench opens the page in Debian's chromium: `make host` installs it"))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            yield browser.new_page()
        finally:
            browser.close()


@contextmanager
def watch_served(lab):
    """`socklab watch` serving the lab from a thread (it reads the lab only when its page asks)."""
    from orchestrator.watch.server import WatchServer
    server = WatchServer(lab)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def lesson_timings(lab):
    """(ping's median round trip in ms over every pair of nodes: the lesson's key timing; framed 1 MiB
    messages per second over WATCH_TRANSFERS times the framing bench's count (0.3 s transfers swung ±25% round
    to round): a transfer that keeps both cores busy, which the page's redrawing takes from)."""
    from orchestrator import scenarios
    rtt = scenarios.run("ping", lab).step("reach-by-ip").facts["rtt_p50_all_ms"]
    size, count = FRAMING_CASES["1 MiB"]
    count *= WATCH_TRANSFERS
    return rtt, count / transfer(lab.node("server"), lab.node("client1"), "framed", size, count)


def watch_bench(lab, progress):
    """What an open watch page costs: the idle lab's busy time with the page open against the same browser on a
    blank page, rounds alternating (and, for scale, no browser; and the watch server's own CPU); a lesson's
    timings with the page open and on a blank page."""
    lab.up()
    time.sleep(IDLE_SETTLE_S)
    no_browser = busy_percent(WATCH_WINDOW_S)
    blank, watched, own = [], [], []
    with browser_page() as page, watch_served(lab) as server:
        def open_watch():
            page.goto(server.url)
            page.wait_for_selector("svg.topology g.node")
        for round_ in range(1, WATCH_IDLE_ROUNDS + 1):
            progress(_("watch: idle round {round}/{rounds}, {seconds} s on a blank page, then as long on the watch "
                       "page").format(round=round_, rounds=WATCH_IDLE_ROUNDS, seconds=WATCH_WINDOW_S))
            page.goto("about:blank")
            blank.append(busy_percent(WATCH_WINDOW_S))
            open_watch()
            before = time.process_time()  # this process's: the watch server's threads (the rest sleeps)
            watched.append(busy_percent(WATCH_WINDOW_S))
            own.append(100 * (time.process_time() - before) / WATCH_WINDOW_S / os.cpu_count())
        plain, seen = [], []
        for round_ in range(1, ROUNDS + 1):
            progress(_("watch round {round}/{rounds}: ping and framing, on a blank page, then with watch open").format(
                round=round_, rounds=ROUNDS))
            page.goto("about:blank")
            plain.append(lesson_timings(lab))
            open_watch()
            time.sleep(1)  # the page drawn: what is measured is a lesson with watch open, not the page opening
            seen.append(lesson_timings(lab))
    return {"window_s": WATCH_WINDOW_S, "rounds": WATCH_IDLE_ROUNDS, "no_browser_pct": no_browser,
            "idle_pct": median(blank), "idle_watched_pct": median(watched),
            "watch_idle_busy_pct": round(statistics.median(w - b for w, b in zip(watched, blank)), 2),
            "watch_own_pct": round(median(own), 2),
            "rtt_ms": median([r for r, _ in plain]), "rtt_watched_ms": median([r for r, _ in seen]),
            "watch_rtt_ratio": paired([r for r, _ in seen], [r for r, _ in plain]),
            "framed_per_s": median([f for _, f in plain]), "framed_watched_per_s": median([f for _, f in seen]),
            "watch_framed_ratio": paired([f for _, f in seen], [f for _, f in plain])}


def drain(server, broker, consumers, producers, finish=None):
    """Run tasks through a broker: the consumers start and connect, then the producers run, then finish
    (node, argv) once they are done (the poison pills). Returns the seconds from the producers' start until
    every consumer had ended, and the consumers' results (each with its own busy_s)."""
    with server.serve(*broker):
        running = [node.start(*argv) for node, argv in consumers]
        for consumer in running:
            consumer.expect("consuming")
        started = time.monotonic()
        results([node.start(*argv) for node, argv in producers], 300)
        if finish:
            finish[0].program(*finish[1])
        consumed = results(running, 300)
        return time.monotonic() - started, consumed


def two_cpus(node):
    """Two CPUs a node's programs may run on, or (None, None) on a machine of one."""
    cpus = node.run(["python3", "-c", "import os; print(*sorted(os.sched_getaffinity(0)))"]).stdout.decode().split()
    return (cpus[0], cpus[1]) if len(cpus) > 1 else (None, None)


def pinned(cpu, program, *args):
    """A node program's argv, bound to one CPU by taskset when cpu is not None."""
    argv = program_argv(program, args)
    return argv if cpu is None else ["taskset", "-c", cpu, *argv]


def queue_bench(lab, progress):
    """No-op tasks, client1 → broker → worker1: the lesson's plain Queue against a bare managers queue, with
    the broker on one CPU and both clients on another (unbound, the core each program landed on decided a
    round more than the code did: rounds of one case ranged from 8,500 to 20,000 tasks/s); then the reliable
    queue (leases, batches of QUEUE_BATCH, 2 producers) with 1, 2 and 3 workers, unbound. Alternating rounds,
    medians."""
    cpus = two_cpus(lab.node("server"))
    pair = {"bare": functools.partial(pair_rate, lab, cpus, "queuebase", [], []),
            "plain": functools.partial(pair_rate, lab, cpus, "queues", ["--idle", 5, "--record-every",
                                                                         QUEUE_RECORD_EVERY], ["--pills", 1])}
    workers = len(lab.nodes("worker"))
    scaling = {f"reliable_{w}": functools.partial(reliable_rate, lab, w) for w in range(1, workers + 1)}
    cases = {**pair, **scaling}
    rates = {name: [] for name in cases}
    for round_ in range(1, ROUNDS + 1):
        # ABBA, so that a drift weighs on both sides alike: the pair twice in each round, the workers reversed
        # every other round
        order = ["bare", "plain", "plain", "bare", *(list(scaling) if round_ % 2 else reversed(scaling))]
        progress(_("queue round {round}/{rounds}: {cases}").format(round=round_, rounds=ROUNDS, cases=", ".join(order)))
        for name in order:
            rates[name].append(cases[name]())
    return {"tasks": QUEUE_TASKS, "reliable_tasks": QUEUE_RELIABLE_TASKS, "maxsize": QUEUE_MAXSIZE,
            "batch": QUEUE_BATCH, "record_every": QUEUE_RECORD_EVERY, "cpus": {"broker": cpus[0], "clients": cpus[1]},
            "tasks_per_s": {name: round(statistics.median(r)) for name, r in rates.items()},
            "rounds": {name: [round(x) for x in r] for name, r in rates.items()},
            "plain_to_bare": paired(rates["plain"], rates["bare"]),
            "reliable_3_to_1": paired(rates[f"reliable_{workers}"], rates["reliable_1"])}


def pair_rate(lab, cpus, program, consume, produce):
    """QUEUE_TASKS no-op tasks through `program`'s broker (the broker on one CPU, both clients on the other),
    per second on the consumer's clock: the queue's pace without the programs' start and end."""
    (broker_cpu, client_cpu), size = cpus, str(QUEUE_MAXSIZE)
    __, [consumed] = drain(lab.node("server"), [pinned(broker_cpu, program, "broker", "--maxsize", size)],
                           [(lab.node("worker1"), [pinned(client_cpu, program, "consume", "server", *consume)])],
                           [(lab.node("client1"), [pinned(client_cpu, program, "produce", "server", "--count",
                                                          QUEUE_TASKS, *produce)])])
    return QUEUE_TASKS / consumed["busy_s"]


def reliable_rate(lab, count, tasks=QUEUE_RELIABLE_TASKS):
    """The reliable queue with `count` workers: tasks per second on the wall clock, from the producers' start
    (one per client, `tasks` each) to the consumers' end."""
    workers, clients = lab.nodes("worker")[:count], lab.nodes("client")
    seconds, __ = drain(
        lab.node("server"), ["queues", "broker", "--maxsize", str(QUEUE_MAXSIZE)],
        [(w, ["queues", "consume", "server", "--mode", "reliable", "--batch", QUEUE_BATCH, "--idle", 5])
         for w in workers],
        [(c, ["queues", "produce", "server", "--mode", "reliable", "--count", tasks, "--start", i * tasks,
              "--batch", QUEUE_BATCH]) for i, c in enumerate(clients)],
        (clients[0], ["queues", "produce", "server", "--mode", "reliable", "--count", 0, "--pills", count]))
    return len(clients) * tasks / seconds


def swarm_bench(lab, progress):
    """The lab on the local swarm against the Compose lab, rounds alternating (see the module's docstring)."""
    from orchestrator.engines.local_swarm import LocalSwarm
    from orchestrator.engines.swarm import SwarmEngine
    local = LocalSwarm(lab.engine, progress)
    running = [engine for engine in local.engines() if local.shares(engine)]
    made = not running
    swarm = Lab(f"{lab.project}-swarm", backend=SwarmEngine(local.up(len(running) or 3)["SOCKLAB_MANAGER"]))
    ups, execs = {"compose": [], "swarm": []}, {"compose": [], "swarm": []}
    try:
        for round_ in range(1, SWARM_ROUNDS + 1):
            progress(_("swarm round {round}/{rounds}: the lab up on Compose and on the swarm, execs through each "
                       "engine").format(round=round_, rounds=SWARM_ROUNDS))
            for kind, each in (("compose", lab), ("swarm", swarm)):
                each.down()
                ups[kind].append(timed(lambda: each.up(workers=DEFAULT_WORKERS)))
                node = each.node("client2")  # on a machine of its own on the swarm, not the manager's
                execs[kind] += [timed(lambda: node.run(["true"])) * 1000 for unused in range(SWARM_EXECS)]
        rtt = swarm_rtts(swarm)
    finally:
        swarm.down()
        if made:
            local.down()
    return {"up_s": {kind: median(values) for kind, values in ups.items()},
            "exec_p50_ms": {kind: median(values) for kind, values in execs.items()},
            "up_ratio": round(median(ups["swarm"]) / median(ups["compose"]), 2),
            "exec_ratio": round(median(execs["swarm"]) / median(execs["compose"]), 2), "rtt_p50_ms": rtt}


def a_class(folder, size):
    """A framing class of `size` students in folder: the reference, servers written apart and the bugs in
    turn, each file made its own by a comment (a class has no two identical files)."""
    from orchestrator.exercises import HOME
    from orchestrator.topology import ROOT
    programs = [HOME / "framing" / "reference.py", *sorted((ROOT / "tests/unit/classes/similar").glob("*.py")),
                *sorted((HOME / "framing" / "bugs").glob("*.py"))]
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(size):
        program = programs[n % len(programs)]
        (folder / f"student{n:03}.py").write_text(program.read_text() + f"\n# student {n}\n")
    return folder


def class_bench(lab, progress):
    """Grading a class on 3 labs against 1, one lab's memory, and a big class's time (module docstring)."""
    import tempfile
    from pathlib import Path

    from orchestrator import grading
    from orchestrator.exercises import run as check
    from orchestrator.learner import LearnerProgram
    lab.down()  # the class's labs have the machine to themselves
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        small, big = a_class(scratch / "small", CLASS_SIZE), a_class(scratch / "big", BIG_CLASS)

        def graded(folder, labs, name):
            progress(_("class: {count} framing submissions on {labs} labs").format(
                count=len(list(folder.iterdir())), labs=labs or _("the default number of")))
            run = grading.Grading(grading.Plan("framing", str(folder), labs=labs, seed=1, project=f"{lab.project}-{name}",
                                               out=scratch / name))
            seconds = timed(run.run)
            failed = [o.error for o in run.outcomes if not o.result]
            if failed:
                raise LabError(_("class bench: {count} submissions not graded: {error}").format(
                    count=len(failed), error=failed[0]))
            return seconds, run.labs
        three, one = graded(small, 3, "three")[0], graded(small, 1, "one")[0]
        progress(_("class: one grading lab's memory after a check"))
        lab.up(workers=DEFAULT_WORKERS)
        check("framing", lab, LearnerProgram(small / "student000.py"), seed=1)
        lab_mb = sum(memory_mb(node.container) for node in lab.nodes())
        lab.down()
        big_s, big_labs = graded(big, None, "big")
    return {"size": CLASS_SIZE, "three_labs_s": round(three, 1), "one_lab_s": round(one, 1),
            "three_to_one": round(one / three, 2), "lab_mb": round(lab_mb, 1), "big": BIG_CLASS,
            "big_s": round(big_s, 1), "big_labs": big_labs}


def optional(bench, lab, progress):
    """A part of the bench this host may not be able to run (a local swarm): its figures, or why not."""
    try:
        return bench(lab, progress)
    except (LabError, docker.errors.DockerException) as exc:
        progress(_("skipped: {error}").format(error=exc))
        return {"error": str(exc)}


def swarm_rtts(swarm):
    """{"same", "across"}: client1's median ping to a node on its own machine, and to one on another."""
    client1 = swarm.node("client1")
    others = [n for n in swarm.nodes() if n.name != "client1"]
    same = next(n for n in others if n.machine_name == client1.machine_name)
    across = next(n for n in others if n.machine_name != client1.machine_name)
    found = client1.program("ping", "--count", SWARM_PINGS, "--interval", 0.01, same.ip, across.ip)["targets"]
    return {kind: median(target["rtt_ms"]) for kind, target in zip(("same", "across"), found)}


def paired(rates, baselines):
    """The median of each round's ratio: a case against the baseline measured next to it, so that what the
    machine was doing in that round weighs on both alike."""
    return round(statistics.median(rate / baseline for rate, baseline in zip(rates, baselines)), 2)


def run(project="socklab-bench", progress=lambda text: None, cold=False):
    lab = Lab(project, progress=lambda text: None)
    try:
        results = {"rounds": ROUNDS, "targets": TARGETS, "lab": lab_bench(lab, progress, cold),
                   "idle": idle_bench(lab, progress), "framing": framing_bench(lab, progress), "remote_exec": remote_exec_bench(lab, progress),
                   "queue": queue_bench(lab, progress), "swarm": optional(swarm_bench, lab, progress),
                   "class": class_bench(lab, progress), "watch": optional(watch_bench, lab, progress)}
    finally:
        lab.down()
    measured = {**results["lab"], **results["idle"], "framed_1mib_ratio": results["framing"]["1 MiB"]["ratio_to_raw"]["framed"],
                "exec_p50_ratio": results["remote_exec"]["p50_ratio_framed_to_ssh"],
                "queue_plain_to_bare": results["queue"]["plain_to_bare"],
                "queue_reliable_3_to_1": results["queue"]["reliable_3_to_1"],
                "swarm_up_ratio": results["swarm"].get("up_ratio"), "swarm_exec_ratio": results["swarm"].get("exec_ratio"),
                "class_3_to_1_labs": results["class"]["three_to_one"], "class_100_s": results["class"]["big_s"],
                **{key: results["watch"].get(key) for key in ("watch_idle_busy_pct", "watch_rtt_ratio")}}
    results["met"] = {key: measured[key] is not None and
                      (measured[key] <= limit if key in UPPER_BOUNDS else measured[key] >= limit)
                      for key, limit in TARGETS.items()}
    return results


def table(results):
    """Every figure beside its baseline, ratio and target, as a rich table."""
    t = Table(title=_("benchmarks: medians of {rounds} rounds").format(rounds=results["rounds"]))
    for column in (_("measure"), "socklab", _("baseline"), _("ratio"), _("target")):
        t.add_column(column)
    verdict = {True: "[green]" + _("met") + "[/]", False: "[red]" + _("missed") + "[/]"}
    mark = lambda key, sign: f"{sign} {TARGETS[key]:.2g} {verdict[bool(results['met'][key])]}"
    for rows in (lab_rows, framing_rows, exec_rows, queue_rows, swarm_rows, class_rows, watch_rows):
        for row in rows(results, mark):
            t.add_row(*row)
    return t


def lab_rows(results, mark):
    lab, idle = results["lab"], results["idle"]
    bare = lambda value: _("{value:.2f} bare").format(value=value)
    no_lab = _("{value} no lab").format(value=idle["no_lab_pct"])
    rows = [(_("lab of {nodes}: warm up to all ready (s)").format(nodes=lab["nodes"]), f"{lab['warm_up_s']:.2f}",
             bare(lab["bare_up_s"]), f"{lab['warm_up_ratio']}×", mark("warm_up_ratio", "≤")),
            (_("lab down (s)"), f"{lab['down_s']:.2f}", bare(lab["bare_down_s"]), f"{lab['down_ratio']}×",
             mark("down_s", "≤")),
            (_("idle memory per node (MB)"), f"{lab['idle_node_mb']:.2f}", bare(lab["bare_idle_mb"]),
             f"{lab['idle_ratio']}×", mark("idle_node_mb", "≤")),
            (_("machine busy, lab of {nodes} idle ({seconds} s, % points)").format(nodes=lab["nodes"],
                                                                                   seconds=idle["window_s"]),
             f"{idle['lab_pct']}", no_lab, f"+{idle['idle_busy_pct']}", mark("idle_busy_pct", "≤")),
            (_("machine busy, {workers} workers idle (% points)").format(workers=MANY_WORKERS),
             f"{idle['lab_10_workers_pct']}", no_lab, f"+{idle['idle_busy_10_workers_pct']}",
             mark("idle_busy_10_workers_pct", "≤"))]
    if "cold_build_s" in lab:
        rows.append((_("cold image build (s)"), f"{lab['cold_build_s']:.1f}", "-", "-", "-"))
    return rows


def framing_rows(results, mark):
    rows = []
    for case, r in results["framing"].items():
        unit = "MB/s" if r["size"] >= 1 << 20 else "msgs/s"
        value = lambda mode: f"{r['mb_per_s'][mode]:g}" if unit == "MB/s" else f"{r['messages_per_s'][mode]:,.0f}"
        label = _("{case} messages, {mode} (MB/s)") if unit == "MB/s" else _("{case} messages, {mode} (msgs/s)")
        for mode in ("framed", "framed+sha256"):
            target = mark("framed_1mib_ratio", "≥") if (case, mode) == ("1 MiB", "framed") else "-"
            rows.append((label.format(case=case, mode=mode), value(mode), _("{value} raw").format(value=value("raw")),
                         f"{r['ratio_to_raw'][mode]}×", target))
    return rows


def exec_rows(results, mark):
    rx = results["remote_exec"]
    return [(_("exec `true` p50, framed (ms, {runs} runs)").format(runs=rx["true"]["runs"]),
             f"{rx['true']['framed']['p50_ms']}", f"{rx['true']['ssh']['p50_ms']} SSH",
             f"{rx['p50_ratio_framed_to_ssh']}×", mark("exec_p50_ratio", "≤")),
            (_("exec large output, framed (MB/s)"), f"{rx['throughput_mb_s']['framed']}",
             f"{rx['throughput_mb_s']['ssh']} SSH",
             f"{rx['throughput_mb_s']['framed'] / rx['throughput_mb_s']['ssh']:.2f}×", "-")]


def queue_rows(results, mark):
    q = results["queue"]
    rate = q["tasks_per_s"]
    workers = sorted(int(k.split("_")[1]) for k in rate if k.startswith("reliable_"))
    return [(_("queue, no-op tasks, plain Queue({maxsize}), 1 worker (tasks/s)").format(maxsize=q["maxsize"]),
             f"{rate['plain']:,}", _("{rate:,} bare manager queue").format(rate=rate["bare"]),
             f"{q['plain_to_bare']}×", mark("queue_plain_to_bare", "≥")),
            (_("queue, reliable (batch {batch}), 2 producers, {workers} workers (tasks/s)").format(
                batch=q["batch"], workers=", ".join(map(str, workers))),
             ", ".join(f"{rate[f'reliable_{w}']:,}" for w in workers),
             _("{rate:,} with 1 worker").format(rate=rate["reliable_1"]),
             f"{q['reliable_3_to_1']}×", mark("queue_reliable_3_to_1", "≥"))]


def swarm_rows(results, mark):
    """The swarm's rows beside Compose's, or one row saying why there are none."""
    sw = results["swarm"]
    if "error" in sw:
        return [(_("the lab on a local swarm"), _("not measured: {error}").format(error=sw["error"]), "-", "-",
                 mark("swarm_up_ratio", "≤"))]
    return [(_("lab of 6 on a 3-engine swarm: warm up (s)"), f"{sw['up_s']['swarm']:.2f}",
             _("{value:.2f} Compose").format(value=sw["up_s"]["compose"]), f"{sw['up_ratio']}×",
             mark("swarm_up_ratio", "≤")),
            (_("exec `true` p50 through another machine's engine (ms)"), f"{sw['exec_p50_ms']['swarm']}",
             _("{value} this host's").format(value=sw["exec_p50_ms"]["compose"]), f"{sw['exec_ratio']}×",
             mark("swarm_exec_ratio", "≤")),
            (_("ping p50 between two machines of the swarm (ms)"), f"{sw['rtt_p50_ms']['across']}",
             _("{value} within one").format(value=sw["rtt_p50_ms"]["same"]),
             f"{sw['rtt_p50_ms']['across'] / sw['rtt_p50_ms']['same']:.2f}×", "-")]


def class_rows(results, mark):
    c = results["class"]
    return [(_("a class of {size} framing submissions on 3 labs (s)").format(size=c["size"]), f"{c['three_labs_s']}",
             _("{value} on 1 lab").format(value=c["one_lab_s"]), _("{ratio}× faster").format(ratio=c["three_to_one"]),
             mark("class_3_to_1_labs", "≥")),
            (_("memory of one more grading lab, 6 nodes after a check (MB)"), f"{c['lab_mb']}", "-", "-", "-"),
            (_("a class of {size} framing submissions on {labs} labs, whole (s)").format(size=c["big"], labs=c["big_labs"]),
             f"{c['big_s']}", "-", "-", mark("class_100_s", "≤"))]


def watch_rows(results, mark):
    """watch's rows, or one row saying why there are none (no Chromium)."""
    w = results["watch"]
    if "error" in w:
        return [(_("socklab watch with its page open"), _("not measured: {error}").format(error=w["error"]), "-", "-",
                 mark("watch_idle_busy_pct", "≤"))]
    return [(_("machine busy, idle lab with watch open in a browser ({seconds} s, % points)").format(
                seconds=w["window_s"]), f"{w['idle_watched_pct']}",
             _("{value} on a blank page ({bare} without a browser; watch itself: {own})").format(
                 value=w["idle_pct"], bare=w["no_browser_pct"], own=w["watch_own_pct"]),
             f"+{w['watch_idle_busy_pct']}", mark("watch_idle_busy_pct", "≤")),
            (_("ping's median round trip with watch open (ms)"), f"{w['rtt_watched_ms']}",
             _("{value} without").format(value=w["rtt_ms"]), f"{w['watch_rtt_ratio']}", mark("watch_rtt_ratio", "≤")),
            (_("framed 1 MiB messages per second with watch open"), f"{w['framed_watched_per_s']:.0f}",
             _("{value} without").format(value=round(w["framed_per_s"])), f"{w['watch_framed_ratio']}",
             _("stated: the page redraws while traffic flows"))]
