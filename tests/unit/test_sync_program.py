"""nodes.sync run on this host (python3 -m nodes.sync, as in a node) and observed by the sync scenario's own
code through a node that is this host: its JSON, its steps (which fail without the phenomenon) and its
pictures."""
import copy
import json
import subprocess
from pathlib import Path

import pytest

from orchestrator import pictures, scenarios
from orchestrator.pictures.sync import DRAW
from orchestrator.result import Step
from orchestrator.scenarios import sync
from orchestrator.scenarios.remote_exec import peak_overlap
from tests.unit.hostlab import HostLab, HostProcess

ROOT = Path(__file__).resolve().parents[2]
KEYS = ["event-start", "semaphore-3", "lock-twice", "deadlock", "lock-ordering", "manager-lost-updates",
        "shared-memory-cost", "nothing-left"]


@pytest.fixture(scope="module")
def lesson():
    """{step key: Step} of one run of the lesson here, small: 6 semaphore workers, 3 processes, 100 increments."""
    result = scenarios.run("sync", HostLab(), {"workers": 6, "processes": 3, "increments": 100})
    assert result.duration_s < 30, "the lesson must stay short"
    return {step.key: step for step in result.steps}


def facts(lesson, key):
    return copy.deepcopy(lesson[key].facts)


def test_every_step_passes_here(lesson):
    assert list(lesson) == KEYS
    failed = {key: step.observed for key, step in lesson.items() if not step.passed}
    assert not failed


def test_event_workers_wait_asleep_and_go_only_after_set(lesson):
    seen = facts(lesson, "event-start")
    assert len(seen["workers"]) == 3 and {s["stat"][0] for s in seen["before_set"].values()} == {"S"}
    assert max(seen["waiting_at"].values()) < seen["set_at"] <= min(seen["woke_at"].values())
    assert all(seen["set_seen"].values())


def test_semaphore_intervals_never_hold_more_than_its_places():
    done = subprocess.run(["python3", "-m", "nodes.sync", "semaphore", "--workers", "5", "--slots", "2", "--hold",
                           "0.05"], cwd=ROOT, capture_output=True, text=True, timeout=30)
    measured = json.loads(done.stdout)
    assert set(measured) == {"slots", "hold_s", "intervals"} and len(measured["intervals"]) == 5
    assert all(asked <= entered < left for _pid, asked, entered, left in measured["intervals"])
    assert peak_overlap([(entered, left) for _pid, _asked, entered, left in measured["intervals"]]) == 2


def test_lock_twice_sticks_and_rlock_does_not(lesson):
    seen = facts(lesson, "lock-twice")
    assert (seen["Lock"]["depth"], seen["Lock"]["stuck"], seen["Lock"]["exitcode"]) == (1, True, -9)
    assert (seen["RLock"]["depth"], seen["RLock"]["stuck"], seen["RLock"]["exitcode"]) == (2, False, 0)
    assert seen["Lock"]["seconds"] >= seen["timeout_s"]


def test_the_deadlocked_pair_is_asleep_each_stack_on_its_second_lock_then_killed(lesson):
    seen = facts(lesson, "deadlock")
    pids = list(map(str, seen["stuck"]))
    assert sorted(seen["locks"].values()) == ["AB", "BA"] and sorted(pids) == sorted(seen["locks"])
    assert set(seen["holding"].values()) == {1} and set(seen["exitcodes"].values()) == {-9}
    assert {s["stat"][0] for s in seen["seen"].values()} == {"S"}
    for pid in pids:
        assert seen["stacks"][pid][0] == "Stack (most recent call first):"
        assert seen["waiting_at"][pid]["function"] == "take_in_order"
        assert seen["waiting_at"][pid]["code"] == "with second:"
    assert sync.wait_for_graph(seen) == {pid: tuple(seen["locks"][pid]) for pid in pids}


def test_the_same_order_says_ready_with_no_one_stuck():
    process = HostProcess(["python3", "-m", "nodes.sync", "deadlock", "--order", "same"])
    assert len(process.line("ready ").split()) == 2, "the parent, and nobody stuck"
    measured = process.result(30)
    assert measured["stuck"] == [] and list(measured["exitcodes"].values()) == [0, 0]
    assert measured["seconds"] >= 2 * measured["work_s"], "one waited for the other at A"


