"""One echo service served five ways — a thread per connection, a busy loop, select, epoll, asyncio — against
clients on the client nodes holding many connections, most idle; each server's threads, memory and CPU read
from /proc in the server node; what one select() costs against epoll; and a slow reader against output buffers."""
from nodes.iomodels import HIGH_WATER
from orchestrator.i18n import N_, _
from orchestrator.node import at_once
from orchestrator.result import Step
from orchestrator.scenarios._cleanup import nothing_left
from orchestrator.scenarios.concurrency import stats
from orchestrator.scenarios.processes import go, ready_pids

NAME = "io-models"
SUMMARY = N_("one echo service served five ways (a thread per connection, a busy non-blocking loop, select, epoll, "
             "asyncio) to clients holding 1,100 connections: threads, memory, CPU and latency of each; select's "
             "1024 limit and cost against epoll; a slow reader and per-connection output buffers")
PARAMS = {"connections": (1100, 2, 5000), "active": (20, 1, 200), "every_ms": (50, 5, 1000),
          "seconds": (3.0, 0.5, 30.0), "stall": (1.0, 0.2, 10.0), "slow_mib": (16, 1, 256), "rounds": (300, 10, 10000)}
MODELS = ("threads", "busy", "select", "epoll", "asyncio")
MODEL_NAMES = {"threads": N_("a thread per connection"), "busy": N_("a busy loop"), "select": N_("select"),
               "epoll": N_("epoll (selectors)"), "asyncio": N_("asyncio")}
OUTPUTS = ("drop", "block", "buffer")
OUTPUT_NAMES = {"drop": N_("send() and drop the rest"), "block": N_("a blocking sendall()"),
                "buffer": N_("an output buffer per connection")}
ADDRESS = "server"  # the server node, as the client nodes reach it
SIZES = (10, 100, 500, 1000)
FD_SETSIZE = 1024  # the descriptors select()'s bitmaps hold
SPINNING, IDLE = 0.8, 0.2  # s of CPU per s: a core spinning; near idle
ANSWERED_MS = 100  # an echo's p95 on a loop that keeps up
THREAD_MEMORY = 3  # a connection's memory in threads against the event loops', at least
GRACE = 2.0  # s a client waits after the window for echoes still owed
# the server as /proc shows it from outside: uptime, clock ticks, stat, RSS and threads, open descriptors
SAMPLE = ('cat /proc/uptime; getconf CLK_TCK; cat /proc/$1/stat; grep -E "^(VmRSS|Threads):" /proc/$1/status; '
          'ls /proc/$1/fd | wc -l')


def model_name(model):
    return _(MODEL_NAMES[model])


def sample(node, pid):
    """The server process seen from outside: {"uptime_s", "cpu_s" (utime + stime), "threads", "rss_kib", "fds"}."""
    lines = node.run(["sh", "-c", SAMPLE, "sample", str(pid)]).stdout.decode().splitlines()
    ticks, stat = int(lines[1]), lines[2].rsplit(")", 1)[1].split()  # fields from the 3rd (state) on
    status = {key: int(value.split()[0]) for key, value in (line.split(":") for line in lines[3:5])}
    return {"uptime_s": float(lines[0].split()[0]), "cpu_s": (int(stat[11]) + int(stat[12])) / ticks,
            "threads": status["Threads"], "rss_kib": status["VmRSS"], "fds": int(lines[5])}


