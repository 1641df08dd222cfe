"""io-models on the lab: 1,100 connections from client1 and client2 against each server model on the server
node, measured from /proc there; select()'s limit and cost; the slow reader. Each must be seen, or this fails."""
import pytest

from orchestrator import pictures, scenarios
from orchestrator.scenarios import io_models
from tests.integration.conftest import assert_passed

KEYS = ["thread-per-connection", "busy-loop", "select-limit", "epoll", "asyncio", "select-cost", "slow-reader",
        "nothing-left"]
CONNECTIONS = 1100


@pytest.fixture(scope="module")
def lesson(lab):
    result = assert_passed(scenarios.run("io-models", lab))
    assert [step.key for step in result.steps] == KEYS
    assert result.duration_s < 90, "the lesson must stay short"
    return result


@pytest.fixture(scope="module")
def facts(lesson):
    return {step.key: step.facts for step in lesson.steps}


def test_every_model_held_the_connections_it_could_and_answered_every_line(facts):
    models = facts["thread-per-connection"]["models"]
    assert list(models) == list(io_models.MODELS)
    assert {model: row["open"] for model, row in models.items() if model != "select"} == \
        dict.fromkeys(("threads", "busy", "epoll", "asyncio"), CONNECTIONS)
    for key in KEYS[:5]:
        assert facts[key]["missing_lines"] == 0 and facts[key]["sent_lines"] >= 0.9 * 20 * 3000 / 50, key
        assert facts[key]["server"]["stopped"] == "SIGTERM", key


def test_a_thread_per_connection_and_its_memory_against_one_thread_for_all(facts):
    models = facts["thread-per-connection"]["models"]
    assert models["threads"]["threads"] == CONNECTIONS + 1
    assert {models[model]["threads"] for model in ("busy", "select", "epoll", "asyncio")} == {1}
    loops = max(models[model]["rss_per_connection_kib"] for model in ("epoll", "asyncio"))
    assert models["threads"]["rss_per_connection_kib"] >= io_models.THREAD_MEMORY * loops
    assert models["threads"]["rss_kib"] > max(models[model]["rss_kib"] for model in ("epoll", "asyncio"))


def test_the_busy_loop_spins_a_core_and_the_others_stay_near_idle(facts):
    cpu = {model: row["cpu_per_s"] for model, row in facts["busy-loop"]["models"].items()}
    assert cpu["busy"] >= io_models.SPINNING and facts["busy-loop"]["window_s"] >= 3.0
    assert all(cpu[model] < io_models.IDLE for model in ("threads", "epoll", "asyncio")), cpu
    assert cpu["epoll"] < cpu["select"] < cpu["busy"] / 2, "select pays for its 1,020 descriptors at every call"


def test_select_meets_descriptor_1024_with_the_process_limit_raised_past_it(facts):
    limit = facts["select-limit"]
    error, nofile = limit["server"]["select_error"], limit["server"]["nofile"]
    assert error == {"error": "filedescriptor out of range in select()", "descriptor": 1024}
    assert nofile["raised_to"] == nofile["hard"] > CONNECTIONS
    assert limit["open"] < 1024 and limit["open"] + limit["closed_by_server"] == CONNECTIONS
    assert limit["closed_by_server"] == limit["server"]["refused"]
    assert limit["fds"] <= 1024 < facts["epoll"]["fds"]  # 0 to 1023 at most


def test_one_select_call_grows_with_the_descriptors_and_epoll_stays_flat(facts):
    cost = facts["select-cost"]
    assert cost["sizes"] == list(io_models.SIZES)
    assert cost["select_us"] == sorted(cost["select_us"]) and cost["select_growth"] >= 5
    assert cost["epoll_spread"] <= 3
    assert cost["served_cpu_per_s"] == {model: facts["busy-loop"]["models"][model]["cpu_per_s"]
                                        for model in ("select", "epoll")}


def test_a_slow_reader_loses_data_stalls_everyone_or_is_buffered(facts):
    slow = facts["slow-reader"]
    drop, block, buffer = (slow["outputs"][output] for output in ("drop", "block", "buffer"))
    assert drop["server"]["dropped_bytes"] == drop["slow"][0]["sent"] - drop["slow"][0]["received"] > 0
    assert block["max_ms"] >= 0.8 * slow["stall_s"] * 1000 and not block["slow"][0]["intact"]
    assert buffer["slow"][0]["intact"] and buffer["slow"][0]["received"] > 0
    assert buffer["server"]["output_peak_bytes"] > slow["high_water"] and buffer["max_ms"] < block["max_ms"] / 2


def test_nothing_is_left_and_every_picture_draws(lesson, facts):
    assert facts["nothing-left"]["left"] == {}
    for step in lesson.steps:
        picture, problem = pictures.drawing("io-models", step)
        assert not problem, problem
        assert (picture is not None) == (step.key in ("thread-per-connection", "busy-loop", "select-limit", "epoll",
                                                      "select-cost", "slow-reader")), step.key
