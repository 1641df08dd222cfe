"""The producer-consumer model across the lab: a broker on the server (multiprocessing.managers serving a
Queue(maxsize)), producers on the clients, consumers on the workers — checked by a history checker.

The "plain" queue is a queue.Queue behind a manager's proxy, as Manager().Queue() is: every put() and get()
is a round trip to the broker, with no feeder thread — unlike multiprocessing.Queue (the ipc lesson), whose
put() returns before the item is in the pipe.

The broker speaks pickle: whoever holds the lab's authkey can make it run code. The key is per lab and only
the lab's nodes have it.
"""
import statistics
import time

from orchestrator.i18n import N_, _
from orchestrator.node import outcomes, results
from orchestrator.result import Step
from orchestrator.scenarios.queue.history import check

POISON_PILL = N_("poison pill")  # how nodes.queues says a consumer stopped, translated where shown

NAME = "queue"
SUMMARY = N_("a distributed producer-consumer queue: backpressure, scaling, shutdown, a crashed worker, a dead broker")
NOTES = [N_("This lesson's plain queue is a queue.Queue behind a manager's proxy, as Manager().Queue() is, not a "
            "multiprocessing.Queue: every put() and get() is a round trip to the broker and there is no feeder "
            "thread, so put() returns once the item is in the queue — unlike the ipc lesson's Queue, whose put() "
            "returns before the item is in the pipe."),
         N_("The broker is multiprocessing.managers, which speaks pickle: anyone holding the lab's authkey can make "
            "it unpickle what they send, and unpickling can run any code. The key is made per lab and mounted into "
            "the lab's nodes only; if it leaks, treat the server node as taken over — `make down` and start a new "
            "lab.")]
PARAMS = {"maxsize": (5, 1, 1000), "items": (60, 1, 100_000), "work_ms": (20, 1, 10_000), "cpu_tasks": (16, 2, 1000),
          "cpu_n": (2_500_000, 1000, 10**9), "scaling_rounds": (3, 1, 15), "crash_items": (40, 3, 10_000),
          "crash_work_ms": (300, 1, 10_000), "lease": (1.0, 0.1, 60.0)}


def broker(server, maxsize, lease=1.0):
    """The broker served on the server for the length of a `with` block."""
    return server.serve("queues", "broker", "--maxsize", maxsize, "--lease", lease)


def consumers(nodes, *options):
    """A consumer started on each node."""
    return [node.start("queues", "consume", "server", *options) for node in nodes]


def ids(produced):
    return list(range(produced["start"], produced["start"] + produced["count"]))


def history(server) -> dict:
    return server.program("queues", "history", "server")


def busy_seconds(h):
    """On the broker's clock: from the first put into the plain queue to the last completion recorded."""
    return max(t for __, __, t in h["completed"]) - h["depths"][0][0]


def backpressure_step(server, clients, worker, p):
    with broker(server, p["maxsize"]):
        [consumer] = consumers([worker], "--work-ms", p["work_ms"], "--idle", 10)
        produced = []
        for i, client in enumerate(clients):
            produced.append(client.start("queues", "produce", "server", "--count", p["items"], "--start", 1000 * i))
        producers = results(produced)
        clients[0].program("queues", "produce", "server", "--count", 0, "--pills", 1)
        [consumed] = results([consumer])
        h = history(server)
    verdict = check([i for pr in producers for i in ids(pr["produced"])], [c[0] for c in h["completed"]])
    depths = [d for __, d in h["depths"]]
    blocked = [pr["blocked_s"] for pr in producers]
    return Step(
        "backpressure", _("backpressure: a bounded queue holds fast producers back"),
        passed=max(depths) == p["maxsize"] and min(blocked) > 0.2 and verdict["ok"] and not verdict["duplicated"],
        expected=_("2 producers put {items} items each as fast as they can, 1 consumer takes {work_ms} ms an item: "
                   "the depth rises to maxsize {maxsize} and never past it; the producers block").format(
            items=p["items"], work_ms=p["work_ms"], maxsize=p["maxsize"]),
        observed=_("max depth {max_depth} over {samples} puts and gets; producers blocked {blocked} s; "
                   "{consumed}/{produced} consumed, {lost} lost").format(
            max_depth=max(depths), samples=len(depths), blocked=blocked, consumed=verdict["consumed"],
            produced=verdict["produced"], lost=verdict["lost_count"]),
        why=_("put() on a full Queue(maxsize) waits for room: the slow consumer sets the pace, and memory stays "
              "bounded — the producer-consumer model's balance of speeds."),
        facts={"maxsize": p["maxsize"], "max_depth": max(depths), "samples": len(depths), "blocked_s": blocked,
               "depths": h["depths"], "producers": producers, "consumer": consumed, "checker": verdict})


