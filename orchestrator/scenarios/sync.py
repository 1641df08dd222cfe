"""Synchronisation between processes, staged by nodes.sync and looked at from outside with `ps` and /proc:
Event, Semaphore, Lock against RLock, a two-lock deadlock and its fix, a manager's dict with and without a
lock, and what shared memory saves over a manager's round trips."""
from orchestrator.i18n import N_, _
from orchestrator.result import Step
from orchestrator.scenarios._cleanup import nothing_left
from orchestrator.scenarios.processes import go, ready_pids, wait_for_state
from orchestrator.scenarios.remote_exec import peak_overlap

NAME = "sync"
SUMMARY = N_("Event, Semaphore(3), Lock against RLock, a two-lock deadlock (stacks by faulthandler) fixed by "
             "ordering, lost updates to a Manager().dict(), shared memory against a manager's round trips")
PARAMS = {"workers": (8, 4, 32), "processes": (4, 2, 16), "increments": (200, 10, 5000)}
SLOTS = 3
TIMEOUT = 1.0  # the watchdogs' (s): a process still waiting for a lock this long after it asked is stuck
CHEAPER = 10  # shared memory is at least this many times cheaper per update than a manager's proxy


def kernel_view(node, pids):
    """{pid: {"stat", "wchan"}} as ps sees them from outside: each one's state, and the kernel function a
    sleeping one waits in."""
    listed = node.run(["ps", "-o", "pid=,stat=,wchan:40=", "-p", ",".join(map(str, pids))]).stdout.decode()
    return {int(pid): {"stat": stat, "wchan": wchan} for pid, stat, wchan in map(str.split, listed.splitlines())}


def event_facts(node, workers):
    proc = node.start("sync", "event", "--workers", workers)
    parent, *pids = ready_pids(proc)
    wait_for_state(node, pids, "S")
    seen = kernel_view(node, pids)
    go(node, parent)
    return {**proc.result(30), "before_set": {str(pid): seen.get(pid) for pid in pids}}


def event_step(facts):
    set_at, woke = facts["set_at"], facts["woke_at"]
    early = sorted(pid for pid, at in woke.items() if at < set_at)
    asleep = all(seen and seen["stat"].startswith("S") for seen in facts["before_set"].values())
    delays = ", ".join(f"{(at - set_at) * 1000:.1f}" for at in sorted(woke.values()))
    return Step(
        "event-start", _("Event: nobody starts before set()"),
        passed=asleep and not early and len(woke) == len(facts["workers"]) and all(facts["set_seen"].values()),
        expected=_("{workers} workers wait on one Event: ps sees each asleep while it is clear; every one goes on "
                   "only after the parent's set()").format(workers=len(facts["workers"])),
        observed=_("before set(): {states}; set() at {set_at} s; the workers went on {delays} ms after it; "
                   "before it: {early}").format(
            states=", ".join(f"{pid} {s['stat']} {s['wchan']}" if s else _("{pid} gone").format(pid=pid)
                             for pid, s in facts["before_set"].items()),
            set_at=set_at, delays=delays, early=len(early)),
        why=_("Event.wait() sleeps in the kernel (a futex: state S, no CPU) until another process calls set(), "
              "which wakes every waiter at once; an Event stays set, so a late waiter does not wait at all."),
        facts=facts)


def semaphore_step(r, workers):
    inside = [(entered, left) for _pid, _asked, entered, left in r["intervals"]]
    peak = peak_overlap(inside)
    waited = sum(1 for _pid, asked, entered, _left in r["intervals"] if entered - asked >= r["hold_s"] / 2)
    return Step(
        "semaphore-3", _("Semaphore({slots}): never more than {slots} inside").format(slots=r["slots"]),
        passed=peak == r["slots"] and len(inside) == workers,
        expected=_("{workers} processes each spend {hold} s inside a Semaphore({slots}): from their enter and "
                   "leave times, at most {slots} are inside at once, and {slots} do overlap").format(
            workers=workers, hold=r["hold_s"], slots=r["slots"]),
        observed=_("{entered} of {workers} went in; at most {peak} inside at once; {waited} waited for a "
                   "place").format(entered=len(inside), workers=workers, peak=peak, waited=waited),
        why=_("A Semaphore is a counter in shared memory: acquire() takes one of its places or sleeps until "
              "release() gives one back. Semaphore(1) would be a lock; Semaphore(3) lets three work at once, "
              "say three connections to a server that takes no more."),
        facts={**r, "max_inside": peak, "waited": waited})


