"""Lab logic that needs no engine: health waiting and its errors, names, subnets."""
import time

import pytest

from orchestrator.errors import NodeUnhealthy
from orchestrator.lab import Lab
from tests.unit.conftest import FakeContainer, FakeNode


def lab_with(nodes, monkeypatch):
    lab = Lab("unit")
    monkeypatch.setattr(lab, "nodes", lambda: nodes)
    return lab


def test_wait_ready_returns_once_every_node_has_said_so(monkeypatch):
    nodes = [FakeNode("server", boot_s=0.05), FakeNode("client1", boot_s=0.1)]
    assert lab_with(nodes, monkeypatch).wait_ready(timeout=5) == nodes


def test_a_silent_node_is_named_with_its_last_output(monkeypatch):
    nodes = [FakeNode("server"),
             FakeNode("worker2", container=FakeContainer("running", "starting", logs=b"resolving...\n"), boot_s=5)]
    started = time.monotonic()
    with pytest.raises(NodeUnhealthy) as caught:
        lab_with(nodes, monkeypatch).wait_ready(timeout=0.3)
    assert time.monotonic() - started < 2, "the timeout holds, whatever the stream does"
    assert (caught.value.node, caught.value.detail) == ("worker2", "resolving...")
    assert str(caught.value) == "node worker2 not ready after 0.3 s (running): resolving..."


def test_a_node_whose_boot_fails_is_named_at_once_with_its_output(monkeypatch):
    nodes = [FakeNode("server", boot_s=5),
             FakeNode("client1", container=FakeContainer("exited", None, exit_code=1,
                                                         logs=b"boot: server resolves to []\n"), ready=False)]
    started = time.monotonic()
    with pytest.raises(NodeUnhealthy) as caught:
        lab_with(nodes, monkeypatch).wait_ready(timeout=60)
    assert time.monotonic() - started < 2
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


def test_a_log_that_cannot_be_read_is_said_at_once(monkeypatch):
    class Unreadable(FakeNode):
        def booted(self, follow=False):
            raise RuntimeError("configured logging driver does not support reading")
    started = time.monotonic()
    with pytest.raises(NodeUnhealthy) as caught:
        lab_with([Unreadable("server")], monkeypatch).wait_ready(timeout=60)
    assert time.monotonic() - started < 2 and "does not support reading" in caught.value.detail