def scaling_step(server, client, workers, p):
    runs = {count: [] for count in range(1, len(workers) + 1)}
    per_worker = {}
    for _round in range(p["scaling_rounds"]):  # alternating rounds, medians: the 2 vCPUs are shared and noisy
        for count in runs:
            with broker(server, 100):
                running = consumers(workers[:count], "--cpu", p["cpu_n"], "--idle", 10)
                for consumer in running:
                    consumer.expect("consuming")  # connected: the clock measures the work, not Python's start
                client.program("queues", "produce", "server", "--count", p["cpu_tasks"], "--pills", count)
                done = results(running)
                runs[count].append(p["cpu_tasks"] / busy_seconds(history(server)))
            per_worker[count] = [d.get("processed") for d in done]
    rates = {count: round(statistics.median(r), 2) for count, r in runs.items()}
    gain = rates[2] / rates[1]
    cores = int(workers[0].run(["nproc"]).stdout)  # what the containers share, as a node sees it
    return Step(
        "scaling", _("scaling: 1, 2 and 3 workers on CPU-bound tasks"),
        passed=gain >= 1.15 and all(sum(c) == p["cpu_tasks"] for c in per_worker.values()),
        expected=_("{tasks} CPU-bound tasks: 2 workers clearly beat 1 worker's throughput (2× at best); a third can "
                   "only add what the machine's {cores} cores have left (every container shares them)").format(
            tasks=p["cpu_tasks"], cores=cores),
        observed=_("tasks/s, median of {rounds}: {rates}; per worker (last round): {per_worker}; "
                   "2 workers = {gain:.2f}× 1").format(
            rounds=p["scaling_rounds"], rates=rates, per_worker=per_worker, gain=gain),
        why=_("Workers are processes in containers of their own, so CPU work runs in parallel — but the containers "
              "are on one machine and share its {cores} cores (nproc in a node), so no more than {cores} tasks run at "
              "once, and on a shared virtual machine less than the ideal. The clock runs on the broker, from the "
              "first put to the last completion: program start-up is not counted.").format(cores=cores),
        facts={"tasks_per_s": rates, "rounds": {c: [round(x, 2) for x in r] for c, r in runs.items()},
               "per_worker": per_worker, "gain_2_over_1": round(gain, 2), "cores": cores})


