"""thread-pool-server: the concurrent-server line protocol, served by a fixed pool of at most 4 threads."""
from orchestrator.exercises import _steps
from orchestrator.exercises.concurrent_server import HINTS as LINE_HINTS, alone_step, told
from orchestrator.i18n import N_, _
from orchestrator.result import Step

NAME = "thread-pool-server"
ROLE = "server"
SUMMARY = N_("the upper-casing line server on a fixed pool of 4 threads: 12 clients at once, at most 5 threads, "
             "workers that outlive their clients")
LINES, PAUSE_MS, CLIENTS, RATIO, VANISHERS, WORKERS = 20, 50, 12, 4, 6, 4
MAX_THREADS = WORKERS + 1  # the workers and the main thread

HINTS = {
    "threads": N_("The threads grew with the connections: a thread per connection, or a new pool made for each "
                  "connection. Make one pool of 4 (ThreadPoolExecutor(4)) once, before the accept loop, and hand "
                  "every accepted connection to it: the pool's threads take the connections in turn."),
    "extra-threads": N_("More than 5 threads before any client came: something starts threads of its own — "
                        "multiprocessing.pool.ThreadPool adds 3 helper threads to its workers, asyncio's default "
                        "executor one more. Use one concurrent.futures.ThreadPoolExecutor(4) and nothing else that "
                        "starts threads."),
    "one-at-a-time": N_("One client at a time: the connections were served one after another, so the pool is "
                        "not used. Submit each connection to the pool and go straight back to accept(); a `with "
                        "ThreadPoolExecutor(...)` block around one connection waits for it at its end."),
    "few-workers": N_("Fewer clients were served at once than the pool's 4 workers could: is the pool smaller "
                      "than 4, or does each worker wait for something shared?"),
    "slow": N_("The crowd was served 4 at a time, yet took longer than 4 times one client: is each reply slowed "
               "by something (a sleep, a lock held while sending, printing every line)?"),
    "dead-workers": N_("After clients vanished mid-line, fewer than 4 clients were served at once, or none: each "
                       "worker died with its client (an exception such as ConnectionResetError ended the worker's "
                       "thread) and nothing replaced it. Catch errors per connection inside the worker, or use "
                       "ThreadPoolExecutor, whose workers outlive a task's exception."),
    "wrong": LINE_HINTS["wrong"],  # the same protocol, the same mistakes
    "closed": LINE_HINTS["closed"],
}


def present(clients):
    """The checker's clients, one that never reported (its thread outlived the case) counted as unanswered."""
    missing = {"failure": {"verdict": "no-reply", "line": 0}, "right": 0, "lines": LINES, "span": [None] * 3}
    return [c or missing for c in clients]


def served_at_once(clients):
    """The most clients being answered at one moment: between their first reply and their end."""
    edges = sorted(edge for c in clients if c["span"][1] for edge in ((c["span"][1], 1), (c["span"][2], -1)))
    most = now = 0
    for __, change in edges:  # an end sorts before a start at the same moment
        now += change
        most = max(most, now)
    return most


def thread_counts(usage):
    """[[time, threads]] each time the count changed, from the sandbox's usage samples."""
    counts = []
    for at, threads, *__ in usage:
        if not counts or counts[-1][1] != threads:
            counts.append([at, threads])
    return counts


def threads_during(samples, spans):
    """The most threads sampled within any of the spans ([[start, end]]), counting the one in force at a
    span's start."""
    most = 0
    for start, end in spans:
        before = [n for at, n in samples if at <= start][-1:]
        most = max([most, *before, *(n for at, n in samples if start < at <= end)])
    return most


def crowd_hint(failed, at_once, in_time):
    if not failed and in_time:
        return ""
    verdicts = {c["failure"]["verdict"] for c in failed}
    if verdicts == {"wrong"}:
        return _(HINTS["wrong"])
    if verdicts & {"closed", "reset"}:
        return _(HINTS["closed"])
    if at_once <= 1:
        return _(HINTS["one-at-a-time"])
    return _(HINTS["slow" if at_once >= WORKERS and not failed else "few-workers"])


