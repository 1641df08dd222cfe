"""Process and thread pools: size against cores on CPU-bound and I/O-bound work, synchronous against
asynchronous calls, where a callback runs, and a server on a fixed pool — with the clients it starves."""
import math

from orchestrator.i18n import N_, _
from orchestrator.node import program_argv
from orchestrator.result import Step
from orchestrator.scenarios._cleanup import nothing_left
from orchestrator.scenarios.concurrency import measure, model_name

NAME = "pools"
SUMMARY = N_("multiprocessing.Pool, ProcessPoolExecutor and ThreadPoolExecutor: pool size against cores on CPU- "
             "and I/O-bound work, map against apply_async/submit, where a callback runs, a pool-backed server and "
             "the idle connections that starve it")
PARAMS = {"tasks": (16, 2, 256), "cpu_n": (600_000, 1000, 10**8), "wait_ms": (30, 1, 2000), "rounds": (3, 1, 15),
          "call_ms": (200, 10, 5000), "workers": (4, 2, 16), "clients": (16, 2, 128), "request_ms": (200, 1, 5000),
          "patience": (1.0, 0.1, 30.0), "idle": (30.0, 1.0, 600.0)}
POOLS = {"pool": "multiprocessing.Pool", "process": "ProcessPoolExecutor", "thread": "ThreadPoolExecutor"}
ASYNC_CALLS = {"pool": ("apply_async()", "get()"), "process": ("submit()", "result()"),
               "thread": ("submit()", "result()")}  # each pool's asynchronous call, and how its result is got
NO_FASTER = 1.25  # "no faster": within 25%, on cores shared with the whole lab
BUSY_SLACK = 1.15  # the CPUs kept busy, read from two clocks: no more than the cores give, within 15%


def curve(result, executor):
    """{pool size: median seconds} of one executor."""
    return dict(zip(result["sizes"], result["seconds"][executor]))


def sizes_for(cpus):
    """The pool sizes to measure on a node with `cpus` usable CPUs: 1, the CPUs, twice and four times as many."""
    return sorted({1, cpus, 2 * cpus, 4 * cpus})


def at_cores(result):
    """The largest size measured that the node's usable CPUs run all at once."""
    return max(size for size in result["sizes"] if size <= result["usable_cpus"])


def busy_said(cpus):
    """`1: 1.0, 2: 1.9, …` for the CPUs a pool kept busy at each size."""
    return _(", ").join(_("{size}: {cpus}").format(size=size, cpus=c) for size, c in cpus.items())


def said(seconds):
    """`1: 0.41 s, 2: 0.21 s, …` for a curve."""
    return _(", ").join(_("{size}: {seconds} s").format(size=size, seconds=round(s, 3)) for size, s in seconds.items())


def busy(result, executor):
    """{pool size: median CPUs the pool kept busy} of one executor."""
    return dict(zip(result["sizes"], result["cpus_busy"][executor]))


def cpu_step(r):
    process, thread = curve(r, "process"), curve(r, "thread")
    cores, top = at_cores(r), max(r["sizes"])
    gained = process[1] / process[cores]
    most = {name: max(busy(r, name).values()) for name in ("process", "thread")}
    return Step(
        "cpu-bound-sizes", _("CPU-bound work: pool size against {cores} cores").format(cores=r["usable_cpus"]),
        passed=(cores == 1 or gained >= NO_FASTER) and most["process"] <= cores * BUSY_SLACK
        and most["thread"] <= BUSY_SLACK,
        expected=_("{tasks} tasks counting to {n} through map(): a process pool gets faster up to {cores} workers, "
                   "and at any size keeps no more than {cores} CPUs busy; a thread pool keeps no more than one "
                   "busy").format(tasks=r["tasks"], n=r["work"], cores=cores),
        observed=_("median of {rounds}, pool size: seconds — processes {process}; threads {thread}. CPUs busy "
                   "(the tasks' CPU time over those seconds) — processes {process_busy}; threads {thread_busy} "
                   "({cores_used} CPUs usable, os.cpu_count() {cpu_count})").format(
            rounds=len(r["rounds_s"]["process"][0]), process=said(process), thread=said(thread),
            process_busy=busy_said(busy(r, "process")), thread_busy=busy_said(busy(r, "thread")),
            cores_used=r["usable_cpus"], cpu_count=r["cpu_count"]),
        why=_("A process pool (进程池) runs pure-Python work on every core, but no more at once than there are "
              "cores: past {cores} workers, the extra ones only take turns. A thread pool (线程池) runs it one "
              "thread at a time whatever its size (the GIL). For CPU-bound work, size a process pool to the cores "
              "— os.cpu_count(), Pool()'s and ProcessPoolExecutor()'s default.").format(cores=cores),
        facts={**r, "processes_speedup_to_cores": round(gained, 2), "most_cpus_busy": most})


