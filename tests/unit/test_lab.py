"""Lab logic that needs no engine: health waiting and its errors, names, subnets."""
import pytest

from orchestrator.errors import NodeUnhealthy
from orchestrator.lab import Lab
from tests.unit.conftest import FakeContainer, FakeNode


def lab_with(nodes, monkeypatch):
    lab = Lab("unit")
    monkeypatch.setattr(lab, "nodes", lambda: nodes)
    return lab


def test_wait_healthy_returns_the_healthy_nodes(monkeypatch):
    nodes = [FakeNode("server")]
    assert lab_with(nodes, monkeypatch).wait_healthy(timeout=1) == nodes


def test_unhealthy_node_is_named_with_its_last_check_output(monkeypatch):
    nodes = [FakeNode("server"),
             FakeNode("worker2", container=FakeContainer("running", "unhealthy", ["first", "no route to server\n"]))]
    with pytest.raises(NodeUnhealthy) as caught:
        lab_with(nodes, monkeypatch).wait_healthy(timeout=0.3)
    assert (caught.value.node, caught.value.detail) == ("worker2", "no route to server")


def test_exited_node_fails_at_once_with_its_output(monkeypatch):
    nodes = [FakeNode("client1", container=FakeContainer("exited", None, exit_code=1,
                                                         logs=b"boot: server resolves to []\n"))]
    with pytest.raises(NodeUnhealthy) as caught:
        lab_with(nodes, monkeypatch).wait_healthy(timeout=60)
    assert caught.value.node == "client1" and caught.value.detail == "boot: server resolves to []"
    assert str(caught.value) == "node client1 exited with 1: boot: server resolves to []"


def test_subnets_differ_by_project_so_labs_sit_side_by_side(monkeypatch):
    monkeypatch.delenv("SOCKLAB_SUBNET", raising=False)
    assert Lab("socklab").subnet != Lab("socklabtest").subnet
    assert Lab("socklab").subnet == Lab("socklab").subnet
    monkeypatch.setenv("SOCKLAB_SUBNET", "10.9.9.0/24")
    assert Lab("socklab").subnet == "10.9.9.0/24"


def test_every_public_method_of_the_lab_api_says_what_it_does():
    from orchestrator.fault import Fault
    from orchestrator.node import Node, Process
    def function(member):  # a property's getter, a classmethod's function, or the method itself
        return getattr(member, "fget", None) or getattr(member, "__func__", None) or member
    public = {f"{cls.__name__}.{name}": function(member) for cls in (Lab, Node, Process, Fault)
              for name, member in vars(cls).items() if not name.startswith("_") and callable(function(member))}
    assert "Fault.find" in public and "Node.serve" in public
    assert [name for name, f in public.items() if not (f.__doc__ or "").strip()] == []