def crowd_step(crowd):
    clients = present(crowd["clients"])
    failed = [c for c in clients if c["failure"]]
    limit = round(RATIO * crowd["alone_seconds"], 2)
    in_time, at_once = crowd["seconds"] <= limit, served_at_once(clients)
    return Step(
        "crowd", _("{clients} clients at once").format(clients=CLIENTS),
        passed=not failed and in_time,
        expected=_("{clients} clients of {lines} lines each, all answered within {ratio}× the time one client "
                   "takes alone ({limit} s): {workers} served at a time, in three rounds").format(
            clients=CLIENTS, lines=LINES, ratio=RATIO, limit=limit, workers=WORKERS),
        observed=_("{right}/{lines} lines right in {seconds} s; served at once: at most {at_once}").format(
            right=sum(c["right"] for c in clients), lines=CLIENTS * LINES, seconds=crowd["seconds"], at_once=at_once)
        + (_("; {count} client(s) failed, e.g. {failure}").format(count=len(failed), failure=told(failed[0]))
           if failed else ""),
        why=_("A pool of 4 serves 4 connections at a time while the others wait their turn in the pool's queue: "
              "12 clients take about 3 times as long as one, never 12 times."),
        facts={**crowd, "limit_seconds": limit, "served_at_once": at_once,
               "ratio": round(crowd["seconds"] / crowd["alone_seconds"], 2) if crowd["alone_seconds"] else None},
        hint=crowd_hint(failed, at_once, in_time))


def threads_step(record, timing, crowd_served):
    """At most MAX_THREADS threads throughout; shown only by a crowd that was served (a program that serves
    nobody has no threads to count)."""
    samples = thread_counts(record.get("usage") or [])
    most = max((n for __, n in samples), default=0)
    first_case = timing["alone"][0][0]
    idle = max([n for at, n in samples if at <= first_case][-1:], default=0)
    crowd = threads_during(samples, timing["crowd"])
    passed = 0 < most <= MAX_THREADS and crowd_served
    observed = _("at most {most} threads: {idle} before the first client, {crowd} while {clients} clients were "
                 "connected").format(most=most, idle=idle, crowd=crowd, clients=CLIENTS)
    if not crowd_served:
        observed += _("; but no client of the crowd was served, so the count shows no pool at work")
    return Step(
        "pool-threads", _("never more than {limit} threads").format(limit=MAX_THREADS), passed=passed,
        expected=_("the program never has more than {limit} threads ({workers} workers and the main thread), "
                   "however many clients come (sampled from /proc every 10 ms)").format(
            limit=MAX_THREADS, workers=WORKERS),
        observed=observed,
        why=_("A fixed pool is the point: its threads are made once and reused, so a crowd costs a queue, not a "
              "thread per client."),
        facts={"max_threads": most, "threads_before_clients": idle, "max_threads_in_crowd": crowd,
               "limit": MAX_THREADS, "samples": samples, "timing": timing},
        hint="" if passed or most <= MAX_THREADS else _(HINTS["extra-threads" if idle > MAX_THREADS else "threads"]))


def vanish_step(vanish):
    later = present(vanish["later"])
    failed = [c for c in later if c["failure"]]
    at_once = served_at_once(later)
    passed = not failed and at_once >= WORKERS and vanish["vanished"] == VANISHERS
    return Step(
        "vanished-workers", _("{count} clients vanish mid-line, then {workers} more come").format(
            count=VANISHERS, workers=WORKERS),
        passed=passed,
        expected=_("{count} clients each send '{half}' and vanish (half reset their connections, half close them); "
                   "the {workers} clients that come next are all answered, {workers} at once: every worker is "
                   "still there").format(count=VANISHERS, half=vanish["half_line"], workers=WORKERS),
        observed=_("{vanished} vanished; {answered}/{count} later clients answered, at most {at_once} at once").format(
            vanished=vanish["vanished"], answered=len(later) - len(failed), count=len(later), at_once=at_once)
        + (_("; e.g. {failure}").format(failure=told(failed[0])) if failed else ""),
        why=_("A worker is the pool's for the whole run: one client's error must end that connection, not the "
              "thread that serves everyone after it."),
        facts={**vanish, "served_at_once": at_once}, hint="" if passed else _(HINTS["dead-workers"]))


def check(lab, program, progress, seed):
    def steps(got, record):
        crowd = crowd_step(got["crowd"])
        return [alone_step(got["alone"], LINES, PAUSE_MS), crowd,
                threads_step(record, got["timing"], crowd.facts["served_at_once"] > 0), vanish_step(got["vanish"])]
    args = ("--lines", LINES, "--pause-ms", PAUSE_MS, "--clients", CLIENTS, "--ratio", RATIO,
            "--vanishers", VANISHERS, "--workers", WORKERS)
    return _steps.check_server(lab, program, progress, NAME, "pooled", args, steps,
                               about=_(": one client, then {clients} at once (about 10 s)").format(clients=CLIENTS),
                               usage=True)
