"""event-loop: the concurrent-server line protocol in one thread of one process, under 1,100 connections, 20
active clients timed, a client that never reads its replies, and an idle stretch in which CPU is measured."""
from collections import Counter

from orchestrator.exercises import _procs, _steps
from orchestrator.exercises.concurrent_server import HINTS as LINE_HINTS
from orchestrator.exercises.thread_pool_server import thread_counts
from orchestrator.i18n import N_, _
from orchestrator.result import Step

NAME = "event-loop"
ROLE = "server"
SUMMARY = N_("the upper-casing line server in one thread: 1,100 connections, 20 active clients timed beside a "
             "client that never reads, no CPU while idle")
HELD, IDLE, ACTIVE, PAUSE_MS = 550, 550, 20, 50  # idle connections from client2 and from client1; active clients
ACTIVE_S, SLOW_S, AFTER_S, QUIET_S, SLOW_MIB = 3, 4, 1.5, 3, 16  # the cases' lengths; what the slow reader sends
P95_MS, CPU_SHARE, NOFILE, LIMIT_S = 250, 0.25, 4096, 90

HINTS = {
    "select": N_("select() takes descriptors below 1,024 only (FD_SETSIZE): the connection that got descriptor "
                 "1,024 ended the server with `ValueError: filedescriptor out of range in select()`. Wait with "
                 "selectors.DefaultSelector() (epoll on Linux) or asyncio, which have no such limit (the io-models "
                 "lesson: IO multiplexing)."),
    "thread-limit": N_("`RuntimeError: can't start new thread`: a thread per connection, and the idle connections "
                       "alone are more threads than the sandbox allows (128). One thread waits on all of them in an "
                       "event loop: selectors or asyncio (the io-models lesson)."),
    "dropped": N_("Idle connections were refused, dropped or left unanswered: accept every connection the "
                  "listening socket offers and keep it registered until its client closes it. An idle connection "
                  "is not a closed one: recv() returning b'' is."),
    "late": N_("The active clients' replies came late: each turn of the loop must handle only the sockets that "
               "are ready and never wait on one of them: no sleep, no blocking call, no pass over every connection."),
    "blocking-send": N_("While a client that never reads was connected, everyone else waited: a blocking sendall() "
                        "to it waits until it reads, and the one thread waits with it. Make every socket "
                        "non-blocking, keep what send() could not take in that connection's output buffer, and send "
                        "the rest when the selector says it is writable (EVENT_WRITE); stop reading a connection "
                        "whose output buffer is large until it drains (the io-models lesson: non-blocking IO)."),
    "before": N_("No active client was still being answered when the slow reader came: the step before failed "
                 "first; fix that one."),
    "threads": N_("More than one thread: a thread per connection (or a pool) serves the crowd with threads, not "
                  "with an event loop. One thread waits on every socket at once: selectors or asyncio (the "
                  "io-models lesson: IO multiplexing)."),
    "one-more-thread": N_("One thread beside the main one. asyncio.start_server() given the host None or '' looks the "
                          "address up in a helper thread (its default executor), which stays: give it '0.0.0.0'. "
                          "Or is it a thread of your own? The loop must do everything in the main thread."),
    "processes": N_("The program started other processes (fork, multiprocessing, subprocess): serve every "
                    "connection in the one process's event loop."),
    "busy": N_("A busy loop: the server kept a CPU busy while every client was idle. Non-blocking sockets polled "
               "in a loop (catching BlockingIOError) never sleep; wait in selector.select(), which sleeps until a "
               "socket is ready — and ask for EVENT_WRITE only while a connection has replies waiting: a socket "
               "is nearly always writable, so a selector that always asks for it returns at once, for ever (the "
               "io-models lesson: non-blocking IO against IO multiplexing)."),
    "wrong": LINE_HINTS["wrong"],  # the same protocol, the same mistake
}