def io_step(r):
    cores, top = at_cores(r), max(r["sizes"])
    curves = {name: curve(r, name) for name in ("process", "thread")}
    speedup = {name: round(c[1] / c[top], 2) for name, c in curves.items()}
    past = {name: round(c[cores] / c[top], 2) for name, c in curves.items()}
    return Step(
        "io-bound-sizes", _("I/O-bound work: pool size past the cores"),
        passed=all(s >= 3 for s in speedup.values()) and (cores == top or all(p >= 1.5 for p in past.values())),
        expected=_("{tasks} tasks waiting {ms} ms each: processes and threads alike get faster with every worker "
                   "added, past the {cores} cores too ({top} workers at least 3× faster than 1)").format(
            tasks=r["tasks"], ms=r["work"], cores=cores, top=top),
        observed=_("median of {rounds}, pool size: seconds — processes {process}; threads {thread}").format(
            rounds=len(r["rounds_s"]["process"][0]), process=said(curves["process"]), thread=said(curves["thread"])),
        why=_("A task that waits (for a disk, a peer, a database) holds no core: while it waits, another worker "
              "runs. Any pool helps, and threads are enough — they cost less than processes, and the GIL is "
              "released while they wait. Size such a pool by how many waits overlap, not by cores "
              "(ThreadPoolExecutor's default: cores + 4, at most 32)."),
        facts={**r, "speedup_at_largest": speedup, "past_cores": past})


def call_said(name, r):
    """One executor's two calls, in a sentence."""
    submit, get = ASYNC_CALLS[name]
    ends = [end for _start, end in r["async"]["tasks_ms"]]
    return _("{pool}: map() returned after {map_ms} ms, its results all in after {map_done_ms} ms; {submit} "
             "returned after {async_ms} ms, {get} had them all after {async_done_ms} ms (tasks ended "
             "{first_ms}–{last_ms} ms)").format(
        pool=POOLS[name], map_ms=r["map"]["returned_ms"], map_done_ms=r["map"]["done_ms"], submit=submit,
        async_ms=r["async"]["returned_ms"], get=get, async_done_ms=r["async"]["done_ms"], first_ms=min(ends),
        last_ms=max(ends))


def returned_before_work(call):
    """Whether the call came back before any of its tasks had ended."""
    return call["returned_ms"] < min(end for _start, end in call["tasks_ms"])


def calls_step(r):
    pool_map = r["pool"]["map"]
    blocked = pool_map["returned_ms"] >= max(end for _start, end in pool_map["tasks_ms"])
    at_once = {name: returned_before_work(r[name]["async"]) for name in POOLS}
    lazy_map = {name: returned_before_work(r[name]["map"]) for name in ("process", "thread")}
    return Step(
        "sync-vs-async", _("map() against apply_async() and submit(): when the caller waits"),
        passed=blocked and all(at_once.values()) and all(lazy_map.values()),
        expected=_("{workers} tasks of {ms} ms on {workers} workers: Pool.map() returns after the last task; "
                   "apply_async() and submit() return at once, and get() / result() wait; Executor.map() returns "
                   "at once too, an iterator that waits as it is read").format(workers=r["workers"], ms=r["task_ms"]),
        observed=_("; ").join(call_said(name, r[name]) for name in POOLS),
        why=_("Pool.map() is a synchronous call (同步调用): it hands back the results, so the caller is blocked "
              "until the last one. apply_async() and submit() are asynchronous calls (异步调用): they hand back "
              "a promise (AsyncResult, Future) at once and the caller goes on, blocking only when it asks for the "
              "result. Executor.map() submits everything and returns an iterator: it blocks as it is read."),
        facts={**r, "pool_map_blocked": blocked, "async_returned_at_once": at_once,
               "executor_map_returned_at_once": lazy_map})


