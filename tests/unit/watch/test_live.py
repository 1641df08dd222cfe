"""The Watcher over two pretend nodes of this host, 127.0.0.1 and 127.0.0.2: a connection between them opens,
carries bytes each way, closes; each is an event, and the traffic is per pair and direction."""
import os
import socket
import subprocess
import time
from types import SimpleNamespace

import pytest

from orchestrator.watch import live


class FakeLab:
    backend, project = SimpleNamespace(name="compose"), "unit"

    def __init__(self):
        self.nodes_ = [SimpleNamespace(name=name, service=name, ip=ip, machine_name="", container=None)
                       for name, ip in (("server", "127.0.0.2"), ("client1", "127.0.0.1"))]

    def nodes(self):
        return self.nodes_

    def faults(self):
        return []


@pytest.fixture
def watcher(monkeypatch):
    monkeypatch.setattr(live, "host_pids", lambda nodes: {node.name: os.getpid() for node in nodes})
    watcher = live.Watcher(FakeLab())
    yield watcher
    watcher.close()


def test_a_connection_opens_carries_bytes_and_closes(watcher):
    listener = socket.create_server(("127.0.0.2", 0))
    watcher.sample()
    client = socket.create_connection(listener.getsockname(), source_address=("127.0.0.1", 0))
    server, _ = listener.accept()
    port = listener.getsockname()[1]
    mine = lambda sample: [c for c in sample["connections"] if port in (c["a_port"], c["b_port"])]
    first = watcher.sample()
    assert [(c["a"], c["b"], sorted(c["states"].values())) for c in mine(first)] == \
        [("client1", "server", ["ESTABLISHED", "ESTABLISHED"])]
    client.sendall(b"x" * 100_000)
    got = 0
    while got < 100_000:
        got += len(server.recv(1 << 20))
    server.sendall(b"y" * 1000)
    client.recv(1000)
    deadline = time.monotonic() + 5  # counted once acknowledged: a delayed ACK comes up to 40 ms later
    while not any(s.local == ("127.0.0.2", port) and s.bytes_out >= 1000 for s in watcher.tables["server"].tcp()):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    flowing = watcher.sample()
    rates = {(link["from"], link["to"]): link for link in flowing["links"]}
    assert rates[("client1", "server")]["bytes_per_s"] > rates[("server", "client1")]["bytes_per_s"] > 0
    assert rates[("client1", "server")]["packets_per_s"] > 0
    client.close()
    server.close()
    closing = watcher.sample()
    assert any(state == "TIME-WAIT" for c in mine(closing) for state in c["states"].values())
    kinds = [event["kind"] for event in closing["events"] if port in (event.get("a_port"), event.get("b_port"))]
    assert kinds == ["connection-opened", "connection-closing"]
    listener.close()
    assert all(n["here"] for n in closing["nodes"])
    assert any(n["programs"] for n in closing["nodes"])  # this host's processes, as a pretend node's


def test_sockets_of_other_addresses_are_not_a_nodes(watcher):
    """A socket whose local address is not the node's (Docker's resolver, loopback inside the node) is left out."""
    listener = socket.create_server(("127.0.0.3", 0))
    client = socket.create_connection(listener.getsockname(), source_address=("127.0.0.4", 0))
    server, _ = listener.accept()
    port = listener.getsockname()[1]
    assert not [c for c in watcher.sample()["connections"] if port in (c["a_port"], c["b_port"])]
    for sock in (client, server, listener):
        sock.close()


def test_an_idle_node_is_not_dumped_again_until_a_segment_moves(watcher, monkeypatch):
    """The host's own counters move with anything else on it: here they are the test's to move."""
    segments = {"InSegs": 0}
    counters = lambda: {"Tcp": {**{key: 0 for key in live.TCP_MOVED}, **segments},
                        "Udp": {"InDatagrams": 0, "OutDatagrams": 0}}
    watcher.sample()
    dumps = []
    for table in watcher.tables.values():
        dump = table.tcp
        monkeypatch.setattr(table, "tcp", lambda dump=dump: dumps.append(1) or [s for s in dump() if s.state in live.STEADY])
        monkeypatch.setattr(table, "counters", counters)
    watcher.sample()  # the counters as the test has them: new to the watcher, so each node is dumped
    assert len(dumps) == 2
    watcher.sample()
    assert len(dumps) == 2  # nothing moved, only steady sockets: nothing dumped
    segments["InSegs"] = 1
    watcher.sample()
    assert len(dumps) == 4  # a segment moved: each node dumped again


def test_a_fault_sidecar_is_read_from_proc_as_its_node_holds_it(tmp_path):
    """A sidecar shares its node's network namespace: a stand-in `python3 -m nodes.faults impair …` here is
    this namespace's fault, said in words, the arguments at 0 left out."""
    (tmp_path / "nodes").mkdir()
    (tmp_path / "nodes" / "__init__.py").write_text("")
    (tmp_path / "nodes" / "faults.py").write_text("import sys, time\nprint('ready', flush=True)\ntime.sleep(30)\n")
    sidecar = subprocess.Popen(["python3", "-m", "nodes.faults", "impair", "--delay-ms=20", "--jitter-ms=0",
                                "--loss=3.0", "--rate-kbit=0"], cwd=tmp_path, stdout=subprocess.PIPE)
    try:
        assert sidecar.stdout.readline() == b"ready\n"
        _, faults = live.processes({"server": os.getpid()})
    finally:
        sidecar.kill()
        sidecar.wait()
    assert {"kind": "impair", "node": "server", "args": ["delay 20 ms", "loss 3%"]} in faults