def timing(held, got):
    """{step key: [[start, end]]}: the checkers' cases, on the wall clock, by the step they are evidence for."""
    cases = got["timing"]
    return {"idle-crowd": held["timing"]["open"] + cases["idle"] + cases["probe"] + held["timing"]["probe"],
            "active-latency": cases["active"], "slow-reader": cases["slow"] + cases["after"], "cpu": cases["quiet"]}


def failed_within(clients, start, end):
    """The active clients whose failure came between start and end (a failed line: when it was sent)."""
    return [c for c in clients if c["failure"] and start <= c["failure"]["at"] <= end]


def told(client):
    """A failed client, in words."""
    failure = client["failure"]
    what = {"no-reply": _("no reply"), "refused": _("could not connect"),
            "wrong": _("got {reply}").format(reply=repr(failure.get("got")))}.get(failure["verdict"],
                                                                                 _("the connection was closed"))
    return _("client {index}, line {line}: {failure}").format(index=client["index"], line=failure["line"] + 1,
                                                             failure=what)


def blame(failed, otherwise):
    """The hint for failed clients: a wrong reply's, else `otherwise`'s."""
    return _(HINTS["wrong" if any(c["failure"]["verdict"] == "wrong" for c in failed) else otherwise])


def idle_hint(crowds, stderr):
    if "filedescriptor out of range" in stderr:
        return _(HINTS["select"])
    if "can't start new thread" in stderr:
        return _(HINTS["thread-limit"])
    return _(HINTS["wrong" if any(c["probe"].get("wrong") for c in crowds) else "dropped"])


def idle_step(held, idle, stderr):
    crowds = [held, idle]
    count, opened = sum(c["count"] for c in crowds), sum(c["opened"] for c in crowds)
    still, right = sum(c["end"]["open"] for c in crowds), sum(c["probe"]["right"] for c in crowds)
    passed = right == count
    errors = dict(sum((Counter(c["failed"]) for c in crowds), Counter()))
    return Step(
        "idle-crowd", _("{count} connections held open").format(count=count), passed=passed,
        expected=_("{held} idle connections from client2 and {idle} from client1 are all accepted, none is dropped, "
                   "and at the end each answers a probe line").format(held=held["count"], idle=idle["count"]),
        observed=_("{opened}/{count} opened; {still} still open at the end; {right} probe lines answered right")
        .format(opened=opened, count=count, still=still, right=right)
        + (_("; failed to open: {errors}").format(errors=errors) if errors else ""),
        why=_("An event loop's descriptors are cheap: a thousand idle connections cost it no thread and no time, "
              "only a registration each; on Linux, past descriptor 1,024 only select() fails."),
        facts={"held": held, "idle": idle, "stderr_tail": stderr[-2000:]},
        hint="" if passed else idle_hint(crowds, stderr))


def active_step(got):
    start, end = got["timing"]["active"][0]
    failed = failed_within(got["active"], 0, end)
    stats = got["latency"]["active"]
    passed = not failed and stats["count"] > 0 and stats["p95_ms"] <= P95_MS
    return Step(
        "active-latency", _("{clients} active clients answered in time").format(clients=len(got["active"])),
        passed=passed,
        expected=_("beside the idle crowd, {clients} clients each send a line every {pause} ms for {seconds} s: "
                   "every reply right, 95 in 100 of them within {limit} ms").format(
            clients=len(got["active"]), pause=got["pause_ms"], seconds=round(end - start, 1), limit=P95_MS),
        observed=latency_told(stats) + (_("; {count} client(s) failed, e.g. {failure}").format(
            count=len(failed), failure=told(failed[0])) if failed else ""),
        why=_("The loop serves whichever socket is ready: with most connections idle, a reply waits only for "
              "the other ready sockets' turns, a millisecond or so."),
        facts={"latency": stats, "limit_ms": P95_MS, "failed": failed},
        hint="" if passed else blame(failed, "late"))


