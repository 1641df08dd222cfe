"""The pools lesson on the lab: pool size against cores, synchronous and asynchronous calls, where callbacks run,
and a pool-backed server with the idle connections that starve it. Each must show, or this fails."""
import pytest

from orchestrator import pictures, scenarios
from orchestrator.scenarios.pools import at_cores, busy, curve, sizes_for
from tests.integration.conftest import assert_passed

KEYS = ["cpu-bound-sizes", "io-bound-sizes", "sync-vs-async", "callback-where", "pool-server", "pool-starved",
        "nothing-left"]


@pytest.fixture(scope="module")
def pools(lab):
    return assert_passed(scenarios.run("pools", lab))


@pytest.fixture(scope="module")
def facts(pools):
    return {step.key: step.facts for step in pools.steps}


def test_every_step_in_order_and_the_whole_lesson_quick(pools):
    assert [step.key for step in pools.steps] == KEYS
    assert pools.duration_s < 120, "the lesson is meant to take well under two minutes"


def test_process_pools_gain_up_to_the_cores_and_never_busy_more_while_threads_busy_one(facts):
    cpu = facts["cpu-bound-sizes"]
    cores = cpu["usable_cpus"]
    assert cpu["sizes"] == sizes_for(cores)
    process = curve(cpu, "process")
    assert cores == 1 or process[cores] < process[1] / 1.25
    assert max(busy(cpu, "process").values()) <= cores * 1.15 and max(busy(cpu, "thread").values()) <= 1.15


def test_io_bound_work_keeps_gaining_past_the_cores(facts):
    io = facts["io-bound-sizes"]
    top = max(io["sizes"])
    for executor in io["seconds"]:
        seconds = curve(io, executor)
        assert seconds[1] >= 3 * seconds[top] and seconds[at_cores(io)] >= 1.5 * seconds[top]


def test_pool_map_blocks_and_asynchronous_calls_return_at_once(facts):
    calls = facts["sync-vs-async"]
    assert calls["pool"]["map"]["returned_ms"] >= calls["task_ms"]
    for name in ("pool", "process", "thread"):
        assert calls[name]["async"]["returned_ms"] < calls["task_ms"] / 4 <= calls[name]["async"]["done_ms"]
    assert calls["executor_map_returned_at_once"] == {"process": True, "thread": True}


def test_callbacks_run_in_the_parent_off_the_main_thread(facts):
    where = facts["callback-where"]
    main = where["main"]
    assert where["pool"]["callback"]["pid"] == main["pid"] != where["pool"]["task"]["pid"]
    assert "_handle_results" in where["pool"]["callback"]["thread"]
    assert where["process"]["callback"]["pid"] == main["pid"] != where["process"]["task"]["pid"]
    assert where["thread"]["callback"]["tid"] == where["thread"]["task"]["tid"] != main["tid"]


def test_a_fixed_pool_answers_everyone_with_its_own_processes(facts):
    server = facts["pool-server"]
    pool, fork = server["models"]["pool"], server["models"]["fork"]
    assert pool["answered_by"] <= server["workers"] < fork["answered_by"] == server["clients"]
    assert pool["seconds"] > 2 * fork["seconds"], "past the workers, clients wait their turn"
    assert server["survived_bad_clients"] == {"pool": True, "fork": True}


def test_idle_connections_starve_the_pool_until_one_closes(facts):
    starved = facts["pool-starved"]
    pool, fork = starved["pool"], starved["fork"]
    assert pool["starved"] and pool["connections"] == starved["workers"] and pool["answer"].startswith("ok")
    assert pool["closed_ms"] >= 1000 * pool["patience_s"] and pool["after_close_ms"] < 500
    assert not fork["starved"] and fork["answered_ms"] < 1000 * fork["patience_s"]
    assert facts["nothing-left"]["left"] == {}


def test_the_lessons_pictures_draw_from_what_it_measured(pools):
    drawn = {step.key: pictures.for_step("pools", step) for step in pools.steps}
    assert all(drawn[key] is not None for key in ("cpu-bound-sizes", "io-bound-sizes", "sync-vs-async",
                                                  "pool-server", "pool-starved"))
