"""reliable-consumer: the learner's consumer on three workers, one of which is killed mid-run; no task may be lost."""
import re
import time

from nodes.lib import ports
from orchestrator.exercises import _steps
from orchestrator.i18n import N_, _
from orchestrator.learner import read_file
from orchestrator.result import Step

NAME = "reliable-consumer"
ROLE = "consumer"
SUMMARY = N_("a consumer of the lab's reliable queue on three workers, one killed mid-run: acknowledge after the "
             "work")
TASKS, LEASE_S, MAXSIZE, LIMIT_S = 2000, 1.0, 200, 25
WORKERS, VICTIM = ("worker1", "worker2", "worker3"), "worker2"  # the consumers' nodes, and the one killed
# The queue stays empty EMPTY_S after the consumers start, and the kill comes KILL_AFTER_S after production
# began, once BACKLOG tasks wait (every consumer is then at work, holding leases): the conditions under test,
# not waits. A consumer must stay until idle for IDLE_S (the protocol).
EMPTY_S, KILL_AFTER_S, IDLE_S, BACKLOG = 1.0, 1.0, 3.0, 30
DONE = re.compile(r"done (\d+)")  # not by line: two threads' prints may share one

HINTS = {
    "ack-first": N_("Acknowledging before the work is done: the killed worker had acknowledged tasks it never "
                    "finished, and an acknowledged task never comes back. ack() after the work (a crash then "
                    "means a duplicate, never a loss)."),
    "never-ack": N_("Never acknowledging: every lease runs out, every task comes back, and the consumers never "
                    "run out of work. ack() the lease ids once their work is done."),
    "first-empty": N_("A consumer that exits on the first empty get: get_many() returns [] when nothing came "
                      "within its timeout, not when the work is over. Stop only after 3 s without work."),
    "hang": N_("The consumers never ended: stop once get_many() has returned nothing for 3 s."),
    "crash": N_("A consumer failed: read its error below (`socklab run` shows it live)."),
}


def done_items(text):
    return [int(item) for item in DONE.findall(text)]


def until(server, broker_port, condition, at_least, timeout):
    """Ask the broker for its counts until condition(counts) holds and at_least seconds have passed (or
    timeout has): the state under test, whatever time the programs took."""
    started, deadline = time.monotonic(), time.monotonic() + timeout
    while time.monotonic() < deadline:
        stats = server.program("queues", "history", "server", "--port", broker_port)["reliable"]
        if condition(stats) and time.monotonic() - started >= at_least:
            return
        time.sleep(0.2)


def waited(server, broker_port, consumers):
    """Until the empty queue has been asked as many times as there are consumers and come back empty (each
    buggy one asks once and leaves; a correct one keeps asking), at least EMPTY_S."""
    until(server, broker_port, lambda stats: stats["empty_gets"] >= consumers, EMPTY_S, EMPTY_S + 15)


def busy(server, broker_port):
    """Until production has run KILL_AFTER_S and BACKLOG tasks wait in line, so every consumer is at work and
    the one killed dies holding tasks (consumers faster than the producer, on a loaded host, may be idle), at
    most 1.5 s longer: 2,000 tasks keep three consumers busy for longer than that."""
    until(server, broker_port, lambda stats: stats["ready"] >= BACKLOG, KILL_AFTER_S, KILL_AFTER_S + 1.5)


