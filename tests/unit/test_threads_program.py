"""nodes.threads run on this host, watched from outside as the scenario watches it in a node (ps, /proc); the
scenario's steps judging those facts (and failing facts without the phenomenon); the pictures drawn from them."""
import copy
import json
import os
import platform
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator import pictures, scenarios
from orchestrator.result import Step
from orchestrator.scenarios import threads as lesson
from tests.unit.hostlab import HostLab

ROOT = Path(__file__).resolve().parents[2]


HOST = HostLab().node("host")


def program(*argv):
    """The JSON result of `python3 -m nodes.threads argv...`."""
    done = subprocess.run([sys.executable, "-m", "nodes.threads", *map(str, argv)], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def staged(*argv, look):
    """Run a subcommand that says `ready PID...` and waits for SIGUSR1; look(pids) while it waits. Returns
    (what look found, the JSON result)."""
    proc = subprocess.Popen([sys.executable, "-m", "nodes.threads", *map(str, argv)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert select.select([proc.stderr], [], [], 20)[0], "never said ready"
        line = proc.stderr.readline()
        assert line.startswith("ready "), line
        pids = [int(pid) for pid in line.split()[1:]]
        looked = look(pids)
        os.kill(pids[0], signal.SIGUSR1)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 0, err
    return looked, json.loads(out)


def step_named(key, facts):
    return Step(key, key, True, "e", "o", "w", facts)


@pytest.fixture(scope="module")
def shared():
    seen, result = staged("shared", look=lambda pids: {"parent": lesson.tasks(HOST, pids[0]),
                                                       "child": lesson.tasks(HOST, pids[1])})
    return {**result, "proc_tasks": seen}


@pytest.fixture(scope="module")
def cost():
    return program("start-cost", "--count", 10, "--rounds", 3)


@pytest.fixture(scope="module")
def memory():
    seen, result = staged("memory", "--count", 4, look=lambda pids: lesson.nlwp_and_rss(HOST, pids))
    return {**result, "ps": seen}


@pytest.fixture(scope="module")
def raced():
    return program("race")


@pytest.fixture(scope="module")
def daemons():
    return program("daemon", "--work", 0.3)


@pytest.fixture(scope="module")
def introspected():
    seen, result = staged("introspect", "--count", 3, look=lambda pids: {
        "ps_lwps": lesson.lwps(HOST, pids[0]), "proc_tasks": lesson.tasks(HOST, pids[0])})
    return {**result, **seen}


def test_a_child_process_changes_its_own_copy_a_thread_the_one_global(shared):
    assert (shared["start"], shared["child_saw"], shared["parent_after_child"]) == (100, 0, 100)
    assert (shared["thread_saw"], shared["parent_after_thread"]) == (0, 0)
    assert shared["proc_tasks"] == {"parent": sorted([shared["pid"], shared["thread_tid"]]), "child": [shared["child"]]}
    assert lesson.shared_step(shared).passed


@pytest.mark.parametrize("change", [
    {"parent_after_thread": 100},               # the thread's change unseen: no shared address space
    {"parent_after_child": 0},                  # the child's change seen: no copy
    {"proc_tasks": {"parent": [1], "child": [2]}},  # the thread not a task of the process
])
def test_shared_globals_fails_without_one_address_space(shared, change):
    assert not lesson.shared_step({**shared, **change}).passed


def test_a_thread_starts_cheaper_than_a_process(cost):
    assert cost["count"] == 10 and len(cost["rounds_us"]["thread"]) == len(cost["rounds_us"]["process"]) == 3
    assert lesson.start_cost_step(cost).passed
    swapped = {**cost, "median_us": {"thread": cost["median_us"]["process"], "process": cost["median_us"]["thread"]}}
    assert not lesson.start_cost_step(swapped).passed


def test_a_thread_takes_less_memory_than_a_process_and_ps_counts_it(memory):
    pid = str(memory["pid"])
    assert memory["ps"][pid]["nlwp"] == 5 and all(memory["ps"][str(c)]["nlwp"] == 1 for c in memory["children"])
    assert 0 < memory["thread_kib"] < memory["process_private_kib"] < memory["process_rss_kib"]
    assert lesson.memory_step(memory).passed
    assert not lesson.memory_step({**memory, "thread_kib": memory["process_private_kib"]}).passed
    one_thread = copy.deepcopy(memory)
    one_thread["ps"][pid]["nlwp"] = 1           # threads ps does not see
    assert not lesson.memory_step(one_thread).passed


def test_updates_are_lost_across_a_switch_point_and_a_lock_makes_them_exact(raced):
    races = raced["races"]
    assert set(races) == {"plain", "call", "call-lock", "sleep", "sleep-lock"}
    assert races["call"]["lost"] > 0 and races["sleep"]["lost"] > 0
    assert races["call-lock"]["lost"] == races["sleep-lock"]["lost"] == 0
    if platform.python_version().startswith("3.11"):
        assert races["plain"]["lost"] == 0, "3.11 never switches between the read and the write of n -= 1"
    lost, locked = lesson.lost_updates_step(raced), lesson.lock_step(raced)
    assert lost.passed and locked.passed and set(locked.facts["races"]) == {"call", "call-lock", "sleep", "sleep-lock"}


def with_lost(raced, **lost):
    changed = copy.deepcopy(raced)
    for name, count in lost.items():
        changed["races"][name.replace("_", "-")]["lost"] = count
    return changed


def test_lost_updates_fails_when_nothing_is_lost_and_the_lock_step_when_a_lock_loses(raced):
    assert not lesson.lost_updates_step(with_lost(raced, call=0)).passed
    assert not lesson.lost_updates_step(with_lost(raced, sleep=0)).passed
    assert not lesson.lock_step(with_lost(raced, call_lock=3)).passed
    assert not lesson.lock_step(with_lost(raced, sleep_lock=1)).passed
    assert not lesson.lock_step(with_lost(raced, call=0)).passed, "exact proves nothing where no race lost"


def test_a_daemon_thread_outlives_the_main_code_a_daemon_process_does_not(daemons):
    thread, process = daemons["thread"], daemons["process"]
    assert max(thread["ticks_s"]) >= 0.15 and thread["exit_s"] >= thread["ordinary_done_s"] >= 0.3
    assert max(process["ticks_s"], default=0) < 0.15 and process["exit_s"] >= process["ordinary_done_s"] >= 0.3
    assert thread["exit_s"] < 10, "the daemon thread died with the interpreter"
    assert lesson.daemon_step(daemons).passed


def test_daemon_step_fails_when_both_daemons_behave_alike(daemons):
    like_threads = copy.deepcopy(daemons)
    like_threads["process"]["ticks_s"] = daemons["thread"]["ticks_s"]  # the daemon process ran until the exit
    assert not lesson.daemon_step(like_threads).passed
    like_processes = copy.deepcopy(daemons)
    like_processes["thread"]["ticks_s"] = [0.0]  # the daemon thread stopped with the main code
    assert not lesson.daemon_step(like_processes).passed
    kept_alive = copy.deepcopy(daemons)
    kept_alive["thread"]["exit_s"] = kept_alive["daemon_meant_s"]  # the daemon thread kept the interpreter up
    assert not lesson.daemon_step(kept_alive).passed


def test_threading_from_inside_agrees_with_ps_and_proc_from_outside(introspected):
    assert introspected["current_thread"] == "MainThread" and introspected["active_count"] == 4
    assert introspected["enumerate"] == ["MainThread", "worker-1", "worker-2", "worker-3"]
    assert sorted(introspected["native_ids"].values()) == introspected["ps_lwps"] == introspected["proc_tasks"]
    assert introspected["active_count_after_join"] == 1
    assert lesson.introspection_step(introspected).passed
    assert not lesson.introspection_step({**introspected, "ps_lwps": introspected["ps_lwps"][:-1]}).passed
    assert not lesson.introspection_step({**introspected, "active_count_after_join": 4}).passed


def test_the_pictures_draw_from_the_measured_facts(cost, memory, raced, daemons):
    drawn = {key: pictures.for_step("threads", step_named(key, facts)) for key, facts in [
        ("start-cost", cost), ("memory-cost", memory), ("lost-updates", lesson.lost_updates_step(raced).facts),
        ("lock-exact", lesson.lock_step(raced).facts), ("daemon-thread", daemons)]}
    assert all(picture is not None and "<svg" in picture.data and picture.alt for picture in drawn.values())
    assert f"a thread {cost['median_us']['thread']} µs" in drawn["start-cost"].alt
    assert f"adds {memory['thread_kib']} KiB" in drawn["memory-cost"].alt
    assert f"n -= one() with a Lock: 0 of {raced['races']['call-lock']['updates']}" in drawn["lock-exact"].alt
    plain = raced["races"]["plain"]
    assert f"n -= 1: {plain['lost']} of {plain['updates']}" in drawn["lost-updates"].alt
    assert f"exited at {daemons['thread']['exit_s']} s" in drawn["daemon-thread"].alt
    assert pictures.for_step("threads", step_named("shared-globals", {})) is None, "a table, not a picture"


def test_the_whole_lesson_runs_and_passes_on_this_host():
    params = {**scenarios.defaults(lesson), "count": 4, "updates": 50000}
    steps = lesson.run(HostLab(), params, progress=lambda text: None)
    assert [step.key for step in steps] == ["shared-globals", "start-cost", "memory-cost", "lost-updates", "lock-exact",
                                            "daemon-thread", "introspection", "nothing-left"]
    assert [(step.key, step.observed) for step in steps if not step.passed] == []
    assert all(step.why and step.expected and step.facts is not None for step in steps)
