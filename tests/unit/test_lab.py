"""Lab logic that needs no engine: health waiting and its errors, names, subnets."""
import pytest

from orchestrator.errors import LabError
from orchestrator.lab import Lab


class FakeContainer:
    def __init__(self, status, health, log=(), exit_code=0, logs=b""):
        self.status = status
        self.attrs = {"State": {"Status": status, "ExitCode": exit_code,
                                "Health": {"Status": health, "Log": [{"Output": o} for o in log]}}}
        self._logs = logs

    def logs(self, tail):
        return self._logs


class FakeNode:
    def __init__(self, name, container):
        self.name, self.container = name, container
        self.health = container.attrs["State"]["Health"]["Status"] or container.status


def lab_with(nodes, monkeypatch):
    lab = Lab("unit")
    monkeypatch.setattr(lab, "nodes", lambda: nodes)
    return lab


def test_wait_healthy_returns_the_healthy_nodes(monkeypatch):
    nodes = [FakeNode("server", FakeContainer("running", "healthy"))]
    assert lab_with(nodes, monkeypatch).wait_healthy(timeout=1) == nodes


def test_unhealthy_node_is_named_with_its_last_check_output(monkeypatch):
    nodes = [FakeNode("server", FakeContainer("running", "healthy")),
             FakeNode("worker2", FakeContainer("running", "unhealthy", ["first", "no route to server\n"]))]
    with pytest.raises(LabError, match=r"node worker2 not healthy after 0.3 s \(unhealthy\): no route to server$"):
        lab_with(nodes, monkeypatch).wait_healthy(timeout=0.3)


def test_exited_node_fails_at_once_with_its_output(monkeypatch):
    nodes = [FakeNode("client1", FakeContainer("exited", None, exit_code=1, logs=b"boot: server resolves to []\n"))]
    with pytest.raises(LabError, match=r"node client1 exited with 1: boot: server resolves to \[\]"):
        lab_with(nodes, monkeypatch).wait_healthy(timeout=60)


def test_subnets_differ_by_project_so_labs_sit_side_by_side(monkeypatch):
    monkeypatch.delenv("SOCKLAB_SUBNET", raising=False)
    assert Lab("socklab").subnet != Lab("socklabtest").subnet
    assert Lab("socklab").subnet == Lab("socklab").subnet
    monkeypatch.setenv("SOCKLAB_SUBNET", "10.9.9.0/24")
    assert Lab("socklab").subnet == "10.9.9.0/24"
