"""One request server in four models against concurrent clients; then concurrency vs parallelism on 2 cores."""
import statistics
import time

from orchestrator.i18n import N_, _
from orchestrator.node import at_once, program_argv
from orchestrator.result import Step
from orchestrator.scenarios._cleanup import nothing_left

NAME = "concurrency"
SUMMARY = N_("iterative, thread-per-client, process-per-client and selectors servers under N clients; threads vs "
             "processes on CPU work (the GIL)")
PARAMS = {"clients": (8, 2, 64), "io_ms": (200, 1, 5000), "cpu_clients": (4, 2, 32), "cpu_n": (3_000_000, 1000, 10**9),
          "cpu_rounds": (3, 1, 15), "idle": (1.0, 0.1, 60.0)}
MODELS = ("iterative", "threads", "fork", "selectors")
MODEL_NAMES = {"iterative": N_("iterative"), "threads": N_("a thread per client"),
               "fork": N_("a process per client (fork)"), "selectors": N_("selectors (one loop)")}


def model_name(model):
    """A server model as people call it, in their language."""
    return _(MODEL_NAMES[model])


def load(clients, request, total):
    """total clients split over the client nodes, all starting at one moment; (seconds, latencies, the
    servers that answered, [[start_ms, latency_ms]] per request)."""
    at = time.time() + 0.8
    shares = [total // len(clients) + (i < total % len(clients)) for i in range(len(clients))]
    def one(args):
        node, count = args
        return node.program("reqclient", "server", "--clients", count, "--request", request, "--at", at, timeout=120)
    results = at_once(one, zip(clients, shares))
    latencies = sorted(l for r in results for l in r["latencies_ms"])
    requests = sorted([s, l] for r in results for s, l in zip(r["started_ms"], r["latencies_ms"]))
    return max(r["seconds"] for r in results), latencies, {s for r in results for s in r["servers"]}, requests


def stats(latencies):
    return {"p50_ms": round(statistics.median(latencies), 1),
            "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 1)}


def measure(clients, request, total):
    """load() summed up: seconds, latency percentiles, how many server processes answered, and each
    request's [start, latency] in ms (for the Gantt chart)."""
    seconds, latencies, servers, requests = load(clients, request, total)
    return {"seconds": round(seconds, 3), **stats(latencies), "answered_by": len(servers), "requests": requests}


def io_models(server, clients, p):
    measured = {}
    for model in MODELS:
        with server.serve("reqserver", model, "--idle", p["idle"]):
            measured[model] = measure(clients, f"io {p['io_ms']}", p["clients"])
            measured[model]["bad_clients"] = clients[0].program("reqclient", "server", "--abuse", timeout=60)
    return measured


def io_step(measured, p):
    n, wait, idle = p["clients"], p["io_ms"] / 1000, p["idle"]
    iterative = measured["iterative"]["seconds"]
    concurrent = {m: measured[m]["seconds"] for m in MODELS[1:]}
    survived = {m: r["bad_clients"]["good_reply"] == "ok" and r["bad_clients"]["garbage_reply"].startswith("error")
                for m, r in measured.items()}
    waited = {m: r["bad_clients"]["good_latency_ms"] for m, r in measured.items()}
    frozen = waited["iterative"] >= 0.8 * idle * 1000 and all(waited[m] < idle * 1000 / 2 for m in MODELS[1:])
    return Step(
        "io-bound-models", _("{clients} clients, each request waiting {io_ms} ms on I/O").format(
            clients=n, io_ms=p["io_ms"]),
        passed=all(iterative >= 2 * s for s in concurrent.values()) and all(survived.values()) and frozen,
        expected=_("the iterative server answers one at a time (≈ {clients} × {wait} s); threads, processes and "
                   "selectors overlap the waits (≈ {wait} s). Then garbage, a client that vanishes and one that "
                   "says nothing: every model still answers a good client — the iterative one only after dropping "
                   "the silent one ({idle} s)").format(clients=n, wait=wait, idle=idle),
        observed=_(", ").join(_("{model} {seconds} s (p50 {p50_ms} / p95 {p95_ms} ms)").format(
            model=model_name(m), seconds=r["seconds"], p50_ms=r["p50_ms"], p95_ms=r["p95_ms"])
            for m, r in measured.items())
        + _("; a good client after a silent one: ") + _(", ").join(
            (_("{model} answered it after {waited_ms} ms") if survived[m] else
             _("{model} did not answer it ({waited_ms} ms)")).format(model=model_name(m), waited_ms=waited[m])
            for m in measured),
        why=_("Concurrency is about waiting well: while one request waits, another can be served — by another "
              "thread, another process, or one loop that never blocks (multiplexing). The iterative server "
              "survived the silent client but served nobody else for {iterative_s:.1f} s, until its "
              "idle timeout dropped it: one slow peer stops everyone.").format(iterative_s=waited["iterative"] / 1000),
        facts={"models": measured, "survived_bad_clients": survived, "good_client_waited_ms": waited,
               "iterative_vs_best": round(iterative / min(concurrent.values()), 2)})


def cpu_rounds(server, clients, p, servers):
    """{name: medians} of CPU-bound requests against each server argv in `servers`, in alternating rounds."""
    rounds = {name: [] for name in servers}
    for _round in range(p["cpu_rounds"]):  # alternating rounds, medians: the cores are shared with the whole lab
        for name, argv in servers.items():
            with server.serve(argv):
                rounds[name].append(measure(clients, f"cpu {p['cpu_n']}", p["cpu_clients"]))
    return {name: {"seconds": statistics.median(r["seconds"] for r in runs),
                   "rounds_s": [r["seconds"] for r in runs], "answered_by": runs[-1]["answered_by"],
                   "p50_ms": runs[-1]["p50_ms"], "p95_ms": runs[-1]["p95_ms"]}
            for name, runs in rounds.items()}


def reqserver(model, p):
    return program_argv("reqserver", [model, "--idle", p["idle"]])


def cpu_step(server, clients, p, cores):
    measured = cpu_rounds(server, clients, p, {model: reqserver(model, p) for model in ("threads", "fork")})
    ratio = measured["fork"]["seconds"] / measured["threads"]["seconds"]
    return Step(
        "cpu-bound-threads-vs-processes", _("{requests} CPU-bound requests: threads vs processes on "
                                            "{cores} cores").format(requests=p["cpu_clients"], cores=cores),
        passed=ratio < 0.85,
        expected=_("threads take turns holding the GIL, so CPU work runs one at a time; processes run on every core"),
        observed=_("median of {rounds}: threads {threads} s, processes {processes} s (processes take {ratio:.2f}× "
                   "the threads' time)").format(rounds=p["cpu_rounds"], threads=measured["threads"]["seconds"],
                                                processes=measured["fork"]["seconds"], ratio=ratio),
        why=_("Concurrency is not parallelism: threads in one CPython process take turns running pure-Python "
              "code; only separate processes run it at the same time, and no more of them than there are cores "
              "({cores}, nproc on the server). C code that releases the GIL (hashlib, zlib on large buffers) does "
              "run in parallel in threads, and free-threaded CPython builds lift the GIL.").format(cores=cores),
        facts={"models": measured, "processes_to_threads": round(ratio, 3), "cores": cores})


def one_core_step(server, clients, p, cores):
    """The process-per-client server again, pinned to one CPU: concurrency is left, parallelism is gone."""
    fork = reqserver("fork", p)
    measured = cpu_rounds(server, clients, p, {"all cores": fork, "one core": ["taskset", "-c", "0", *fork]})
    every, one = measured["all cores"], measured["one core"]
    slowdown = one["seconds"] / every["seconds"]
    together = one["p50_ms"] / one["p95_ms"]
    return Step(
        "one-core-concurrency", _("the same {requests} requests, processes pinned to one core (taskset -c 0)").format(
            requests=p["cpu_clients"]),
        passed=slowdown >= 1.4 and together >= 0.85,
        expected=_("on one CPU the same processes take clearly longer (on all {cores} cores, the others did "
                   "their share of the work), and the requests finish together, late, rather than one after "
                   "another").format(cores=cores),
        observed=_("median of {rounds}: all cores {all_cores} s, one core {one_core} s ({slowdown:.2f}×); on one "
                   "core, latency p50 {p50_ms} / p95 {p95_ms} ms (p50 = {p50_over_p95:.2f} of p95)").format(
            rounds=p["cpu_rounds"], all_cores=every["seconds"], one_core=one["seconds"], slowdown=slowdown,
            p50_ms=one["p50_ms"], p95_ms=one["p95_ms"], p50_over_p95=together),
        why=_("One CPU runs one thing at a time: the kernel slices its time among the processes (多道技术, "
              "multiprogramming), so all of them progress and all finish near the end — concurrency without "
              "parallelism. The processes' speed-up came from the other cores ({others} here), not from being "
              "processes.").format(others=cores - 1),
        facts={"servers": measured, "one_core_slowdown": round(slowdown, 3), "p50_over_p95": round(together, 3),
               "cores": cores})


def run(lab, params, progress):
    server, clients = lab.node("server"), lab.nodes("client")
    progress(_("{clients} I/O-bound clients against each of {models}").format(
        clients=params["clients"], models=_(", ").join(model_name(m) for m in MODELS)))
    steps = [io_step(io_models(server, clients, params), params)]
    progress(_("{clients} CPU-bound clients: threads, then processes").format(clients=params["cpu_clients"]))
    cores = int(server.run(["nproc"]).stdout)  # the CPUs the server's processes may run on
    steps += [cpu_step(server, clients, params, cores), one_core_step(server, clients, params, cores),
              nothing_left([server], ["nodes.reqserver"], _("The fork server reaps its children on SIGCHLD; every "
                                                             "server was stopped with its whole session."))]
    return steps
