"""multiprocessing observed from outside: `ps`, run as a separate exec in the node, says what the kernel sees."""
from orchestrator.result import Step
from orchestrator.scenarios._cleanup import nothing_left

NAME = "processes"
SUMMARY = "children, pid/ppid, join/is_alive/terminate, zombies, orphans, PID 1 in a container, daemons"
PARAMS = {"orphans": (5, 1, 100)}


def wait_for_state(node, pids, states, timeout=5):
    """Until each pid is gone or in one of states (ps letters, e.g. "Z"): a check inside the node."""
    script = ('for i in $(seq 500); do busy=0; for p in "$@"; do s=$(ps -o stat= -p "$p"); '
              f'case "$s" in ""|[{states}]*) ;; *) busy=1;; esac; done; [ $busy = 0 ] && exit 0; sleep 0.01; done; exit 1')
    node.run(["sh", "-c", script, "sh", *map(str, pids)], timeout=timeout)


def ready_pids(process):
    return [int(p) for p in process.line("ready ").split()[1:]]


def go(node, pid):
    node.run(["kill", "-USR1", str(pid)])


def children_step(node):
    proc = node.start("procs", "children", "--count", 3)
    parent, *kids = ready_pids(proc)
    seen = node.ps()
    go(node, parent)
    result = proc.result(30)
    ppids = {kid: seen.get(kid, {}).get("ppid") for kid in kids}
    lifecycle_ok = (result["alive_before"] == [True] * 3 and result["alive_after"] == [False] * 3
                    and result["exitcodes"] == [-15, 0, 0] and result["join_seconds"][0] >= 0.25)
    return Step(
        "children", "children, pids and the process API",
        passed=all(p == parent for p in ppids.values()) and lifecycle_ok,
        expected="ps shows 3 children whose ppid is the parent's pid; is_alive() is True, then terminate() ends "
                 "one with SIGTERM (exitcode -15), join() blocks until each other child has ended",
        observed=f"parent {parent}, children {kids} with ppids {list(ppids.values())}; alive before "
                 f"{result['alive_before']}, exitcodes {result['exitcodes']}, join waited {result['join_seconds']} s, "
                 f"alive after {result['alive_after']}",
        why="Process.start() forks: each child is a process of its own, with the parent as its ppid; join() is "
            "waitpid(), is_alive() asks without waiting, terminate() sends SIGTERM.",
        facts={"parent": parent, "children": kids, "ps_ppids": ppids, **result})


def zombie_step(node):
    proc = node.start("procs", "zombie")
    parent, child = ready_pids(proc)
    wait_for_state(node, [child], "Z")
    before = node.ps().get(child)
    go(node, parent)
    proc.expect("joined")
    after = node.ps().get(child)
    go(node, parent)
    proc.result(30)
    seen_z = bool(before) and before["stat"].startswith("Z")
    return Step(
        "zombie", "zombie until joined",
        passed=seen_z and "defunct" in before["args"] and after is None,
        expected="a child that has exited while its parent neither joins nor waits shows as Z <defunct>; after "
                 "join() it is gone",
        observed=f"before join: {before['stat'] if before else 'absent'} {before['args'] if before else ''}; "
                 f"after join: {'gone' if after is None else after['stat']}",
        why="A dead child keeps its exit status in the process table until the parent collects it with wait(); "
            "join() does exactly that.",
        facts={"child": child, "before_join": before, "after_join": after})


def orphan_step(node):
    started = node.program("procs", "orphan", "--seconds", 30)
    wait_for_state(node, [started["parent"]], "Z")
    child = node.ps().get(started["child"])
    node.run(["kill", str(started["child"])])
    return Step(
        "orphan", "orphan adopted by PID 1",
        passed=child is not None and child["ppid"] == 1,
        expected="when the parent exits first, its still-running child gets a new parent: the node's PID 1",
        observed=f"parent {started['parent']} exited; child {started['child']} now has ppid "
                 f"{child['ppid'] if child else 'gone'}",
        why="The kernel re-parents orphans to the init of their PID namespace — in a container, its PID 1.",
        facts={**started, "child_after": child})


def count_orphaned_zombies(node, count):
    started = node.program("procs", "orphans", "--count", count)
    wait_for_state(node, started["children"], "Z")
    table = node.ps()
    return sum(1 for pid in started["children"] if pid in table and table[pid]["stat"].startswith("Z")), \
        table[1]["args"]


def pid1_step(lab, count):
    with_init, init_args = count_orphaned_zombies(lab.node("worker1"), count)
    with lab.scratch_node("noinit", init=False) as bare:
        without_init, bare_args = count_orphaned_zombies(bare, count)
    return Step(
        "pid1-reaps", "PID 1 in a container: who reaps orphans",
        passed=with_init == 0 and without_init == count,
        expected=f"{count} children outlive their parent, then exit: on a node with init they are reaped; on a "
                 "node whose PID 1 is `sleep` they stay zombies",
        observed=f"with init ({init_args.split()[0]}): {with_init} zombies; without (PID 1 `{bare_args}`): "
                 f"{without_init} zombies",
        why="Orphans go to PID 1, and only a PID 1 that calls wait() frees them: `init: true` puts docker-init "
            "there; a plain program as PID 1 lets them pile up.",
        facts={"orphans": count, "zombies_with_init": with_init, "zombies_without_init": without_init,
               "pid1_with_init": init_args, "pid1_without_init": bare_args})


def daemon_step(node):
    proc = node.start("procs", "daemon")
    parent, child = ready_pids(proc)
    alive = child in node.ps()
    go(node, parent)
    proc.result(30)
    wait_for_state(node, [child], "Z")
    gone = child not in node.ps()
    return Step(
        "daemon-ends", "a daemonic child ends with its parent",
        passed=alive and gone,
        expected="a daemon=True child runs while its parent does, and is ended when the parent exits",
        observed=f"child {child} running with its parent: {alive}; after the parent exited: "
                 f"{'gone' if gone else 'still there'}",
        why="At exit, multiprocessing terminates its daemonic children instead of joining them.",
        facts={"parent": parent, "child": child, "alive_with_parent": alive, "gone_after": gone})


def daemon_child_step(node):
    failed = node.program("procs", "daemon-child")
    said = failed["child_said"]
    return Step(
        "daemon-no-children", "daemonic processes cannot have children",
        passed=said == "AssertionError: daemonic processes are not allowed to have children",
        expected="a daemonic child that starts a Process gets AssertionError: daemonic processes are not "
                 "allowed to have children",
        observed=said,
        why="A daemon is ended without being joined, which would orphan its own children, so "
            "multiprocessing forbids them.",
        facts=failed)


def run(lab, params, progress):
    node = lab.node("worker1")
    progress("children, zombies and orphans on worker1")
    steps = [children_step(node), zombie_step(node), orphan_step(node)]
    progress(f"PID 1: {params['orphans']} orphaned zombies with init and without")
    steps.append(pid1_step(lab, params["orphans"]))
    progress("daemons")
    steps += [daemon_step(node), daemon_child_step(node)]
    steps.append(nothing_left([node], ["nodes.procs"], "Every child was joined, killed or reaped by an init; the "
                                                       "node without init is gone."))
    return steps