def shutdown_step(server, client, workers):
    with broker(server, 10):
        running = consumers(workers, "--work-ms", 5, "--idle", 30)
        client.program("queues", "produce", "server", "--count", 30, "--pills", len(workers))
        pills = results(running, timeout=30)
    items, work_ms = 30, 30
    with broker(server, 10):
        running = consumers(workers, "--work-ms", work_ms, "--idle", 30, "--task-done")
        joined = client.program("queues", "produce", "server", "--count", items, "--pills", len(workers), "--join")
        done = results(running, timeout=30)
    exits = [r.get("exit") for r in pills + done]  # nodes.queues' words: POISON_PILL, or "idle N s"
    last_done = max((d.get("last_task_done_at") or 0 for d in done), default=0)
    least = items * work_ms / 1000 / len(workers)  # the work that was still to do when the last put returned, at most
    after_ms = round((joined["joined_at"] - last_done) * 1000, 1) if joined["joined_at"] and last_done else None
    return Step(
        "shutdown", _("shutdown: poison pills, and join() with task_done()"),
        passed=exits == ["poison pill"] * 2 * len(workers) and after_ms is not None and after_ms >= 0
        and joined["join_s"] >= least / 4 and sum(d["processed"] for d in done) == items,
        expected=_("one pill per consumer ends all {consumers}; with task_done() the producer's join() returns "
                   "only after the last of the {items} items ({work_ms} ms of work each) is marked done").format(
            consumers=len(workers), items=items, work_ms=work_ms),
        observed=_("consumers exited: {exits}; join() waited {join_s} s and returned {after_ms} ms after the last "
                   "task_done(); the consumers had done {processed} items").format(
            exits=_(", ").join(_(reason) for reason in exits if reason), join_s=joined["join_s"],
            after_ms=after_ms, processed=sum(d["processed"] for d in done)),
        why=_("A pill (None) is an item that means 'stop': one per consumer, since each stops at its first. "
              "join() counts task_done() calls against items put and blocks until they match: the producer waited "
              "for work it could not see. (In the course's API, join() and task_done() are JoinableQueue's; this "
              "lesson's queue is a queue.Queue served by a manager, which has them too.)"),
        facts={"pill_consumers": pills, "task_done_consumers": done, "join_s": joined["join_s"],
               "join_after_last_task_done_ms": after_ms, "work_left_s_at_most": least})


def crash_step(server, client, workers, p, mode):
    """A worker killed mid-task, then restarted (the same Node: on a swarm its container is a new one). The
    tasks last long enough (40 × 300 ms over 3 workers: 4 s) that the queue is not empty when the kill lands,
    even when killing takes a second through a swarm's engines."""
    with broker(server, 100, p["lease"]):
        running = consumers(workers, "--mode", mode, "--work-ms", p["crash_work_ms"], "--idle", 3 * p["lease"])
        client.program("queues", "produce", "server", "--mode", mode, "--count", p["crash_items"])
        victim = workers[1]
        running[1].expect("done")  # it has taken tasks, and is working on the next
        victim.kill()
        survivors = results([running[0], running[2]], timeout=60)
        h = history(server)
    victim.restart()
    verdict = check(list(range(p["crash_items"])), [c[0] for c in h["completed"]])
    if mode == "plain":
        return Step(
            "crash-plain-loses", _("a worker killed while holding a task: plain get() loses it"),
            passed=verdict["lost_count"] > 0 and not verdict["unexpected"],
            expected=_("{node}'s container is killed mid-task: the task it took with get() is gone for good").format(
                node=victim.name),
            observed=_("{completed}/{produced} completed, lost {lost}").format(
                completed=verdict["distinct_consumed"], produced=verdict["produced"], lost=verdict["lost"]),
            why=_("get() hands an item over for good: when the worker dies, nothing remembers it had it."),
            facts={"killed": victim.name, "checker": verdict, "survivors": survivors, "completed": h["completed"]})
    return Step(
        "crash-leases-keep", _("the same crash with leases and acks: nothing lost"),
        passed=verdict["ok"] and verdict["produced"] == verdict["distinct_consumed"]
        and h["reliable"]["redelivered"] >= 1,
        expected=_("tasks are handed out on a {lease} s lease and acked when done: the killed worker's task "
                   "returns to the queue (at least one redelivery) and another worker does it").format(
            lease=p["lease"]),
        observed=_("{completed}/{produced} completed, lost {lost}, duplicated {duplicated}; "
                   "redelivered {redelivered}").format(
            completed=verdict["distinct_consumed"], produced=verdict["produced"], lost=verdict["lost_count"],
            duplicated=verdict["duplicated_count"], redelivered=h["reliable"]["redelivered"]),
        why=_("Completion is recorded only by the ack: an expired lease puts the item back — at least once, so a "
              "task may run twice (duplicates), but none is lost."),
        facts={"killed": victim.name, "checker": verdict, "redelivered": h["reliable"]["redelivered"],
               "survivors": survivors, "completed": h["completed"]})