def test_a_manager_dict_loses_updates_without_a_lock_only(lesson):
    seen = facts(lesson, "manager-lost-updates")
    assert seen["expected"] == 300 and seen["with_lock"] == {**seen["with_lock"], "final": 300, "lost": 0}
    assert seen["without_lock"]["lost"] == 300 - seen["without_lock"]["final"] > 0


def test_shared_memory_is_mapped_by_both_and_far_cheaper_than_the_manager(lesson):
    seen = facts(lesson, "shared-memory-cost")
    assert seen["totals"] == seen["expected_totals"] == {"value": 14000, "array": 14000, "manager": 1400}
    assert any("/pym-" in mapping for mapping in seen["mapped_in_both"])
    assert len(seen["manager_processes"]) == 1 and seen["ratio"] >= sync.CHEAPER
    assert all(len(samples) == seen["rounds"] for samples in seen["samples_us"].values())


def judged(step_function, measured, change):
    change(measured)
    return step_function(measured).passed


def test_event_fails_when_a_worker_went_on_before_set_or_was_not_waiting(lesson):
    def early(seen):
        first = next(iter(seen["woke_at"]))
        seen["woke_at"][first] = seen["set_at"] - 0.01
    assert not judged(sync.event_step, facts(lesson, "event-start"), early)
    assert not judged(sync.event_step, facts(lesson, "event-start"),
                      lambda seen: next(iter(seen["before_set"].values())).update(stat="R"))


def test_semaphore_fails_with_too_many_inside_or_one_at_a_time(lesson):
    seen = facts(lesson, "semaphore-3")
    everyone = [[pid, 0.0, 0.01, 0.2] for pid in range(6)]
    one_by_one = [[pid, 0.0, 0.2 * pid, 0.2 * pid + 0.2] for pid in range(6)]
    assert not sync.semaphore_step({**seen, "intervals": everyone}, 6).passed
    assert not sync.semaphore_step({**seen, "intervals": one_by_one}, 6).passed
    assert sync.semaphore_step(seen, 6).facts["max_inside"] == 3


def test_lock_twice_fails_when_the_lock_lets_its_holder_in_again(lesson):
    assert not judged(sync.lock_twice_step, facts(lesson, "lock-twice"),
                      lambda seen: seen.update(Lock=seen["RLock"]))


def test_deadlock_fails_without_a_cycle_or_without_the_stacks_and_ordering_fails_with_one(lesson):
    assert not sync.deadlock_step(facts(lesson, "lock-ordering")).passed
    assert not sync.ordering_step(facts(lesson, "deadlock")).passed
    assert not judged(sync.deadlock_step, facts(lesson, "deadlock"),
                      lambda seen: seen.update(waiting_at={pid: None for pid in seen["waiting_at"]}))


def test_manager_fails_when_nothing_is_lost_or_the_lock_does_not_help(lesson):
    assert not judged(sync.manager_step, facts(lesson, "manager-lost-updates"),
                      lambda seen: seen["without_lock"].update(final=seen["expected"], lost=0))
    assert not judged(sync.manager_step, facts(lesson, "manager-lost-updates"),
                      lambda seen: seen["with_lock"].update(final=seen["expected"] - 1))


def test_shared_memory_fails_when_it_is_not_cheaper_or_not_shared(lesson):
    assert not judged(sync.shared_memory_step, facts(lesson, "shared-memory-cost"),
                      lambda seen: seen["per_op_us"].update(manager=seen["per_op_us"]["value"] * 2))
    assert not judged(sync.shared_memory_step, facts(lesson, "shared-memory-cost"),
                      lambda seen: seen.update(mappings={pid: [] for pid in seen["mappings"]}))


def test_every_picture_draws_from_the_measured_facts_with_its_alt_text(lesson):
    for key in DRAW:
        picture = pictures.for_step("sync", lesson[key])
        assert "<svg" in picture.data and picture.alt, key
    deadlock = facts(lesson, "deadlock")
    alt = pictures.for_step("sync", lesson["deadlock"]).alt
    assert all(f"process {pid} holds lock {order[0]} and waits for lock {order[1]}" in alt
               for pid, order in deadlock["locks"].items())
    assert "at most 3 inside at once" in pictures.for_step("sync", lesson["semaphore-3"]).alt
    assert "with a Lock 300." in pictures.for_step("sync", lesson["manager-lost-updates"]).alt


def test_no_wait_for_graph_is_drawn_where_nobody_was_stuck(lesson):
    ordered = Step("deadlock", "d", False, "e", "o", "w", facts(lesson, "lock-ordering"))
    assert pictures.for_step("sync", ordered) is None
