"""Threads beside processes, seen from inside (the program's own account) and from outside (`ps -L` and
/proc/<pid>/task, run as separate execs in the node): one address space, cheap to start, racing on shared
data unless locked, daemons that end at different moments."""
from orchestrator.i18n import N_, _
from orchestrator.result import Step
from orchestrator.scenarios._cleanup import nothing_left
from orchestrator.scenarios.processes import go, ready_pids

NAME = "threads"
SUMMARY = N_("threads share the address space (globals, /proc/<pid>/task), start cost and memory against "
             "processes, lost updates and Lock, daemon threads against daemon processes, threading beside ps -L")
PARAMS = {"threads": (8, 2, 32), "updates": (50000, 1000, 200000), "count": (20, 2, 64)}


def tasks(node, pid):
    """The thread ids in /proc/<pid>/task, as ls in the node lists them."""
    return sorted(int(tid) for tid in node.run(["ls", f"/proc/{pid}/task"]).stdout.split())


def lwps(node, pid):
    """The thread ids (LWPs) of a process, as `ps -L` in the node lists them."""
    return sorted(int(tid) for tid in node.run(["ps", "-L", "-o", "lwp=", "-p", str(pid)]).stdout.split())


def nlwp_and_rss(node, pids):
    """{pid: {"nlwp", "rss_kib"}}: each process's thread count and resident memory, as ps sees them."""
    rows = node.run(["ps", "-o", "pid=,nlwp=,rss=", "-p", ",".join(map(str, pids))]).stdout.decode().splitlines()
    return {pid: {"nlwp": int(nlwp), "rss_kib": int(rss)} for pid, nlwp, rss in map(str.split, rows)}


def observe_shared(node):
    proc = node.start("threads", "shared")
    parent, child, __ = ready_pids(proc)
    seen = {"parent": tasks(node, parent), "child": tasks(node, child)}
    go(node, parent)
    return {**proc.result(30), "proc_tasks": seen}


def shared_step(facts):
    parent_tasks, child_tasks = facts["proc_tasks"]["parent"], facts["proc_tasks"]["child"]
    values_ok = facts["child_saw"] == 0 and facts["parent_after_child"] == facts["start"] == 100 and \
        facts["thread_saw"] == facts["parent_after_thread"] == 0
    tasks_ok = parent_tasks == sorted([facts["pid"], facts["thread_tid"]]) and child_tasks == [facts["child"]]
    return Step(
        "shared-globals", _("a thread shares the globals, a child process has its own"),
        passed=values_ok and tasks_ok,
        expected=_("a child process sets the global n = 100 to 0: the parent still reads 100; a thread sets it to "
                   "0: the parent reads 0. /proc/<pid>/task lists the thread under the parent's pid, the child "
                   "under a pid of its own"),
        observed=_("the child saw {child_saw}, the parent then {after_child}; the thread saw {thread_saw}, the "
                   "parent then {after_thread}; /proc/{pid}/task: {parent_tasks}, /proc/{child}/task: "
                   "{child_tasks}").format(
            child_saw=facts["child_saw"], after_child=facts["parent_after_child"], thread_saw=facts["thread_saw"],
            after_thread=facts["parent_after_thread"], pid=facts["pid"], parent_tasks=parent_tasks,
            child=facts["child"], child_tasks=child_tasks),
        why=_("A forked child gets a copy of the parent's memory, so its change stays in its copy; a thread is "
              "another task of the same process, running in the same address space: there is one n, and every "
              "thread reads what any thread wrote."),
        facts=facts)


def start_cost_step(facts):
    thread, process = facts["median_us"]["thread"], facts["median_us"]["process"]
    return Step(
        "start-cost", _("a thread starts faster than a process"),
        passed=thread < process,
        expected=_("starting and joining {count} threads costs less per worker than {count} processes (medians "
                   "of {rounds} alternating rounds)").format(count=facts["count"],
                                                             rounds=len(facts["rounds_us"]["thread"])),
        observed=_("per worker: a thread {thread} µs, a process {process} µs ({ratio:.1f}×)").format(
            thread=thread, process=process, ratio=process / thread),
        why=_("Starting a thread makes one more task in the process; starting a process forks a whole copy of "
              "the interpreter (its page tables, its file descriptors), which also has to exit and be reaped."),
        facts=facts)