def duplicate_step(server, client, workers, p):
    """A lease shorter than the work: the task comes back while it is still being done — a duplicate."""
    lease, work_ms, count = 0.2, 500, 6
    with broker(server, 100, lease):
        running = consumers(workers, "--mode", "reliable", "--work-ms", work_ms, "--idle", 3)
        client.program("queues", "produce", "server", "--mode", "reliable", "--count", count)
        results(running, timeout=60)
        h = history(server)
    verdict = check(list(range(count)), [c[0] for c in h["completed"]])
    return Step(
        "lease-shorter-than-work", _("a lease shorter than the work: duplicates, never losses"),
        passed=verdict["ok"] and verdict["duplicated_count"] > 0,
        expected=_("{count} tasks of {work_ms} ms on leases of {lease} s: leases run out mid-task, the tasks are "
                   "handed out again and done twice; none is lost").format(count=count, work_ms=work_ms, lease=lease),
        observed=_("{completed}/{produced} done, {completions} completions: {duplicated_count} duplicate(s) "
                   "{duplicated}, lost {lost}; redelivered {redelivered}").format(
            completed=verdict["distinct_consumed"], produced=verdict["produced"], completions=verdict["consumed"],
            duplicated_count=verdict["duplicated_count"], duplicated=verdict["duplicated"],
            lost=verdict["lost_count"], redelivered=h["reliable"]["redelivered"]),
        why=_("The broker cannot tell a slow worker from a dead one: when the lease runs out it gives the task to "
              "someone else. At-least-once delivery: a lease must outlast the work, and the work should be safe to "
              "do twice (idempotent)."),
        facts={"lease_s": lease, "work_ms": work_ms, "checker": verdict, "redelivered": h["reliable"]["redelivered"]})


def broker_death_step(server, client, worker):
    with broker(server, 5) as dying:
        running = consumers([worker], "--work-ms", 100, "--idle", 60)
        producer = client.start("queues", "produce", "server", "--count", 200)
        running[0].expect("done")
        killed = time.monotonic()
        dying.stop()
        ended = outcomes([producer, running[0]])
        seconds = round(time.monotonic() - killed, 2)
    with broker(server, 5):
        running = consumers([worker], "--idle", 2)
        client.program("queues", "produce", "server", "--count", 10, "--pills", 1)
        after = results(running)[0]
        verdict = check(list(range(10)), [c[0] for c in history(server)["completed"]])
    errors = [o.get("error", "") for o in ended]
    return Step(
        "broker-death", _("a broker killed mid-run, then restarted"),
        passed=all("lost the broker" in e for e in errors) and seconds < 10 and verdict["ok"],
        expected=_("the producer (blocked in put) and the consumer (waiting in get) exit with a clear error at "
                   "once; a new broker serves a new run"),
        observed=_("{errors} within {seconds} s; after a restart: {consumed}/10 consumed").format(
            errors=errors, seconds=seconds, consumed=verdict["distinct_consumed"]),
        why=_("When the broker's process dies its sockets close, and every pending call ends in EOF: no client "
              "waits for an answer that cannot come."),
        facts={"errors": errors, "seconds": seconds, "new_run": verdict, "consumer": after})


def run(lab, params, progress):
    server, clients, workers = lab.node("server"), lab.nodes("client"), lab.nodes("worker")
    progress(_("backpressure: 2 producers, 1 slow consumer"))
    steps = [backpressure_step(server, clients, workers[0], params)]
    progress(_("scaling: 1, 2, 3 workers"))
    steps.append(scaling_step(server, clients[0], workers[:3], params))
    progress(_("shutdown: pills, join and task_done"))
    steps.append(shutdown_step(server, clients[0], workers[:3]))
    progress(_("crash: kill a worker, plain and reliable"))
    steps += [crash_step(server, clients[0], workers[:3], params, "plain"),
              crash_step(server, clients[0], workers[:3], params, "reliable"),
              duplicate_step(server, clients[0], workers[:3], params)]
    progress(_("the broker dies"))
    steps.append(broker_death_step(server, clients[0], workers[0]))
    return steps
