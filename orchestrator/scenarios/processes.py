"""multiprocessing observed from outside: `ps`, run as a separate exec in the node, says what the kernel sees."""
import time

from orchestrator.i18n import N_, _
from orchestrator.result import Step
from orchestrator.scenarios._cleanup import nothing_left

NAME = "processes"
SUMMARY = N_("children, pid/ppid, join/is_alive/terminate, zombies, orphans, PID 1 in a container, daemons")
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
    inside = {int(pid): ppid for pid, ppid in result["seen_from_inside"].items()}
    lifecycle_ok = (result["alive_before"] == [True] * 3 and result["alive_after"] == [False] * 3
                    and result["exitcodes"] == [-15, 0, 0] and result["join_seconds"][0] >= 0.25)
    return Step(
        "children", _("children, pids and the process API"),
        passed=all(p == parent for p in ppids.values()) and inside == {kid: parent for kid in kids} and lifecycle_ok,
        expected=_("3 children print os.getpid() and os.getppid() from inside; ps, from outside, agrees: the "
                   "parent's pid is their ppid; is_alive() is True, then terminate() ends one with SIGTERM (exitcode "
                   "-15), join() blocks until each other child has ended"),
        observed=_("parent {parent}; children said (pid, ppid) {pairs}; ps saw ppids {ppids}; alive before "
                   "{alive_before}, exitcodes {exitcodes}, join waited {join_seconds} s, alive after "
                   "{alive_after}").format(
            parent=parent, pairs=sorted(inside.items()), ppids=list(ppids.values()),
            alive_before=result['alive_before'], exitcodes=result['exitcodes'], join_seconds=result['join_seconds'],
            alive_after=result['alive_after']),
        why=_("Process.start() forked here (nodes.procs chooses the fork start method, Linux's default before "
              "Python 3.14; macOS and Windows start a fresh interpreter instead): each child is a process of its "
              "own, with the parent as its ppid. join() is waitpid(); is_alive() asks without waiting, and — like "
              "start() — also collects children that have already ended; terminate() sends SIGTERM."),
        facts={"parent": parent, "children": kids, "ps_ppids": {str(kid): ppid for kid, ppid in ppids.items()},
               **result})


def terminate_step(result):
    """From the children run: terminate() sends a signal and returns; the child ends when it ends."""
    alive, took = result["alive_right_after_terminate"], result["terminate_to_end_s"]
    return Step(
        "terminate-is-asynchronous", _("terminate() only sends SIGTERM"),
        passed=alive and took >= 0.25 and result["exitcodes"][0] == -15,
        expected=_("right after terminate(), is_alive() is still True for a child that takes 0.3 s to clean up on "
                   "SIGTERM; join() then waits for it"),
        observed=_("is_alive() right after terminate(): {alive}; the child ended {seconds} s later, exitcode "
                   "{exitcode}").format(alive=alive, seconds=took, exitcode=result['exitcodes'][0]),
        why=_("terminate() is os.kill(pid, SIGTERM): it returns at once, and the child ends when its handler lets "
              "it — so a parent that needs it gone calls join() after terminate()."),
        facts={"alive_right_after_terminate": alive, "terminate_to_end_s": took,
               "exitcode": result["exitcodes"][0]})


def implicit_join_step(node, seconds=1.0):
    started = time.monotonic()
    result = node.program("procs", "implicit-join", "--seconds", seconds)
    elapsed = round(time.monotonic() - started, 3)
    return Step(
        "implicit-join", _("a parent waits for its children at exit"),
        passed=elapsed >= seconds and node.leftovers("nodes.procs") == [],
        expected=_("a parent whose code ends at once, without join(), after starting a child that works {seconds} "
                   "s: the program still lasts that long").format(seconds=seconds),
        observed=_("the program took {seconds} s; its main code had returned before the child was done").format(
            seconds=elapsed),
        why=_("At exit, multiprocessing joins every child that is not a daemon (and terminates the daemons): the "
              "interpreter does not end while non-daemonic children run."),
        facts={**result, "program_seconds": elapsed})


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
        "zombie", _("zombie until joined"),
        passed=seen_z and "defunct" in before["args"] and after is None,
        expected=_("a child that has exited while its parent neither joins nor waits shows as Z <defunct>; after "
                   "join() it is gone"),
        observed=_("before join: {state} {args}; after join: {state_after}").format(
            state=before['stat'] if before else _("absent"), args=before['args'] if before else '',
            state_after=_("gone") if after is None else after['stat']),
        why=_("A dead child keeps its exit status in the process table until the parent collects it with wait(); "
              "join() does exactly that — and so do is_alive() and the next start(), which collect children that "
              "have ended."),
        facts={"child": child, "before_join": before, "after_join": after})


