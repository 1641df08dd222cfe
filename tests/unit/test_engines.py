"""The engine seam without an engine: the stack derived from compose.yaml, placement, which backend a lab
uses, and a node reached through its own machine's engine."""
import json

import pytest
import requests.exceptions

from orchestrator import engines, labels
from orchestrator.cli import placement as parsed_placement
from orchestrator.engines import Machine, stack
from orchestrator.engines.compose import ComposeEngine
from orchestrator.engines.swarm import SwarmEngine, current
from orchestrator.topology import COMPOSE_FILE
from orchestrator.errors import BadParameter, EngineUnavailable
from orchestrator.fault import Fault
from orchestrator.node import Node

SECRETS = "/labs/demo"


def derived(nodes=(("server", "server", 1, "m1"), ("client1", "client", 1, "m2"), ("worker1", "worker", 1, "m3"))):
    variables = {"SOCKLAB_IMAGE": "socklab-node:abc", "SOCKLAB_SECRETS": SECRETS, "SOCKLAB_WORKSPACE": "/home/me/ws",
                 "SOCKLAB_SUBNET": "10.213.9.0/24"}
    return stack.stack(COMPOSE_FILE.read_text(), "demo", variables, list(nodes), SECRETS)


def test_the_stack_has_one_service_per_node_pinned_to_its_machine_and_named_as_under_compose():
    spec = derived()
    assert list(spec["services"]) == ["server", "client1", "worker1"]
    client = spec["services"]["client1"]
    assert client["image"] == "socklab-node:abc" and client["hostname"] == "client1"
    assert client["networks"] == {"lab": {"aliases": ["client"]}}, "`client` resolves to every client"
    assert client["deploy"]["placement"]["constraints"] == ["node.id == m2"]
    assert client["deploy"]["endpoint_mode"] == "dnsrr", "names resolve to the tasks' own addresses"
    assert client["deploy"]["restart_policy"] == {"condition": "none"}, "a killed node stays down"
    assert client["labels"][labels.SERVICE] == "client" and client["labels"][labels.NUMBER] == "1"
    assert client["environment"]["SOCKLAB_SERVICE"] == "client"
    assert "healthcheck" not in client, "swarm would replace a paused node as unhealthy"


def test_keys_become_swarm_secrets_where_compose_mounts_them_and_the_workspace_stays_a_bind():
    spec = derived()
    assert spec["secrets"] == {"execd": {"file": f"{SECRETS}/execd.key", "name": "demo_execd"},
                               "queue": {"file": f"{SECRETS}/queue.key", "name": "demo_queue"}}
    targets = {name: [s["target"] for s in service["secrets"]] for name, service in spec["services"].items()}
    assert targets["server"] == ["/run/socklab/execd.key", "/run/socklab/queue.key"]
    assert targets["worker1"] == ["/run/socklab/queue.key"], "workers never held execd's key under Compose either"
    assert spec["services"]["worker1"]["volumes"] == ["/home/me/ws:/workspace"]


def test_the_network_is_an_attachable_overlay_on_the_labs_subnet():
    assert derived()["networks"] == {"lab": {"driver": "overlay", "attachable": True,
                                             "ipam": {"config": [{"subnet": "10.213.9.0/24"}]}}}


def test_interpolation_takes_values_then_defaults():
    assert stack.interpolate("${A:?no}/${B:-x}/${C}", {"A": "1"}) == "1/x/"


def swarm_of(*names):
    swarm = SwarmEngine("unix:///nowhere")
    swarm._machines = [Machine(name, f"unix:///{name}", object(), id=f"id-{name}") for name in names]
    return swarm


def test_the_lab_spreads_over_the_machines_in_turn():
    chosen = {name: machine.name for name, _, _, machine in swarm_of("e1", "e2", "e3").placement(3, {}, {})}
    assert chosen == {"server": "e1", "client1": "e2", "client2": "e3", "worker1": "e1", "worker2": "e2",
                      "worker3": "e3"}


def test_a_pinned_node_goes_where_asked_and_a_running_one_stays_where_it_is():
    chosen = {name: machine.name for name, _, _, machine in
              swarm_of("e1", "e2").placement(1, {"server": "e2"}, {"client1": "e2"})}
    assert chosen["server"] == "e2" and chosen["client1"] == "e2"


def test_a_service_pins_all_its_nodes_and_an_unknown_node_is_refused():
    chosen = {name: machine.name for name, _, _, machine in swarm_of("e1", "e2", "e3").placement(2, {"worker": "e3"}, {})}
    assert chosen["worker1"] == chosen["worker2"] == "e3" and chosen["server"] == "e1"
    with pytest.raises(BadParameter) as caught:
        swarm_of("e1").placement(2, {"worker7": "e1"}, {})
    assert caught.value.value == "worker7" and "worker2" in str(caught.value)