def ran_where(name, r, main):
    """Whether the task and its callback ran where they should: the callback in the parent, off the main
    thread; the task in a worker process, or (a thread pool) in the worker thread that then ran the callback."""
    task, called = r["task"], r["callback"]
    if name == "thread":
        placed = task["pid"] == main["pid"] and called["tid"] == task["tid"] != main["tid"]
    else:
        placed = task["pid"] != main["pid"] and called["pid"] == main["pid"] and called["tid"] != main["tid"]
    return placed and not r["done_before_attached"]


def callback_said(name, r):
    task, called = r["task"], r["callback"]
    return _("{pool}: task in pid {task_pid} thread {task_tid}, callback in pid {pid} thread {tid} "
             "({thread})").format(pool=POOLS[name], task_pid=task["pid"], task_tid=task["tid"], pid=called["pid"],
                                  tid=called["tid"], thread=called["thread"])


def callback_step(r):
    main = r["main"]
    placed = {name: ran_where(name, r[name], main) for name in POOLS}
    return Step(
        "callback-where", _("where a callback runs: process and thread"),
        passed=all(placed.values()),
        expected=_("the callback runs in the parent process, never in the main thread: multiprocessing.Pool's in "
                   "its result-handler thread, ProcessPoolExecutor's in its management thread, "
                   "ThreadPoolExecutor's in the worker thread that ran the task"),
        observed=_("main: pid {pid} thread {tid}; ").format(pid=main["pid"], tid=main["tid"])
        + _("; ").join(callback_said(name, r[name]) for name in POOLS),
        why=_("A callback (回调函数) is called where the result arrives, not where the task ran: in the parent, "
              "by the thread that collects results — one thread for every task of a Pool, so a slow callback "
              "holds up all the other results. It is not the main thread: what it shares with the main code needs "
              "a lock or a queue."),
        facts={**r, "as_expected": placed})


def servers(server, clients, p):
    """The pool server, then fork-per-client beside it: ({name: short clients' load, bad clients}, {name: a
    client behind `workers` idle connections})."""
    argvs = {"pool": program_argv("pools", ["serve", "--workers", p["workers"], "--idle", p["idle"]]),
             "fork": program_argv("reqserver", ["fork", "--idle", p["idle"]])}
    loads, starved = {}, {}
    for name, argv in argvs.items():
        with server.serve(argv):
            loads[name] = measure(clients, f"io {p['request_ms']}", p["clients"])
            loads[name]["bad_clients"] = clients[0].program("reqclient", "server", "--abuse", timeout=60)
            starved[name] = clients[-1].program("pools", "starve", "server", "--connections", p["workers"],
                                                "--patience", p["patience"], timeout=90)
    return loads, starved


def server_name(name, workers):
    return _("a pool of {workers} processes").format(workers=workers) if name == "pool" else model_name("fork")


def pool_server_step(loads, p):
    pool, fork = loads["pool"], loads["fork"]
    waves = math.ceil(p["clients"] / p["workers"])
    survived = {name: r["bad_clients"]["good_reply"] == "ok" and r["bad_clients"]["garbage_reply"].startswith("error")
                for name, r in loads.items()}
    in_waves = 0.7 * waves <= pool["seconds"] / (p["request_ms"] / 1000) <= 2 * waves  # not one by one either
    return Step(
        "pool-server", _("a server on a pool of {workers} processes, {clients} clients").format(
            workers=p["workers"], clients=p["clients"]),
        passed=pool["answered_by"] == p["workers"] < fork["answered_by"] and in_waves and all(survived.values()),
        expected=_("{clients} clients waiting {ms} ms each: the pool's {workers} processes answer them all, "
                   "{workers} at a time (≈ {waves} × {ms} ms); fork-per-client answers each in a process of its "
                   "own, all at once. Garbage, a vanishing and a silent client cost each server one worker, not "
                   "its service").format(clients=p["clients"], ms=p["request_ms"], workers=p["workers"], waves=waves),
        observed=_("; ").join(_("{server}: {seconds} s, p50 {p50_ms} / p95 {p95_ms} ms, answered by {answered_by} "
                                "processes, a good client after bad ones {answered}").format(
            server=server_name(name, p["workers"]), seconds=r["seconds"], p50_ms=r["p50_ms"], p95_ms=r["p95_ms"],
            answered_by=r["answered_by"], answered=_("answered") if survived[name] else _("not answered"))
            for name, r in loads.items()),
        why=_("A process pool (进程池) serves many clients with a fixed set of processes, each taking the next "
              "connection when it is free: the same {workers} pids answer everyone, and the machine never runs "
              "more of them than planned — where fork-per-client makes a process for every client that comes. "
              "The price: clients past the {workers}th wait their turn.").format(workers=p["workers"]),
        facts={"workers": p["workers"], "clients": p["clients"], "request_ms": p["request_ms"], "models": loads,
               "survived_bad_clients": survived})


