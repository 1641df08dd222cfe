import io

import pytest
from rich.console import Console

from orchestrator import scenarios
from orchestrator.errors import BadParameter, UnknownName
from orchestrator.i18n import _
from orchestrator.result import Result, Step
from orchestrator.scenarios import ping
from tests.unit.conftest import FakeNode


def test_registry_finds_every_scenario_with_its_shape():
    found = scenarios.available()
    assert "ping" in found
    for name, module in found.items():
        assert module.NAME == name and module.SUMMARY and isinstance(module.PARAMS, dict) and callable(module.run)


def test_every_parameter_declares_a_range_that_holds_its_default():
    for name, module in scenarios.available().items():
        for key, spec in module.PARAMS.items():
            assert isinstance(spec, tuple) and len(spec) in (2, 3), (name, key)
            assert scenarios.parameters(module, [f"{key}={spec[0]}"])[key] == spec[0], (name, key)


@pytest.mark.parametrize("scenario, setting, wanted", [
    ("sticky", "bufsize=0", "a whole number from 1 to 65536"),
    ("ping", "count=-3", "a whole number from 1 to 100"),
    ("ping", "node=router", "text matching (server|client|worker)[0-9]*"),
    ("sticky", "udp_bufsize=20000", "a whole number from 8 to 16376"),
    ("lock", "pause=0", "a number from 0.01 to 5.0"),
])
def test_a_value_out_of_range_is_refused_naming_the_range(scenario, setting, wanted):
    with pytest.raises(BadParameter) as caught:
        scenarios.parameters(scenarios.get(scenario), [setting])
    assert caught.value.wanted == wanted and caught.value.name == setting.split("=")[0]


def test_unknown_scenario_lists_the_known_ones():
    with pytest.raises(UnknownName) as caught:
        scenarios.get("nope")
    assert caught.value.name == "nope" and "ping" in caught.value.known and "_cleanup" not in caught.value.known


def test_parameters_are_typed_like_their_defaults():
    assert scenarios.parameters(ping, ["count=9", "node=client1"])["count"] == 9
    with pytest.raises(BadParameter) as caught:
        scenarios.parameters(ping, ["count=many"])
    assert (caught.value.name, caught.value.value, caught.value.wanted) == ("count", "many", "a whole number")
    with pytest.raises(UnknownName) as caught:
        scenarios.parameters(ping, ["colour=blue"])
    assert caught.value.name == "colour"


def summary(host, ip, rtts, sent=3, addresses=None):
    return {"host": host, "ip": ip, "addresses": addresses or [ip], "sent": sent, "received": len(rtts),
            "rtt_ms": rtts}


NODES = [FakeNode("server", "server", "10.0.0.2"), FakeNode("client1", "client", "10.0.0.3")]


def test_by_ip_fails_when_a_pair_loses_echoes():
    good = {"server": {"10.0.0.3": summary("10.0.0.3", "10.0.0.3", [0.2] * 3)},
            "client1": {"10.0.0.2": summary("10.0.0.2", "10.0.0.2", [0.3] * 3)}}
    assert ping.by_ip(NODES, good).passed
    lossy = {**good, "client1": {"10.0.0.2": summary("10.0.0.2", "10.0.0.2", [0.3])}}
    step = ping.by_ip(NODES, lossy)
    assert not step.passed and step.facts["lost_pairs"] == ["client1→server"]


def test_by_ip_says_under_a_millisecond_only_when_it_was():
    fast = {"server": {"10.0.0.3": summary("10.0.0.3", "10.0.0.3", [0.2] * 3)},
            "client1": {"10.0.0.2": summary("10.0.0.2", "10.0.0.2", [0.3] * 3)}}
    slow = {"server": {"10.0.0.3": summary("10.0.0.3", "10.0.0.3", [2.5] * 3)},
            "client1": {"10.0.0.2": summary("10.0.0.2", "10.0.0.2", [3.0] * 3)}}
    said_fast, said_slow = ping.by_ip(NODES, fast).why, ping.by_ip(NODES, slow).why
    assert "0.250" in said_fast and "2.750" in said_slow  # the median measured, in whichever sentence fits it
    assert said_fast.replace("0.250", "X") != said_slow.replace("2.750", "X"), "a slow bridge is not called fast"


def test_by_ip_tells_round_trips_within_a_machine_from_those_between_machines():
    nodes = [FakeNode("server", "server", "10.0.0.2", machine="m1"), FakeNode("client1", "client", "10.0.0.3",
                                                                               machine="m2"),
             FakeNode("worker1", "worker", "10.0.0.4", machine="m1")]
    pings = {"server": {"10.0.0.3": summary("10.0.0.3", "10.0.0.3", [0.5] * 3),
                        "10.0.0.4": summary("10.0.0.4", "10.0.0.4", [0.1] * 3)}}
    step = ping.by_ip(nodes, pings)
    assert step.facts["rtt_p50_same_machine_ms"] == 0.1 and step.facts["rtt_p50_across_machines_ms"] == 0.5
    assert "between machines 0.500 ms" in step.observed and "VXLAN" in step.why
    assert ping.by_ip(NODES, {"server": {"10.0.0.3": summary("10.0.0.3", "10.0.0.3", [0.2] * 3)}}).facts[
        "rtt_p50_across_machines_ms"] is None, "under Compose every pair is on one machine"


def test_by_name_fails_when_a_name_resolves_outside_its_service():
    pings = {"server": {"client": summary("client", "10.0.0.3", [0.2] * 3)},
             "client1": {"server": summary("server", "10.0.0.3", [0.2] * 3)}}
    step = ping.by_name(NODES, pings)
    assert not step.passed and "client1→server=10.0.0.3" in step.observed
    right = {"server": {"client": summary("client", "10.0.0.3", [0.2] * 3)},
             "client1": {"server": summary("server", "10.0.0.2", [0.2] * 3)}}
    assert ping.by_name(NODES, right).passed


