"""sync on the lab: each primitive must show its behaviour in the node, seen from outside with ps and /proc."""
import pytest

from orchestrator import scenarios
from tests.integration.conftest import assert_passed

KEYS = ["event-start", "semaphore-3", "lock-twice", "deadlock", "lock-ordering", "manager-lost-updates",
        "shared-memory-cost", "nothing-left"]


@pytest.fixture(scope="module")
def sync(lab):
    result = assert_passed(scenarios.run("sync", lab))
    assert [step.key for step in result.steps] == KEYS
    assert result.duration_s < 60, "the lesson must stay short"
    return {step.key: step.facts for step in result.steps}


def test_no_worker_goes_on_before_set(sync):
    facts = sync["event-start"]
    assert {seen["stat"][0] for seen in facts["before_set"].values()} == {"S"}, "asleep on the Event, seen by ps"
    assert max(facts["waiting_at"].values()) < facts["set_at"] <= min(facts["woke_at"].values())


def test_the_semaphore_lets_three_in_at_once_never_more(sync):
    facts = sync["semaphore-3"]
    assert facts["max_inside"] == facts["slots"] == 3 and len(facts["intervals"]) == 8
    assert facts["waited"] >= 8 - 3


def test_a_lock_taken_twice_sticks_an_rlock_does_not(sync):
    facts = sync["lock-twice"]
    assert facts["Lock"]["stuck"] and facts["Lock"]["depth"] == 1 and facts["Lock"]["exitcode"] == -9
    assert not facts["RLock"]["stuck"] and facts["RLock"]["depth"] == 2 and facts["RLock"]["exitcode"] == 0


def test_the_deadlock_is_seen_asleep_located_by_the_stacks_then_killed(sync):
    facts = sync["deadlock"]
    assert len(facts["stuck"]) == 2 and set(facts["holding"].values()) == {1}
    assert sorted(facts["locks"].values()) == ["AB", "BA"]
    assert {seen["stat"][0] for seen in facts["seen"].values()} == {"S"}
    assert all(at["file"] == "/opt/socklab/nodes/sync.py" and at["code"] == "with second:"
               for at in facts["waiting_at"].values())
    assert set(facts["exitcodes"].values()) == {-9}


def test_taking_the_locks_in_one_order_finishes(sync):
    facts = sync["lock-ordering"]
    assert facts["stuck"] == [] and list(facts["exitcodes"].values()) == [0, 0]
    assert facts["seconds"] < facts["timeout_s"]


def test_a_manager_dict_loses_updates_without_a_lock(sync):
    facts = sync["manager-lost-updates"]
    assert facts["without_lock"]["lost"] > 0 and facts["with_lock"]["final"] == facts["expected"] == 800


def test_shared_memory_is_shared_and_cheaper_than_the_manager(sync):
    facts = sync["shared-memory-cost"]
    assert facts["totals"] == facts["expected_totals"]
    assert any("/pym-" in mapping for mapping in facts["mapped_in_both"])
    assert len(facts["manager_processes"]) == 1 and facts["ratio"] >= 10
    assert sync["nothing-left"]["left"] == {}