def run(lab, program, progress):
    """The consumers on three workers, the tasks from client1, worker2 killed mid-run: (the survivors'
    sandbox records by node, the killed one's output, the broker's counts, the producer's Completed)."""
    server, client = lab.node("server"), lab.node("client1")
    workers = [lab.node(name) for name in WORKERS]
    victim = workers[WORKERS.index(VICTIM)]
    broker_port = ports.EXERCISE_BROKER
    try:
        with server.serve("queues", "broker", "--port", broker_port, "--maxsize", MAXSIZE, "--lease", LEASE_S):
            progress(_("reliable-consumer: {program} on worker1, worker2, worker3; the queue empty for {seconds} s")
                     .format(program=program.path.name, seconds=EMPTY_S))
            consumers = [program.start(w, "server", broker_port, limit_s=LIMIT_S, stdout_file="out.txt",
                                       unbuffered=True) for w in workers]
            waited(server, broker_port, len(workers))
            progress(_("reliable-consumer: {tasks} tasks from client1; {node} killed after {seconds} s").format(
                tasks=TASKS, node=victim.name, seconds=KILL_AFTER_S))
            producer = client.start("queues", "produce", "server", "--port", broker_port, "--count", TASKS,
                                    "--mode", "reliable", "--batch", 50, "--timeout", 10)
            busy(server, broker_port)
            victim.kill()
            produced = producer.wait(60)
            records = {w.name: c.result(LIMIT_S + 30) for w, c in zip(workers, consumers) if w is not victim}
            stats = server.program("queues", "history", "server", "--port", broker_port)["reliable"]
        killed_output = read_file(victim, f"{consumers[WORKERS.index(VICTIM)].workdir}/out.txt").decode(
            errors="replace")
    finally:
        victim.restart()
    return records, killed_output, stats, produced


def check(lab, program, progress, seed):
    records, killed_output, stats, produced = run(lab, program, progress)
    victim, broker_port = VICTIM, ports.EXERCISE_BROKER
    outputs = {name: record["stdout"] for name, record in records.items()} | {victim: killed_output}
    done = [item for text in outputs.values() for item in done_items(text)]
    lost = sorted(set(range(TASKS)) - set(done))
    duplicates = len(done) - len(set(done))
    ended = all(r["exit_code"] == 0 and not r["timed_out"] for r in records.values())
    early = any(r["seconds"] < IDLE_S for r in records.values())  # gone before it could have been idle 3 s
    never = stats["redelivered"] >= TASKS
    per_node = {name: len(done_items(text)) for name, text in outputs.items()}
    steps = [
        Step("consumers-end", _("the surviving consumers end by themselves"), passed=ended,
             expected=_("on worker1 and worker3, `python3 FILE server {port}` ends with status 0 once idle for "
                        "3 s, within {limit} s").format(port=broker_port, limit=LIMIT_S),
             observed="; ".join(_("{node}: {ending} after {seconds} s").format(node=name, ending=_steps.ending(r),
                                                                              seconds=r["seconds"])
                                for name, r in records.items()),
             why=_("A consumer that acknowledges what it has done runs out of work; then it is idle and stops."),
             facts={"records": {n: {k: v for k, v in r.items() if k != "stdout"} for n, r in records.items()},
                    "broker": stats},
             hint="" if ended else
             _(HINTS["never-ack" if never else "hang" if any(r["timed_out"] for r in records.values()) else "crash"])),
        Step("nothing-lost", _("no task lost though {node} was killed mid-run").format(node=victim),
             passed=not lost and bool(done),
             expected=_("every one of {tasks} tasks printed `done` by some consumer (duplicates allowed, counted)")
             .format(tasks=TASKS),
             observed=_("{done}/{tasks} done, {lost} lost").format(done=len(set(done)), tasks=TASKS, lost=len(lost))
                      + (_(" (e.g. {example})").format(example=lost[:5]) if lost else "")
                      + _(", {duplicates} duplicate(s); per node {per_node}; {expired} lease(s) ran out").format(
                          duplicates=duplicates, per_node=per_node, expired=stats["redelivered"]),
             why=_("A task is lost only if it was acknowledged and never done: the lease brings back whatever a dead "
                   "consumer had not acknowledged."),
             facts={"done": len(set(done)), "lost": lost[:50], "lost_count": len(lost), "duplicates": duplicates,
                    "per_node": per_node, "producer_exit": produced.exit_code, "broker": stats},
             hint="" if not lost and done else
             _(HINTS["first-empty" if early else "never-ack" if never else "ack-first"])),
    ]
    return steps + [_steps.clean([lab.node(name) for name in WORKERS if name != VICTIM])]