def lock_twice_step(r):
    lock, rlock = r["Lock"], r["RLock"]
    return Step(
        "lock-twice", _("a Lock taken twice by its holder: stuck; an RLock: fine"),
        passed=lock["stuck"] and lock["depth"] == 1 and not rlock["stuck"] and rlock["depth"] == 2
        and rlock["exitcode"] == 0,
        expected=_("a function takes its lock, then takes it again: with a Lock the process is still waiting "
                   "after the watchdog's {timeout} s; with an RLock it goes through both").format(
            timeout=r["timeout_s"]),
        observed=_("Lock: got {lock_depth} of 2, still waiting after {lock_seconds} s (killed, exitcode "
                   "{lock_exitcode}); RLock: got {rlock_depth} of 2 in {rlock_seconds} s, exitcode "
                   "{rlock_exitcode}").format(
            lock_depth=lock["depth"], lock_seconds=lock["seconds"], lock_exitcode=lock["exitcode"],
            rlock_depth=rlock["depth"], rlock_seconds=rlock["seconds"], rlock_exitcode=rlock["exitcode"]),
        why=_("A Lock does not know who holds it: its holder asking again waits for itself, for ever. An RLock "
              "remembers its owner and counts: the owner may take it again, and must release it as many "
              "times. A timeout (acquire(timeout=…), or a watchdog's join(timeout)) turns the hang into a "
              "finding."),
        facts=r)


def locks_facts(node, order):
    """Two processes take locks A and B in order ("opposite" or "same"); those stuck after the timeout are
    looked at with ps, then asked for their stacks (SIGUSR1: faulthandler); the program then kills them."""
    proc = node.start("sync", "deadlock", "--order", order, "--timeout", TIMEOUT)
    _parent, *stuck = ready_pids(proc)
    seen = {}
    if stuck:
        wait_for_state(node, stuck, "S")
        seen = kernel_view(node, stuck)
        node.run(["kill", "-USR1", *map(str, stuck)])
    return {**proc.result(60), "seen": {str(pid): seen.get(pid) for pid in stuck}}


def wait_for_graph(facts):
    """{pid: (the lock it holds, the lock it waits for)} of the stuck processes."""
    return {pid: tuple(facts["locks"][pid]) for pid in map(str, facts["stuck"]) if facts["holding"][pid] == 1}


def deadlock_step(facts):
    graph, waits = wait_for_graph(facts), facts["waiting_at"]
    cycle = len(graph) == 2 and {held for held, _w in graph.values()} == {wanted for _h, wanted in graph.values()}
    asleep = all(seen and seen["stat"].startswith("S") for seen in facts["seen"].values())
    lines = {f"{at['function']}:{at['line']}" for at in waits.values() if at}
    stacks = len(lines) == 1 and all(waits.get(pid) for pid in graph)
    return Step(
        "deadlock", _("two locks in opposite order: a deadlock"),
        passed=cycle and asleep and stacks and set(facts["exitcodes"].values()) == {-9},
        expected=_("process 1 takes A then B, process 2 takes B then A, each working {work} s in between: after "
                   "{timeout} s both still wait, asleep, each holding the lock the other wants; their stacks "
                   "(faulthandler, on SIGUSR1) show the line they wait on").format(
            work=facts["work_s"], timeout=facts["timeout_s"]),
        observed=_("still waiting after {timeout} s: {graph}; ps: {seen}; each stack's innermost line of the "
                   "lesson: {where}; then killed: exitcodes {exitcodes}").format(
            timeout=facts["timeout_s"],
            graph="; ".join(_("{pid} holds {held}, waits for {wanted}").format(pid=pid, held=held, wanted=wanted)
                            for pid, (held, wanted) in graph.items()),
            seen=", ".join(f"{pid} {s['stat']} {s['wchan']}" for pid, s in facts["seen"].items() if s),
            where="; ".join(f"{pid}: {at['function']}:{at['line']} `{at['code']}`" for pid, at in waits.items() if at),
            exitcodes=", ".join(map(str, facts["exitcodes"].values()))),
        why=_("Each process holds one lock and sleeps until the other lets go of its own: a cycle of waits that "
              "nothing inside can break. No error is raised — the processes just stop, asleep — so a deadlock "
              "is found by a timeout, and located by the stacks: `kill -USR1` made faulthandler print them."),
        facts=facts)


def ordering_step(facts):
    stuck, codes = facts["stuck"], list(facts["exitcodes"].values())
    return Step(
        "lock-ordering", _("the same two locks, always A before B: no deadlock"),
        passed=not stuck and codes == [0, 0] and set(facts["holding"].values()) == {2},
        expected=_("both processes take A, then B: one waits for the other at A, then both finish within "
                   "{timeout} s").format(timeout=facts["timeout_s"]),
        observed=_("{stuck} stuck; both done in {seconds} s, exitcodes {exitcodes}").format(
            stuck=len(stuck), seconds=facts["seconds"], exitcodes=", ".join(map(str, codes))),
        why=_("A cycle of waits needs someone holding B while waiting for A. If every process takes the locks in "
              "one global order, whoever holds A can always get B: the other waits at A, holding nothing."),
        facts=facts)