def orphan_step(node):
    started = node.program("procs", "orphan", "--seconds", 30)
    wait_for_state(node, [started["parent"]], "Z")
    table = node.ps()
    child, pid1 = table.get(started["child"]), table[1]["args"]
    node.run(["kill", str(started["child"])])
    return Step(
        "orphan", _("orphan adopted by PID 1"),
        passed=child is not None and child["ppid"] == 1,
        expected=_("when the parent exits first, its still-running child gets a new parent: the node's PID 1"),
        observed=_("parent {parent} exited; child {child} now has ppid {ppid}").format(
            parent=started['parent'], child=started['child'], ppid=child['ppid'] if child else _("gone")),
        why=_("The kernel gives an orphan to the nearest ancestor marked as a subreaper, else to PID 1 of its PID "
              "namespace: in this container that is PID 1, {pid1}.").format(pid1=pid1),
        facts={**started, "child_after": child, "pid1": pid1})


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
        "pid1-reaps", _("PID 1 in a container: who reaps orphans"),
        passed=with_init == 0 and without_init == count,
        expected=_("{count} children outlive their parent, then exit: on a node with init they are reaped; on a "
                   "node whose PID 1 is `sleep` they stay zombies").format(count=count),
        observed=_("with init ({init}): {zombies_with_init} zombies; without (PID 1 `{pid1}`): {zombies_without_init} "
                   "zombies").format(init=init_args.split()[0], zombies_with_init=with_init, pid1=bare_args,
                                     zombies_without_init=without_init),
        why=_("Orphans go to PID 1, and only a PID 1 that calls wait() frees them: `init: true` puts docker-init "
              "there; a plain program as PID 1 lets them pile up."),
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
        "daemon-ends", _("a daemonic child ends with its parent"),
        passed=alive and gone,
        expected=_("a daemon=True child runs while its parent does, and is ended when the parent exits"),
        observed=_("child {child} running with its parent: {alive}; after the parent exited: {after}").format(
            child=child, alive=alive, after=_("gone") if gone else _("still there")),
        why=_("At exit, multiprocessing terminates its daemonic children (SIGTERM) and then joins them: a daemon "
              "does not outlive its parent's code — when the parent exits normally (see the next two steps)."),
        facts={"parent": parent, "child": child, "alive_with_parent": alive, "gone_after": gone})


def daemon_main_ends_step(node):
    """The course's subtlety: the daemon ends when the main code ends, while the parent still waits for an
    ordinary child; a daemon that lived as long as the parent process would outlast the main code."""
    proc = node.start("procs", "daemon-main-ends")
    parent, daemon, ordinary = ready_pids(proc)
    go(node, parent)
    wait_for_state(node, [daemon], "Z")
    seen = node.ps()
    go(node, ordinary)  # looked: the ordinary child's work may end, and the parent with it
    proc.result(30)
    daemon_gone = daemon not in seen or seen[daemon]["stat"].startswith("Z")
    parent_waits = parent in seen and not seen[parent]["stat"].startswith("Z")
    ordinary_works = ordinary in seen and not seen[ordinary]["stat"].startswith("Z")
    state = lambda pid: _("running") if pid in seen and not seen[pid]["stat"].startswith("Z") else _("gone")
    return Step(
        "daemon-ends-with-main-code", _("a daemon ends when the main code ends, not when the parent exits"),
        passed=daemon_gone and parent_waits and ordinary_works,
        expected=_("the main code ends without join(): the daemon is ended at once, while the parent process "
                   "still waits for its ordinary child"),
        observed=_("when the daemon {daemon} was gone: parent {parent} {parent_state}, ordinary child {ordinary} "
                   "{ordinary_state}").format(daemon=daemon, parent=parent, parent_state=state(parent),
                                              ordinary=ordinary, ordinary_state=state(ordinary)),
        why=_("When the main code ends, multiprocessing's exit handler first terminates the daemons, then joins "
              "the ordinary children: the daemon's life is bound to the main code, the ordinary child's to its "
              "own work."),
        facts={"parent": parent, "daemon": daemon, "ordinary": ordinary, "daemon_gone": daemon_gone,
               "parent_alive_then": parent_waits, "ordinary_alive_then": ordinary_works})


def daemon_killed_step(node):
    """SIGKILL runs no exit handler: the daemonic child outlives its parent, adopted by the node's reaper."""
    proc = node.start("procs", "daemon-killed")
    parent, child = ready_pids(proc)
    node.run(["kill", "-KILL", str(parent)])
    wait_for_state(node, [parent], "Z")
    seen = node.ps()
    survived = child in seen and not seen[child]["stat"].startswith("Z")
    adopter = seen.get(child, {}).get("ppid")
    proc.stop()
    return Step(
        "daemon-outlives-killed-parent", _("a daemon outlives a parent killed with SIGKILL"),
        passed=survived and adopter not in (None, parent),
        expected=_("the parent of a daemon=True child is killed with SIGKILL (kill -9): the daemon lives on, "
                   "re-parented"),
        observed=_("after kill -9 {parent}: daemon {child} {state}, its parent now pid {adopter}").format(
            parent=parent, child=child, state=_("still running") if survived else _("gone"), adopter=adopter),
        why=_("Daemons are ended by multiprocessing's exit handler in the parent; SIGKILL (or os._exit()) "
              "ends the parent without running it, so the daemon becomes an orphan like any other child."),
        facts={"parent": parent, "child": child, "survived": survived, "new_ppid": adopter})


def daemon_child_step(node):
    failed = node.program("procs", "daemon-child")
    said = failed["child_said"]
    return Step(
        "daemon-no-children", _("daemonic processes cannot have children"),
        passed=said == "AssertionError: daemonic processes are not allowed to have children",
        expected=_("a daemonic child that starts a Process gets AssertionError: daemonic processes are not "
                   "allowed to have children"),
        observed=said,
        why=_("A daemon is terminated when its parent exits, with no chance to end children of its own, which "
              "would be left orphaned: so multiprocessing forbids it any."),
        facts=failed)


def run(lab, params, progress):
    node = lab.node("worker1")
    progress(_("children, zombies and orphans on worker1"))
    first = children_step(node)
    steps = [first, terminate_step(first.facts), implicit_join_step(node), zombie_step(node), orphan_step(node)]
    progress(_("PID 1: {count} orphaned zombies with init and without").format(count=params['orphans']))
    steps.append(pid1_step(lab, params["orphans"]))
    progress(_("daemons"))
    steps += [daemon_step(node), daemon_main_ends_step(node), daemon_killed_step(node), daemon_child_step(node)]
    steps.append(nothing_left([node], ["nodes.procs"], _("Every child was joined, killed or reaped by an init; "
                                                         "the node without init is gone.")))
    return steps
