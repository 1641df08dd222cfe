"""The queue scenario on the lab: its verdicts come from the history checker, and must show."""
import pytest

from orchestrator import pictures, scenarios
from tests.integration.conftest import assert_passed


@pytest.fixture(scope="module")
def queue(lab):
    return assert_passed(scenarios.run("queue", lab, {"items": 40}))


def test_depth_never_exceeds_maxsize_and_producers_block(queue):
    facts = queue.step("backpressure").facts
    assert facts["max_depth"] == facts["maxsize"] == 5 and all(b > 0.2 for b in facts["blocked_s"])
    assert facts["checker"]["ok"] and facts["checker"]["produced"] == 80
    drawn = pictures.for_step("queue", queue.step("backpressure"))
    assert drawn.data.lstrip().startswith("<") and "<svg" in drawn.data and "maxsize" in drawn.data


def test_throughput_rises_from_one_to_two_workers(queue):
    facts = queue.step("scaling").facts
    assert facts["tasks_per_s"][2] >= 1.15 * facts["tasks_per_s"][1]


def test_every_consumer_exits(queue):
    facts = queue.step("shutdown").facts
    assert [c["exit"] for c in facts["pill_consumers"] + facts["task_done_consumers"]] == ["poison pill"] * 6


def test_a_kill_loses_with_plain_get_and_nothing_with_leases(queue):
    assert queue.step("crash-plain-loses").facts["checker"]["lost_count"] > 0
    reliable = queue.step("crash-leases-keep").facts["checker"]
    assert reliable["lost_count"] == 0 and reliable["ok"]


def test_a_lease_shorter_than_the_work_duplicates_and_loses_nothing(queue):
    facts = queue.step("lease-shorter-than-work").facts
    assert facts["checker"]["duplicated_count"] > 0 and facts["checker"]["lost_count"] == 0
    assert queue.step("crash-leases-keep").facts["redelivered"] >= 1
    assert queue.step("shutdown").facts["join_after_last_task_done_ms"] >= 0, "join() waited for the last one"


def test_a_dead_broker_ends_its_clients_and_a_new_one_serves(queue):
    facts = queue.step("broker-death").facts
    assert all("lost the broker" in e for e in facts["errors"]) and facts["seconds"] < 10
    assert facts["new_run"]["ok"]


def test_a_wrong_authkey_is_refused(lab):
    from orchestrator.scenarios.queue import broker
    with broker(lab.node("server"), 5):
        done = lab.node("worker3").run(["sh", "-c", "echo wrong > /tmp/k && "
                                        "python3 -m nodes.queues consume server --key /tmp/k"])
    assert done.exit_code == 2 and b"the broker refused us" in done.stderr and done.stderr.count(b"\n") == 1