def observe_memory(node, count):
    proc = node.start("threads", "memory", "--count", count)
    parent, *children = ready_pids(proc)
    seen = nlwp_and_rss(node, [parent, *children])
    go(node, parent)
    return {**proc.result(30), "ps": seen}


def memory_step(facts):
    thread, private, rss = facts["thread_kib"], facts["process_private_kib"], facts["process_rss_kib"]
    ps, count = facts["ps"], facts["count"]
    counted = ps[str(facts["pid"])]["nlwp"] == count + 1 and all(ps[str(c)]["nlwp"] == 1 for c in facts["children"])
    return Step(
        "memory-cost", _("a thread takes less memory than a process"),
        passed=counted and 0 < thread < private,  # a thread has its stack: it costs something
        expected=_("{count} waiting threads add less resident memory each to their process than each of {count} "
                   "waiting child processes holds for itself; ps counts {threads} threads in the parent, 1 in "
                   "each child").format(count=count, threads=count + 1),
        observed=_("per thread: +{thread} KiB of the process's RSS; per child process: {private} KiB its own "
                   "(RSS {rss} KiB, shared pages included); ps: {nlwp} threads in the parent").format(
            thread=thread, private=private, rss=rss, nlwp=ps[str(facts["pid"])]["nlwp"]),
        why=_("A thread needs a stack and a thread state in the memory its process already has; a forked child "
              "shares the parent's pages only until one of them writes — and Python writes reference counts "
              "everywhere, so each child soon owns private copies (/proc/<pid>/smaps_rollup: Private_*)."),
        facts=facts)


def race_summary(races):
    return _("; ").join(_("{code}{lock}: {lost} of {updates} lost").format(
        code=r["code"], lock=_(" with a Lock") if r["lock"] else "", lost=r["lost"], updates=r["updates"])
        for r in races.values())


def lost_updates_step(facts):
    races = {name: facts["races"][name] for name in ("plain", "call", "sleep")}
    return Step(
        "lost-updates", _("a read-modify-write from many threads loses updates, GIL or not"),
        passed=races["call"]["lost"] > 0 and races["sleep"]["lost"] > 0,
        expected=_("{threads} threads decrement a shared n that starts at the number of decrements, with "
                   "sys.setswitchinterval({interval}): where a thread switch can fall between reading n and "
                   "writing it back, n does not end at 0").format(
            threads=facts["threads"], interval=facts["switch_interval_s"]),
        observed=_("Python {python}: {summary}").format(python=facts["python"], summary=race_summary(races)),
        why=_("The GIL runs one thread at a time, not one update at a time: n -= x reads n, computes, writes. "
              "A switch between the read and the write (at a call, or during a sleep) lets another thread write "
              "in between, and one write overwrites the other. A plain n -= 1 lost {plain} here: Python {python} "
              "looks for a switch only at calls and loop back-edges, never between its read and its write — any "
              "call in between, or another interpreter, lets it lose updates too.").format(
            plain=races["plain"]["lost"], python=facts["python"]),
        facts={**facts, "races": races})


def lock_step(facts):
    races = {name: facts["races"][name] for name in ("call", "call-lock", "sleep", "sleep-lock")}
    return Step(
        "lock-exact", _("threading.Lock makes the count exact"),
        passed=races["call-lock"]["lost"] == races["sleep-lock"]["lost"] == 0 and races["call"]["lost"] > 0,
        expected=_("the same races with `with lock:` around the read and the write: nothing lost, where without "
                   "it updates were lost"),
        observed=race_summary(races),
        why=_("A Lock lets one thread at a time through the read-modify-write: a thread switched out holding it "
              "keeps the others waiting at `with lock:`, so no write falls between another's read and write. "
              "The price: the threads take turns (the locked race took {locked} s, unlocked {unlocked} s).").format(
            locked=races["call-lock"]["seconds"], unlocked=races["call"]["seconds"]),
        facts={**{k: facts[k] for k in ("python", "threads", "switch_interval_s")}, "races": races})


def last_tick(ticks):
    """The daemon's last tick in seconds after the main code ended; None if it never ticked."""
    return max(ticks, default=None)