def test_one_container_per_node_the_running_one_else_the_newest():
    def container(name, status, created):
        return type("C", (), {"labels": {"com.docker.swarm.service.name": f"demo_{name}"}, "status": status,
                              "attrs": {"Created": created}})()
    killed, back, old = container("worker2", "exited", "2"), container("worker2", "running", "3"), container("worker3", "exited", "1")
    newer = container("worker3", "exited", "4")
    found = current([("m", killed), ("m", back), ("m", old), ("m", newer)], "demo")
    assert [c for _, c in found] == [back, newer]


def test_a_pin_to_an_unknown_machine_names_the_known_ones():
    with pytest.raises(BadParameter) as caught:
        swarm_of("e1", "e2").placement(1, {"server": "e9"}, {})
    assert caught.value.value == "e9" and "e1 | e2" in str(caught.value)


def test_a_machine_whose_engine_does_not_answer_is_named():
    swarm = swarm_of("e1")
    swarm._machines.append(Machine("e2", "ssh://e2", None, "connection refused"))
    assert {m.name for _, _, _, m in swarm.placement(1, {}, {})} == {"e1"}, "the lab goes where engines answer"
    with pytest.raises(EngineUnavailable, match="machine e2 does not answer: connection refused"):
        swarm.placement(1, {}, {"client1": "e2"})


def test_placement_is_parsed_from_repeated_or_comma_separated_pairs():
    assert parsed_placement(["server=e2,client1=e3", "worker1=e1"]) == {"server": "e2", "client1": "e3",
                                                                        "worker1": "e1"}
    with pytest.raises(BadParameter):
        parsed_placement(["server"])


def test_a_client_given_means_compose_whatever_the_environment_says(monkeypatch):
    monkeypatch.setenv("SOCKLAB_ENGINE", "swarm")
    assert isinstance(engines.for_lab("demo", client=object()), ComposeEngine)


def test_a_corrupt_record_is_no_record():
    engines.record_path("demo").parent.mkdir(parents=True)
    engines.record_path("demo").write_text("{not json")
    assert isinstance(engines.for_lab("demo"), ComposeEngine)


def test_the_flag_keeps_the_recorded_manager(monkeypatch):
    engines.remember("demo", SwarmEngine("ssh://me@manager"))
    monkeypatch.setenv("SOCKLAB_MANAGER", "unix:///elsewhere.sock")
    assert engines.for_lab("demo", "swarm").manager_url == "ssh://me@manager"


def test_a_lab_is_found_where_its_last_up_put_it_unless_the_flag_or_environment_says(monkeypatch):
    assert isinstance(engines.for_lab("demo"), ComposeEngine)
    engines.remember("demo", SwarmEngine("unix:///m.sock"))
    found = engines.for_lab("demo")
    assert isinstance(found, SwarmEngine) and found.manager_url == "unix:///m.sock"
    assert isinstance(engines.for_lab("demo", "compose"), ComposeEngine)
    monkeypatch.setenv("SOCKLAB_ENGINE", "compose")
    assert isinstance(engines.for_lab("demo"), ComposeEngine)
    monkeypatch.setenv("SOCKLAB_ENGINE", "k8s")
    with pytest.raises(BadParameter):
        engines.for_lab("demo")


def test_the_record_says_the_engine_and_its_manager():
    engines.remember("demo", SwarmEngine("ssh://me@manager"))
    assert json.loads(engines.record_path("demo").read_text()) == {"engine": "swarm", "manager": "ssh://me@manager"}


class Container:
    id = "c1"
    labels = {labels.SERVICE: "client", labels.NUMBER: "2", labels.STACK: "demo"}


class Refusing:
    class api:
        @staticmethod
        def exec_create(*args, **kwargs):
            raise requests.exceptions.ConnectionError("connection refused")


def test_a_swarm_node_is_named_by_its_labels_and_reached_through_its_machine():
    machine = Machine("engine3", "unix:///e3", Refusing())
    node = Node(lab=None, container=Container(), machine=machine)
    assert node.name == "client2" and node.machine_name == "engine3" and node.engine is machine.client
    with pytest.raises(EngineUnavailable, match="engine of machine engine3 stopped answering: connection refused"):
        node.run(["true"])
    machine.client, machine.error = None, "refused"
    with pytest.raises(EngineUnavailable, match="machine engine3 \\(node client2\\) does not answer"):
        node.engine  # never another engine in its place


def test_faults_are_found_on_every_engine():
    class Engine:
        def __init__(self, *nodes):
            self.nodes = nodes

        @property
        def containers(self):
            return self

        def list(self, all, filters):
            assert f"{labels.FAULT_PROJECT}=demo" in filters["label"]
            return [type("Sidecar", (), {"labels": {labels.FAULT_KIND: "impair", labels.FAULT_NODE: n}})()
                    for n in self.nodes]
    assert [f.node for f in Fault.find([Engine("server"), Engine("client1", "client2")], "demo")] == \
        ["server", "client1", "client2"]