def latency_told(stats):
    if not stats["count"]:
        return _("no reply timed")
    return _("{count} replies: p50 {p50} ms, p95 {p95} ms, slowest {most} ms").format(
        count=stats["count"], p50=stats["p50_ms"], p95=stats["p95_ms"], most=stats["max_ms"])


def memory_during(usage, start, end):
    """[the server's memory when the slow reader came, the most while it was there], in KiB (null: no sample)."""
    before = [rss for at, __, rss, *__ in usage if at <= start][-1:] or [None]
    return [before[0], max((rss for at, __, rss, *__ in usage if start <= at <= end), default=None)]


def slow_hint(clients, failed, slow_start):
    if len(failed_within(clients, 0, slow_start)) == len(clients):
        return _(HINTS["before"])
    return blame(failed, "blocking-send")


def slow_step(got, usage):
    (start, end), after = got["timing"]["slow"][0], got["timing"]["after"][0][1]
    clients, slow, stats = got["active"], got["slow"], got["latency"]["slow"]
    failed = failed_within(clients, start, after)
    went_on = sum(1 for c in clients if any(at >= end for at, __ in c["latencies"]))
    passed = slow["connected"] and not failed and stats["count"] > 0 and stats["p95_ms"] <= P95_MS \
        and went_on == len(clients)
    memory = memory_during(usage, start, end)
    return Step(
        "slow-reader", _("a client that never reads stalls nobody"), passed=passed,
        expected=_("while one client sends {mib} MiB of lines and never reads a reply, the {clients} active clients "
                   "are still answered, 95 % within {limit} ms; once it has gone, all of them go on").format(
            mib=round(slow["limit_bytes"] / (1 << 20)), clients=len(clients), limit=P95_MS),
        observed=_("while it sent: {latency}; afterwards {went_on}/{clients} clients answered; the slow reader "
                   "sent {mib} MiB{stalled}").format(
            latency=latency_told(stats), went_on=went_on, clients=len(clients),
            mib=round(slow["sent_bytes"] / (1 << 20), 1),
            stalled=_(", then the server stopped taking its lines") if slow["stalled_at"] else "")
        + (_("; {count} client(s) failed, e.g. {failure}").format(count=len(failed), failure=told(failed[0]))
           if failed else "") + ("" if slow["connected"] else _("; the slow reader could not connect")),
        why=_("A reply the client does not read stays in the server's output buffer, not in a call that waits: "
              "the loop goes on serving the others. A bounded buffer (stop reading that client until it drains) "
              "also keeps the server's memory bounded."),
        facts={"latency": got["latency"], "limit_ms": P95_MS, "slow": slow, "timing": got["timing"],
               "server_rss_kib": memory, "went_on": went_on,
               "points": sorted(pair for c in clients for pair in c["latencies"]),
               "failures": [[c["failure"]["at"], c["failure"]["verdict"]] for c in clients if c["failure"]]},
        hint="" if passed else slow_hint(clients, failed, start))


def threads_hint(most, children):
    return _(HINTS["processes" if children else "one-more-thread" if most == 2 else "threads"])


def over_the_check(usage, cases):
    """What the picture of the server over the check needs: its samples, the cases, the CPU while quiet."""
    return {"usage": usage, "timing": cases, "cpu_share": cpu_share(usage, *cases["cpu"][0])[0],
            "cpu_limit": CPU_SHARE}


def one_thread_step(record, cases):
    usage = record.get("usage") or []
    samples, watch = thread_counts(usage), record.get("watch") or []
    most, main = max((n for __, n in samples), default=0), _procs.root(watch)
    children = {pid: args for __, table in watch for pid, __, state, args in table if pid != main and state != "Z"}
    passed = most == 1 and not children
    return Step(
        "one-thread", _("one thread, one process, throughout"), passed=passed,
        expected=_("the program has exactly one thread and starts no process, from start to end (sampled from "
                   "/proc every 10 ms)"),
        observed=_("at most {most} thread(s); {processes} process(es)").format(most=most, processes=1 + len(children))
        + (_("; others: {args}").format(args="; ".join(sorted(set(children.values())))[:200]) if children else ""),
        why=_("The point of an event loop: one thread waits on every socket at once, so a thousand connections "
              "cost no thread each."),
        facts={"max_threads": most, "samples": samples, "children": children, **over_the_check(usage, cases)},
        hint="" if passed else threads_hint(most, children))