def daemon_step(facts):
    work, thread, process = facts["work_s"], facts["thread"], facts["process"]
    thread_last, process_last = last_tick(thread["ticks_s"]), last_tick(process["ticks_s"])
    thread_ok = thread_last is not None and work / 2 <= thread_last <= thread["exit_s"] < facts["daemon_meant_s"]
    process_ok = (process_last is None or process_last < work / 2) and process["exit_s"] >= work
    return Step(
        "daemon-thread", _("a daemon thread ends with the interpreter, a daemon process with the main code"),
        passed=thread_ok and process_ok,
        expected=_("the main code starts a daemon that would tick for {meant} s and an ordinary worker that works "
                   "{work} s, then ends: the daemon thread ticks on until the ordinary thread is done and the "
                   "interpreter exits; the daemon process stops at once, while its parent waits for the ordinary "
                   "process").format(meant=facts["daemon_meant_s"], work=work),
        observed=_("after the main code ended — threads: the daemon's last tick at {thread_last} s, the ordinary "
                   "worker done at {thread_done} s, exit at {thread_exit} s; processes: the daemon's last tick at "
                   "{process_last} s, the ordinary worker done at {process_done} s, exit at {process_exit} s").format(
            thread_last=thread_last, thread_done=thread["ordinary_done_s"], thread_exit=thread["exit_s"],
            process_last=_("none") if process_last is None else process_last,
            process_done=process["ordinary_done_s"], process_exit=process["exit_s"]),
        why=_("At the end of the main code the interpreter first joins its non-daemon threads — daemon threads "
              "run on meanwhile — and only then runs its exit handlers: multiprocessing's terminates the daemon "
              "processes and joins the others. A daemon thread dies when the interpreter finally exits."),
        facts=facts)


def observe_introspection(node, count):
    proc = node.start("threads", "introspect", "--count", count)
    pid, = ready_pids(proc)
    seen = {"ps_lwps": lwps(node, pid), "proc_tasks": tasks(node, pid)}
    go(node, pid)
    return {**proc.result(30), **seen}


def introspection_step(facts):
    inside = sorted(facts["native_ids"].values())
    workers = {name: tid for name, tid in facts["workers_said"]}
    agree = inside == facts["ps_lwps"] == facts["proc_tasks"] and \
        all(facts["native_ids"].get(name) == tid for name, tid in workers.items())
    counts = facts["active_count"] == len(facts["enumerate"]) == len(workers) + 1 and \
        facts["current_thread"] == "MainThread" and facts["active_count_after_join"] == 1
    return Step(
        "introspection", _("threading's view from inside, ps -L from outside"),
        passed=agree and counts,
        expected=_("with {count} threads waiting: current_thread() is MainThread, active_count() is {total}, "
                   "enumerate() names them all; their native ids are the LWPs ps -L shows and the entries of "
                   "/proc/<pid>/task; after join(), active_count() is 1").format(
            count=len(workers), total=len(workers) + 1),
        observed=_("{current}; active_count() {active}; enumerate() {names}; native ids {inside}; ps -L {lwps}; "
                   "/proc/{pid}/task {tasks}; after join() {after}").format(
            current=facts["current_thread"], active=facts["active_count"], names=facts["enumerate"], inside=inside,
            lwps=facts["ps_lwps"], pid=facts["pid"], tasks=facts["proc_tasks"], after=facts["active_count_after_join"]),
        why=_("Each threading.Thread is a kernel thread (a task, or LWP) of the process: the kernel numbers it "
              "(Thread.native_id), threading names it and counts the ones it started that are alive."),
        facts=facts)


def run(lab, params, progress):
    node = lab.node("worker1")
    progress(_("a global changed by a child process and by a thread, on worker1"))
    steps = [shared_step(observe_shared(node))]
    progress(_("{count} threads against {count} processes: start cost and memory").format(count=params["count"]))
    steps += [start_cost_step(node.program("threads", "start-cost", "--count", params["count"])),
              memory_step(observe_memory(node, params["count"]))]
    progress(_("{threads} threads decrementing one n, without and with a Lock").format(threads=params["threads"]))
    raced = node.program("threads", "race", "--threads", params["threads"], "--updates", params["updates"])
    steps += [lost_updates_step(raced), lock_step(raced)]
    progress(_("daemon threads and daemon processes; threading beside ps -L"))
    steps += [daemon_step(node.program("threads", "daemon")), introspection_step(observe_introspection(node, 3))]
    steps.append(nothing_left([node], ["nodes.threads"], _("Every thread and child was joined; the daemons "
                                                           "ended with their main code or their interpreter.")))
    return steps