def test_by_name_fails_when_a_name_resolves_to_the_pinger_itself_or_misses_replicas():
    nodes = NODES + [FakeNode("client2", "client", "10.0.0.4")]
    itself = {"client1": {"client": summary("client", "10.0.0.3", [0.1] * 3, addresses=["10.0.0.3", "10.0.0.4"])}}
    assert "client1→client=10.0.0.3" in ping.by_name(nodes, itself).observed
    missing = {"server": {"client": summary("client", "10.0.0.3", [0.1] * 3)}}
    step = ping.by_name(nodes, missing)
    assert not step.passed and "not every replica" in step.observed


def test_added_delay_needs_the_delay_to_appear_and_to_go():
    target = NODES[0]
    before = {"client1": {target.ip: summary(target.ip, target.ip, [0.2] * 3)}}
    during = {"client1": {target.ip: summary(target.ip, target.ip, [50.3] * 3)}}
    assert ping.added_delay(target, 50, before, during, before).passed
    assert not ping.added_delay(target, 50, before, before, before).passed  # no delay seen
    assert not ping.added_delay(target, 50, before, during, during).passed  # delay not lifted
    step = ping.added_delay(target, 50, before, during, before)
    assert step.facts["added_ms"] == {"client1": 50.1}


def test_result_passes_only_when_every_step_passes():
    ok, bad = Step("a", "step a", True, "e", "o", "w"), Step("b", "step b", False, "e", "o", "w", {"x": 1})
    assert Result("s", {}, [ok]).passed
    assert not Result("s", {}, [ok, bad]).passed
    assert not Result("s", {}, []).passed
    data = Result("s", {"n": 1}, [ok, bad]).to_dict()
    assert data["passed"] is False and data["scenario"] == "s"
    assert set(data["steps"][1]) == {"key", "name", "passed", "expected", "observed", "why", "facts"}
    assert Result("s", {}, [ok, bad]).step("b") is bad


def test_a_result_says_what_it_is_and_keeps_the_scenario_key():
    step = Step("a", "one", True, "e", "o", "w")
    lesson = Result("sticky", {}, [step]).to_dict()
    assert lesson["scenario"] == lesson["name"] == "sticky" and lesson["kind"] == "scenario"
    check = Result("framing", {}, [step], kind="check").to_dict()
    assert check["exercise"] == check["name"] == "framing" and check["kind"] == "check" and "scenario" not in check


def test_a_result_refuses_missing_or_repeated_step_keys():
    with pytest.raises(ValueError, match="key of its own"):
        Result("s", {}, [Step("a", "one", True, "e", "o", "w"), Step("a", "two", True, "e", "o", "w")])
    with pytest.raises(ValueError, match="key of its own"):
        Result("s", {}, [Step("", "one", True, "e", "o", "w")])


def test_notes_reach_the_result_and_the_table():
    from orchestrator import report
    result = Result("queue", {}, [Step("a", "step a", True, "e", "o", "w")], notes=["it speaks pickle"])
    assert result.to_dict()["notes"] == ["it speaks pickle"]
    console = Console(width=100, record=True, file=io.StringIO())
    console.print(report.result_table(result))
    assert "note: it speaks pickle" in console.export_text()
    from orchestrator.scenarios import queue
    lesson = Result("queue", {}, [Step("a", "step a", True, "e", "o", "w")], notes=[_(n) for n in queue.NOTES])
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(report.result_table(lesson))
    shown = " ".join(console.export_text().split())  # the caption wraps; the words stay
    assert len(queue.NOTES) == 2 and all(" ".join(note.split()[:6]) in shown for note in lesson.notes)


class SerialServerClient:
    """A client node whose every command ran on a server that serves one connection at a time: the clients'
    own waits add up to far more than the wall clock, yet the commands never overlapped."""
    clock = [1000.0]

    def __init__(self, name):
        self.name = name

    def program(self, name, *args, **options):
        tag = args[-1].split(";")[0].split()[1]
        start = self.clock[0]
        self.clock[0] += 0.5
        return {"results": [{"stdout_head": f"{tag}\n{start:.3f}\n{start + 0.5:.3f}\n"}]}


def test_concurrent_clients_fails_a_server_that_runs_one_command_at_a_time():
    from orchestrator.scenarios import remote_exec
    step = remote_exec.concurrency_step([SerialServerClient("client1"), SerialServerClient("client2")],
                                        {"clients_per_node": 5})
    assert step.facts["wrong"] == [] and step.facts["peak_overlap"] == 1 and not step.passed


def test_peak_overlap_counts_what_runs_at_one_instant():
    from orchestrator.scenarios.remote_exec import peak_overlap
    assert peak_overlap([(0, 1), (0.5, 2), (0.9, 1.5), (2.5, 3)]) == 3
    assert peak_overlap([(0, 1), (1, 2)]) == 1  # one ends as the next starts: never two at once


def test_concurrency_says_models_and_waits_in_words_not_dicts():
    from orchestrator.scenarios import concurrency
    measured = {m: {"seconds": 1.6 if m == "iterative" else 0.2, "p50_ms": 200, "p95_ms": 210,
                    "bad_clients": {"good_reply": "ok", "garbage_reply": "error: bad", "good_latency_ms": 1003.1
                                    if m == "iterative" else 2.0}} for m in concurrency.MODELS}
    step = concurrency.io_step(measured, {"clients": 8, "io_ms": 200, "idle": 1.0})
    assert "{" not in step.observed and "a thread per client" in step.observed
    assert "iterative answered it after 1003.1 ms" in step.observed