def starve_said(name, r, workers):
    server = server_name(name, workers)
    if r["starved"] and r["answered_ms"] is not None:
        return _("{server}: no answer within {patience} s; one idle connection closed at {closed_ms} ms, the "
                 "answer {after_close_ms} ms later").format(
            server=server, patience=r["patience_s"], closed_ms=r["closed_ms"], after_close_ms=r["after_close_ms"])
    if r["starved"]:
        return _("{server}: no answer, even after an idle connection closed").format(server=server)
    return _("{server}: answered after {answered_ms} ms").format(server=server, answered_ms=r["answered_ms"])


def answered(r):
    return (r["answer"] or "").startswith("ok")


def pool_starved_step(starved, p):
    pool, fork = starved["pool"], starved["fork"]
    freed = pool["starved"] and answered(pool) and pool["after_close_ms"] < 500
    return Step(
        "pool-starved", _("{workers} idle connections starve a pool of {workers}").format(workers=p["workers"]),
        passed=freed and not fork["starved"] and answered(fork),
        expected=_("{workers} connections that say nothing, then a client's request: the pool server does not "
                   "answer it within {patience} s, and answers as soon as one idle connection closes; "
                   "fork-per-client answers it at once").format(workers=p["workers"], patience=p["patience"]),
        observed=_("; ").join(starve_said(name, r, p["workers"]) for name, r in starved.items()),
        why=_("Each connection holds its worker until it ends, idle or not: as many idle connections as workers "
              "(keep-alive clients, slow or silent peers) stop the pool, every later client queued behind them — "
              "until one leaves, or the server's idle timeout ({idle} s here) drops one. Servers that hold many "
              "idle connections wait on all of them in one event loop instead (selectors, asyncio: the io-models "
              "lesson).").format(idle=p["idle"]),
        facts={"workers": p["workers"], "idle_s": p["idle"], **starved})


def run(lab, params, progress):
    node, server, clients = lab.node("worker1"), lab.node("server"), lab.nodes("client")
    sizes = sizes_for(int(node.run(["nproc"]).stdout))  # the CPUs this node may use, as the pools will see them
    sized = ["--sizes", ",".join(map(str, sizes)), "--tasks", params["tasks"], "--rounds", params["rounds"]]
    progress(_("pools of {sizes} workers on CPU-bound, then I/O-bound work").format(sizes=", ".join(map(str, sizes))))
    steps = [cpu_step(node.program("pools", "sizes", "--kind", "cpu", "--work", params["cpu_n"], *sized, timeout=300)),
             io_step(node.program("pools", "sizes", "--kind", "io", "--work", params["wait_ms"], *sized, timeout=300))]
    progress(_("synchronous and asynchronous calls; where callbacks run"))
    steps += [calls_step(node.program("pools", "calls", "--workers", params["workers"], "--ms", params["call_ms"])),
              callback_step(node.program("pools", "callback"))]
    progress(_("a server on a pool of {workers} processes, then fork-per-client: {clients} clients, bad clients, "
               "{workers} idle connections").format(workers=params["workers"], clients=params["clients"]))
    loads, starved = servers(server, clients, params)
    steps += [pool_server_step(loads, params), pool_starved_step(starved, params),
              nothing_left([node, server, *clients], ["nodes.pools", "nodes.reqserver"],
                           _("Every pool was closed or terminated with its program; every server was stopped with "
                             "its whole session."))]
    return steps