def cpu_share(usage, start, end):
    """(CPU seconds per second between the first and last samples of the live program within [start, end],
    their span in s); None when they are less than half a second apart."""
    inside = [(at, cpu) for at, threads, __, cpu in usage if start <= at <= end and threads]
    if len(inside) < 2 or inside[-1][0] - inside[0][0] < 0.5:
        return None, 0.0
    (t0, c0), (t1, c1) = inside[0], inside[-1]
    return round((c1 - c0) / (t1 - t0), 3), round(t1 - t0, 2)


def cpu_step(record, cases):
    usage = record.get("usage") or []
    (start, end), = cases["cpu"]
    share, seconds = cpu_share(usage, start, end)
    passed = share is not None and share <= CPU_SHARE
    return Step(
        "cpu", _("no CPU while every client is idle"), passed=passed,
        expected=_("for {seconds} s nothing is sent: the server keeps one CPU at most {limit} % busy").format(
            seconds=round(end - start, 1), limit=round(CPU_SHARE * 100)),
        observed=_("one CPU {share} % busy over {seconds} s").format(share=round(share * 100), seconds=seconds)
        if share is not None else _("not measured: no samples of the server in that time"),
        why=_("select(), poll() and epoll sleep in the kernel until a socket is ready: an idle event loop costs "
              "nothing. A loop that never sleeps costs a core."),
        facts={"seconds": seconds, **over_the_check(usage, cases)},
        hint="" if passed else _(HINTS["busy"]))


def cases(held, got, record):
    """The steps of the cases, from the two checkers' results and the sandbox's record (usage, watch)."""
    spans, usage = timing(held, got), record.get("usage") or []
    steps = [idle_step(held, got["idle"], record.get("stderr", "")), active_step(got), slow_step(got, usage),
             one_thread_step(record, spans), cpu_step(record, spans)]
    return _steps.after_the_end(steps, spans, record)


def drive_args():
    return ("--idle", IDLE, "--active", ACTIVE, "--pause-ms", PAUSE_MS, "--active-s", ACTIVE_S, "--slow-s", SLOW_S,
            "--after-s", AFTER_S, "--quiet-s", QUIET_S, "--slow-mib", SLOW_MIB)


def check(lab, program, progress, seed):
    server, holder, driver = lab.node("server"), lab.node("client2"), lab.node("client1")
    progress(_("{exercise}: starting {file} on server").format(exercise=NAME, file=program.path.name))
    port = lab.exercise_port()
    with program.serving(server, port, usage=True, watch=True, nofile=NOFILE, limit_s=LIMIT_S) as running:
        steps = [_steps.started(running, port)]
        if running.ready:
            progress(_("{exercise}: {count} idle connections from client2").format(exercise=NAME, count=HELD))
            hold = holder.start("checkers.event_loop", "hold", "server", port, "--count", HELD)
            hold.line("ready", timeout=40)
            progress(_("{exercise}: from client1, {idle} more, {active} active clients and a slow reader (about 15 s)")
                     .format(exercise=NAME, idle=IDLE, active=ACTIVE))
            got = driver.program("checkers.event_loop", "drive", "server", port, *drive_args(), timeout=120)
            held = hold.stop().result()  # on SIGTERM it probes its connections and reports
            lasted = _steps.survived(running)
            steps += cases(held, got, lasted.facts["record"]) + [lasted]
    return steps + [_steps.clean([server])]
