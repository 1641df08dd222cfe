"""threads on the lab: each thing the lesson shows must be seen in the node, from inside and with ps and /proc."""
import pytest

from orchestrator import scenarios
from tests.integration.conftest import assert_passed

KEYS = ["shared-globals", "start-cost", "memory-cost", "lost-updates", "lock-exact", "daemon-thread", "introspection",
        "nothing-left"]


@pytest.fixture(scope="module")
def threads(lab):
    result = assert_passed(scenarios.run("threads", lab))
    assert [step.key for step in result.steps] == KEYS
    assert result.duration_s < 60, "the lesson must stay short"
    return {step.key: step.facts for step in result.steps}


def test_a_thread_shares_the_global_a_child_process_does_not(threads):
    facts = threads["shared-globals"]
    assert (facts["child_saw"], facts["parent_after_child"]) == (0, 100)
    assert (facts["thread_saw"], facts["parent_after_thread"]) == (0, 0)
    assert facts["proc_tasks"]["parent"] == sorted([facts["pid"], facts["thread_tid"]])
    assert facts["proc_tasks"]["child"] == [facts["child"]]


def test_a_thread_is_cheaper_to_start_and_to_keep(threads):
    cost = threads["start-cost"]["median_us"]
    assert cost["thread"] < cost["process"]
    memory = threads["memory-cost"]
    assert memory["thread_kib"] < memory["process_private_kib"] < memory["process_rss_kib"]
    assert memory["ps"][str(memory["pid"])]["nlwp"] == memory["count"] + 1
    assert all(memory["ps"][str(child)]["nlwp"] == 1 for child in memory["children"])


def test_updates_lost_without_a_lock_and_none_with_one(threads):
    races = threads["lost-updates"]["races"]
    assert races["call"]["lost"] > 0 and races["sleep"]["lost"] > 0
    if threads["lost-updates"]["python"].startswith("3.11"):
        assert races["plain"]["lost"] == 0, "3.11 never switches inside n -= 1"
    locked = threads["lock-exact"]["races"]
    assert locked["call-lock"]["lost"] == locked["sleep-lock"]["lost"] == 0


def test_a_daemon_thread_ends_with_the_interpreter_a_daemon_process_with_the_main_code(threads):
    facts = threads["daemon-thread"]
    thread, process = facts["thread"], facts["process"]
    assert max(thread["ticks_s"]) >= facts["work_s"] / 2 and thread["exit_s"] < facts["daemon_meant_s"]
    assert max(process["ticks_s"], default=0) < facts["work_s"] / 2 <= process["exit_s"]


def test_threading_agrees_with_ps_and_proc(threads):
    facts = threads["introspection"]
    assert facts["current_thread"] == "MainThread" and facts["active_count"] == len(facts["enumerate"]) == 4
    assert sorted(facts["native_ids"].values()) == facts["ps_lwps"] == facts["proc_tasks"]
    assert facts["active_count_after_join"] == 1
    assert threads["nothing-left"]["left"] == {}