def manager_step(r):
    unlocked, locked = r["without_lock"], r["with_lock"]
    return Step(
        "manager-lost-updates", _("Manager().dict(): lost updates without a lock, none with one"),
        passed=unlocked["lost"] > 0 and locked["final"] == r["expected"],
        expected=_("{processes} processes each run d[\"n\"] += 1 {increments} times: without a lock the total "
                   "falls short of {expected}; with a Lock it is exact").format(
            processes=r["processes"], increments=r["increments"], expected=r["expected"]),
        observed=_("without a lock: {unlocked} ({lost} lost) in {unlocked_s} s; with a Lock: {locked} in "
                   "{locked_s} s").format(unlocked=unlocked["final"], lost=unlocked["lost"],
                                          unlocked_s=unlocked["seconds"], locked=locked["final"],
                                          locked_s=locked["seconds"]),
        why=_("Each operation on the proxy is safe in the manager's process, but d[\"n\"] += 1 is two of them, a "
              "get and a set: between the two, another process reads the same value, and one of the two writes "
              "is lost. The lock makes the pair one step."),
        facts=r)


def heap_mappings(node, pids):
    """{pid: ["path inode N"]}: the files of multiprocessing's shared heap (/dev/shm/pym-…, where Value and
    Array live) that each process maps, as its /proc/PID/maps says."""
    listed = node.run(["grep", "-H", "/pym-", *[f"/proc/{pid}/maps" for pid in pids]]).stdout.decode()
    found = {str(pid): [] for pid in pids}
    for row in listed.splitlines():
        where, mapping = row.split(":", 1)
        fields = mapping.split()
        found[where.split("/")[2]].append(f"{' '.join(fields[5:])} inode {fields[4]}")
    return found


def shared_memory_facts(node):
    proc = node.start("sync", "shared-memory")
    parent, child = ready_pids(proc)
    maps, table = heap_mappings(node, [parent, child]), node.ps()
    go(node, parent)
    managers = [pid for pid, row in table.items() if row["ppid"] == parent and pid != child]
    return {**proc.result(60), "mappings": maps, "manager_processes": managers}


def shared_memory_step(facts):
    cost, maps = facts["per_op_us"], facts["mappings"]
    ratio = round(cost["manager"] / cost["value"], 1)
    both = sorted(set(maps[str(facts["parent"])]) & set(maps[str(facts["child"])]))
    return Step(
        "shared-memory-cost", _("Value and Array in shared memory against a manager's round trips"),
        passed=facts["totals"] == facts["expected_totals"] and ratio >= CHEAPER and bool(both)
        and len(facts["manager_processes"]) == 1,
        expected=_("a child updates a Value and an Array (each with its lock) and a manager's dict; the parent "
                   "sees every update; /proc shows parent and child mapping the same memory, ps the manager as a "
                   "process of its own; an update in shared memory costs at least {cheaper}× less").format(
            cheaper=CHEAPER),
        observed=_("per update (median of {rounds} alternating rounds): Value {value} µs, Array {array} µs, "
                   "manager {manager} µs — {ratio}×; the parent saw {totals} updates (Value/Array/manager) of "
                   "{expected}; mapped by both: {both}; the manager's process: {managers}").format(
            rounds=facts["rounds"], value=cost["value"], array=cost["array"], manager=cost["manager"], ratio=ratio,
            totals="/".join(map(str, facts["totals"].values())),
            expected="/".join(map(str, facts["expected_totals"].values())), both=", ".join(both) or _("nothing"),
            managers=", ".join(map(str, facts["manager_processes"])) or _("none")),
        why=_("Value and Array live in a shared memory mapping that both processes have, so an update is a few "
              "instructions under a lock in the same memory. A manager's proxy sends every operation to the "
              "manager's process over a socket and waits for the answer: pickled, sent, served, sent back."),
        facts={**facts, "ratio": ratio, "mapped_in_both": both})


def run(lab, params, progress):
    node = lab.node("worker1")
    progress(_("Event and Semaphore on worker1"))
    steps = [event_step(event_facts(node, params["processes"])),
             semaphore_step(node.program("sync", "semaphore", "--workers", params["workers"], "--slots", SLOTS),
                            params["workers"])]
    progress(_("Lock against RLock, a deadlock and its fix"))
    steps += [lock_twice_step(node.program("sync", "lock-twice", "--timeout", TIMEOUT)),
              deadlock_step(locks_facts(node, "opposite")), ordering_step(locks_facts(node, "same"))]
    progress(_("{processes} processes on a manager's dict; shared memory against the manager").format(
        processes=params["processes"]))
    steps += [manager_step(node.program("sync", "manager-dict", "--processes", params["processes"],
                                        "--increments", params["increments"], timeout=120)),
              shared_memory_step(shared_memory_facts(node))]
    steps.append(nothing_left([node], ["nodes.sync"], _("Stuck processes were killed by the program that "
                                                        "started them, the others joined; the managers shut down.")))
    return steps