def split(total, parts):
    """total shared out over parts, the first ones taking the remainder."""
    return [total // parts + (i < total % parts) for i in range(parts)]


def latency(echoes):
    """p50, p95 and max of the echoes' latencies in ms (None without echoes)."""
    latencies = sorted(ms for _sent, ms in echoes)
    if not latencies:
        return {"p50_ms": None, "p95_ms": None, "max_ms": None}
    return {**stats(latencies), "max_ms": latencies[-1]}


def timeline(echoes, bin_ms=100):
    """[[ms into the window, the slowest echo sent in that bin_ms]]."""
    worst = {}
    for sent, ms in echoes:
        start = int(sent // bin_ms) * bin_ms
        worst[start] = max(worst.get(start, 0), ms)
    return sorted([start, ms] for start, ms in worst.items())


def signal_all(clients, pids):
    at_once(lambda pair: go(*pair), zip(clients, pids))


def observe(server, clients, address, serving, loads, p):
    """One server (serving: its model and args) against one client program per client node (loads: the args of
    each): the server's report, /proc samples before the clients and around the window, the clients' results."""
    with server.serve("iomodels", *serving) as process:
        pid = int(process.line("listening").split()[1])
        before = sample(server, pid)
        started = [node.start("iomodels", "client", address, *load, "--every", p["every_ms"] / 1000,
                              "--seconds", p["seconds"], "--grace", GRACE) for node, load in zip(clients, loads)]
        pids = [ready_pids(client)[0] for client in started]
        first = sample(server, pid)
        signal_all(clients, pids)
        for client in started:
            client.line("measured", timeout=p["seconds"] + GRACE + 30)
        last = sample(server, pid)
        signal_all(clients, pids)
        results = [client.result(60) for client in started]
        report = process.stop().result()
    return summed(report, before, first, last, results)


def summed(report, before, first, last, results):
    """What one observe() measured, summed over the clients."""
    window, cpu = last["uptime_s"] - first["uptime_s"], last["cpu_s"] - first["cpu_s"]
    held = sum(r["open"] for r in results)
    echoes = [echo for r in results for echo in r["echoes"]]
    return {"server": report, "threads": last["threads"], "rss_kib": last["rss_kib"], "fds": last["fds"],
            "rss_before_kib": before["rss_kib"],
            "rss_per_connection_kib": round((last["rss_kib"] - before["rss_kib"]) / max(1, held), 2),
            "cpu_s": round(cpu, 3), "window_s": round(window, 2), "cpu_per_s": round(cpu / window, 3),
            "open": held, "closed_by_server": sum(r["closed_by_server"] for r in results),
            "sent_lines": sum(r["sent_lines"] for r in results),
            "missing_lines": sum(r["missing_lines"] for r in results), **latency(echoes),
            "slow": [slow for r in results for slow in r["slow"]], "timeline": timeline(echoes)}


def models(server, clients, address, p, progress):
    """{model: summed()} of every model against p["connections"], p["active"] of them active."""
    loads = [["--connections", c, "--active", a] for c, a in zip(split(p["connections"], len(clients)),
                                                                  split(p["active"], len(clients)))]
    measured = {}
    for model in MODELS:
        progress(_("{model}: {connections} connections, {active} active").format(
            model=model_name(model), connections=p["connections"], active=p["active"]))
        measured[model] = observe(server, clients, address, [model], loads, p)
    return measured


def slow_readers(server, clients, address, p):
    """{output: summed()} of the epoll server with each output policy, against the active clients and one
    slow reader on the first client node."""
    loads = [["--connections", a + (i == 0), "--active", a, "--slow", int(i == 0),
              "--slow-bytes", p["slow_mib"] << 20] for i, a in enumerate(split(p["active"], len(clients)))]
    return {output: observe(server, clients, address, ["epoll", "--output", output, "--stall", p["stall"]], loads, p)
            for output in OUTPUTS}


def said(m, connections):
    """One model's measurements in a sentence."""
    return _("threads: {threads}; RSS {rss_mib:.1f} MiB, {per_connection} KiB more per connection; CPU {cpu} s per "
             "second; connections held: {open} of {connections}; echo p50 {p50} / p95 {p95} ms, {missing} of {sent} "
             "lines unanswered").format(
        threads=m["threads"], rss_mib=m["rss_kib"] / 1024, per_connection=m["rss_per_connection_kib"],
        cpu=m["cpu_per_s"], open=m["open"], connections=connections, p50=m["p50_ms"], p95=m["p95_ms"],
        missing=m["missing_lines"], sent=m["sent_lines"])


def kept_sending(m, p):
    """Whether the active clients sent (nearly) every line the window had room for: none was closed on."""
    return m["sent_lines"] >= 0.9 * p["active"] * p["seconds"] * 1000 / p["every_ms"]


def answered(m, p):
    """The active clients kept sending, every line came back, the slowest 5% within ANSWERED_MS."""
    return kept_sending(m, p) and m["missing_lines"] == 0 and m["p95_ms"] is not None and m["p95_ms"] < ANSWERED_MS


def table(measured):
    """Every model's headline numbers, for the comparison pictures."""
    keys = ("threads", "rss_kib", "rss_per_connection_kib", "cpu_per_s", "open", "p50_ms", "p95_ms")
    return {model: {key: m[key] for key in keys} for model, m in measured.items()}


def model_facts(measured, model, p):
    return {**measured[model], "connections": p["connections"], "active": p["active"], "every_ms": p["every_ms"],
            "models": table(measured)}


def threads_step(measured, p):
    m, n = measured["threads"], p["connections"]
    loops = max(measured[model]["rss_per_connection_kib"] for model in ("epoll", "asyncio"))
    heavier = m["rss_per_connection_kib"] >= THREAD_MEMORY * max(loops, 1.0)  # a KiB at least: RSS is in pages
    return Step(
        "thread-per-connection", _("a thread per connection (blocking I/O): {connections} connections").format(
            connections=n),
        passed=m["open"] == n and m["threads"] > n and answered(m, p) and heavier,
        expected=_("{connections} connections held, {active} of them sending a line every {every_ms} ms: a thread "
                   "for each (more than {connections} threads), every echo answered; each connection adds at least "
                   "{times}× the memory it adds to the event loops (epoll, asyncio)").format(
            connections=n, active=p["active"], every_ms=p["every_ms"], times=THREAD_MEMORY),
        observed=said(m, n) + _("; epoll and asyncio: {loops} KiB per connection at most").format(loops=loops),
        why=_("Blocking I/O (阻塞IO): recv() waits until data comes, so each connection needs a thread of its own to "
              "wait in — a stack, a thread state, a task for the kernel to schedule — idle connections too. The "
              "code is plain, the cost grows with the connections, not with the work."),
        facts=model_facts(measured, "threads", p))


def busy_step(measured, p):
    m = measured["busy"]
    others = {model: measured[model]["cpu_per_s"] for model in MODELS if model != "busy"}
    idle = all(cpu < IDLE for model, cpu in others.items() if model != "select")
    return Step(
        "busy-loop", _("a busy loop (non-blocking I/O) spins a core"),
        passed=m["cpu_per_s"] >= SPINNING and idle and others["select"] < m["cpu_per_s"] / 2 and m["threads"] == 1
        and kept_sending(m, p) and m["missing_lines"] == 0,
        expected=_("one thread that tries every non-blocking socket in turn, though nearly every recv() raises "
                   "BlockingIOError, uses a core (at least {spinning} s of CPU per second) for the same echoes that "
                   "leave a thread per connection, epoll and asyncio near idle (under {idle} s per second); select "
                   "waits too, but pays for all its descriptors at every call (see the cost of one select()): well "
                   "under half the busy loop's").format(spinning=SPINNING, idle=IDLE),
        observed=_("CPU per second of the {window} s window: busy loop {busy}; ").format(
            window=m["window_s"], busy=m["cpu_per_s"])
        + _(", ").join(_("{model} {cpu}").format(model=model_name(model), cpu=cpu) for model, cpu in others.items())
        + _("; busy loop: ") + said(m, p["connections"]),
        why=_("Non-blocking I/O (非阻塞IO): recv() on a non-blocking socket returns at once, with data or with "
              "BlockingIOError. A loop that only asks again never waits, so it burns a core asking {connections} "
              "sockets that have nothing; select, epoll and asyncio ask the kernel to wait for them instead and "
              "wake when a socket is ready (IO多路复用).").format(connections=p["connections"]),
        facts=model_facts(measured, "busy", p))


def select_step(measured, p):
    m, n = measured["select"], p["connections"]
    report = m["server"]
    error = report["select_error"] or {"error": "", "descriptor": None}
    limited = "filedescriptor out of range in select()" in error["error"] and error["descriptor"] >= FD_SETSIZE
    refused = m["open"] < FD_SETSIZE and m["closed_by_server"] > 0 and m["open"] + m["closed_by_server"] == n
    return Step(
        "select-limit", _("select() and descriptor {limit}").format(limit=FD_SETSIZE),
        passed=limited and refused and report["nofile"]["raised_to"] > n and answered(m, p),
        expected=_("with {connections} connections a descriptor reaches {limit} (FD_SETSIZE): select() raises "
                   "ValueError: filedescriptor out of range in select(). This server then closes the connections "
                   "whose descriptors select() cannot take and serves the ones below {limit}; the process's own "
                   "limit (RLIMIT_NOFILE, raised to {raised_to}) would have allowed them all").format(
            connections=n, limit=FD_SETSIZE, raised_to=report["nofile"]["raised_to"]),
        observed=_("select() said {error!r} from descriptor {descriptor}; the server held {open} of {connections} "
                   "connections and closed {closed} ({refused} refused, its own count); RLIMIT_NOFILE {soft} "
                   "raised to {raised_to} (hard {hard}); echo p50 {p50} / p95 {p95} ms, {missing} of {sent} lines "
                   "unanswered").format(
            error=error["error"], descriptor=error["descriptor"], open=m["open"], connections=n,
            closed=m["closed_by_server"], refused=report["refused"], soft=report["nofile"]["soft"],
            raised_to=report["nofile"]["raised_to"], hard=report["nofile"]["hard"], p50=m["p50_ms"],
            p95=m["p95_ms"], missing=m["missing_lines"], sent=m["sent_lines"]),
        why=_("IO multiplexing (IO多路复用) with select(): the sets it takes are bitmaps of FD_SETSIZE = {limit} "
              "bits, so no descriptor from {limit} on can be watched, whatever the process may open. poll() and "
              "epoll take a list instead, and have no such limit.").format(limit=FD_SETSIZE),
        facts=model_facts(measured, "select", p))


def loop_step(measured, model, p, key, title, why):
    """epoll's and asyncio's step: one thread holds every connection, near idle, and answers every echo."""
    m, n = measured[model], p["connections"]
    threads = measured["threads"]["rss_per_connection_kib"]
    return Step(
        key, title.format(connections=n),
        passed=m["open"] == n and m["threads"] == 1 and m["cpu_per_s"] < IDLE and answered(m, p),
        expected=_("one thread holds all {connections} connections (past select()'s {limit} too), near idle "
                   "(under {idle} s of CPU per second), and answers every echo (p95 under {answered_ms} ms)").format(
            connections=n, limit=FD_SETSIZE, idle=IDLE, answered_ms=ANSWERED_MS),
        observed=said(m, n) + _("; a thread per connection: {threads} KiB per connection").format(threads=threads),
        why=why,
        facts=model_facts(measured, model, p))


def epoll_step(measured, p):
    return loop_step(
        measured, "epoll", p, "epoll", _("epoll through selectors (IO multiplexing): {connections} connections"),
        _("IO multiplexing (IO多路复用) with epoll: each socket is registered once (epoll_ctl) and the kernel keeps "
          "a list of the ready ones, so epoll_wait() hands back only those. One thread waits on every connection; "
          "a connection costs a socket object and a buffer, not a thread."))


def asyncio_step(measured, p):
    return loop_step(
        measured, "asyncio", p, "asyncio", _("asyncio (asynchronous I/O): {connections} connections"),
        _("Asynchronous I/O (异步IO): a coroutine per connection, and each await hands the event loop (事件循环) "
          "back until its socket is ready — epoll underneath, through selectors. The code reads like the thread "
          "per connection's; a connection costs a task, not a thread."))


def select_cost_step(r, served):
    """r: the select-cost program's result; served: the select and epoll servers' CPU per second above."""
    select, epoll = r["select_us"], r["epoll_us"]
    grows, flat = select[-1] / select[0], max(epoll) / min(epoll)
    return Step(
        "select-cost", _("one select() against one epoll poll, {low} to {high} descriptors").format(
            low=r["sizes"][0], high=r["sizes"][-1]),
        passed=grows >= 5 and flat <= 3 and select[-1] >= 5 * epoll[-1],
        expected=_("none of the descriptors ready: one select() costs more the more descriptors it is given "
                   "(at least 5× from {low} to {high}); one epoll poll over the same costs about the same at every "
                   "size (within 3×)").format(low=r["sizes"][0], high=r["sizes"][-1]),
        observed=_("median µs per call of {rounds} — ").format(rounds=r["rounds"]) + _(", ").join(
            _("{n}: select {select} / epoll {epoll}").format(n=n, select=s, epoll=e)
            for n, s, e in zip(r["sizes"], select, epoll))
        + _(" (select {grows:.0f}×, epoll {flat:.1f}×); serving the same echoes above, the select server used "
            "{select_cpu} s of CPU per second, the epoll server {epoll_cpu}").format(
            grows=grows, flat=flat, select_cpu=served["select"], epoll_cpu=served["epoll"]),
        why=_("select() is handed every descriptor on every call: Python builds the sets from its lists, the "
              "kernel checks each descriptor — and, to wait, hooks itself onto every one and unhooks afterwards — "
              "then Python builds the answer: O(N) per call, ready or not. epoll keeps the interest list in the "
              "kernel and a list of the ready ones: a wait costs what is ready, not what is watched."),
        facts={**r, "select_growth": round(grows, 2), "epoll_spread": round(flat, 2), "served_cpu_per_s": served})


def slow_facts(outputs, p):
    keys = ("server", "slow", "sent_lines", "missing_lines", "p50_ms", "p95_ms", "max_ms", "timeline")
    return {"stall_s": p["stall"], "slow_mib": p["slow_mib"], "active": p["active"], "high_water": HIGH_WATER,
            "outputs": {output: {key: m[key] for key in keys} for output, m in outputs.items()}}


def slow_said(output, m):
    slow = m["slow"][0]
    return _("{output}: the slow reader got back {received} of {sent} bytes, echo p95 {p95} / max {max} ms").format(
        output=_(OUTPUT_NAMES[output]), received=slow["received"], sent=slow["sent"], p95=m["p95_ms"],
        max=m["max_ms"])


def slow_reader_step(outputs, p):
    drop, block, kept = (outputs[output] for output in OUTPUTS)
    stall_ms = p["stall"] * 1000
    lost = not drop["slow"][0]["intact"] and drop["server"]["dropped_bytes"] > 0
    stalled = not block["slow"][0]["intact"] and (block["max_ms"] or 0) >= 0.8 * stall_ms
    buffered = kept["slow"][0]["intact"] and kept["server"]["output_peak_bytes"] > HIGH_WATER and \
        kept_sending(kept, p) and kept["missing_lines"] == 0 and kept["max_ms"] is not None and \
        kept["max_ms"] < stall_ms / 2
    return Step(
        "slow-reader", _("a slow reader: a client that sends and does not read"),
        passed=lost and stalled and buffered,
        expected=_("beside {active} active clients, one sends {mib} MiB without reading, then reads: the epoll "
                   "server that sends what fits and drops the rest loses its data; the one that waits in a blocking "
                   "sendall() stalls everyone (an echo waits ≈ {stall} s, until it gives the slow reader up); the "
                   "one with an output buffer per connection loses nothing and the others' echoes stay fast (under "
                   "{half} ms)").format(active=p["active"], mib=p["slow_mib"], stall=p["stall"],
                                         half=round(stall_ms / 2)),
        observed=_("; ").join(slow_said(output, m) for output, m in outputs.items())
        + _("; dropped {dropped} bytes; the buffer held up to {peak} bytes").format(
            dropped=drop["server"]["dropped_bytes"], peak=kept["server"]["output_peak_bytes"]),
        why=_("A non-blocking send() takes only what fits in the socket's buffer; a peer that does not read lets "
              "it fill. What did not fit must wait somewhere: not nowhere (lost), not in the loop (every client "
              "waits — blocking I/O in an event loop), but in that connection's output buffer, sent when the "
              "socket is writable (EVENT_WRITE); past {high_water} KiB the server stops reading from that peer, "
              "so the buffer stays bounded (asyncio: write() and await drain()).").format(
            high_water=HIGH_WATER // 1024),
        facts=slow_facts(outputs, p))


def run(lab, params, progress):
    server, clients = lab.node("server"), lab.nodes("client")
    measured = models(server, clients, ADDRESS, params, progress)
    steps = [threads_step(measured, params), busy_step(measured, params), select_step(measured, params),
             epoll_step(measured, params), asyncio_step(measured, params)]
    progress(_("one select() against one epoll poll over {sizes} descriptors").format(
        sizes=", ".join(map(str, SIZES))))
    cost = server.program("iomodels", "select-cost", "--sizes", ",".join(map(str, SIZES)), "--rounds", params["rounds"])
    steps.append(select_cost_step(cost, {model: measured[model]["cpu_per_s"] for model in ("select", "epoll")}))
    progress(_("a slow reader against three epoll servers: dropping, blocking, buffering"))
    steps += [slow_reader_step(slow_readers(server, clients, ADDRESS, params), params),
              nothing_left([server, *clients], ["nodes.iomodels"],
                           _("Every server was stopped with SIGTERM, with its whole session; every client closed its "
                             "connections and ended."))]
    return steps
