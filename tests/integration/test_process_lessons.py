"""processes, lock and concurrency on the lab: each lesson must show, or this fails."""
import pytest

from orchestrator import scenarios

STORE_ABUSE = r"""
import socket, struct, sys
sys.path.insert(0, '/opt/socklab')
from nodes import framing
def closed(s):
    try:
        return s.recv(100) == b''
    except ConnectionResetError:
        return True
s = socket.create_connection(('server', 7100), timeout=10); s.sendall(b'GET / HTTP/1.0\r\n\r\n'); assert closed(s)
s = socket.create_connection(('server', 7100), timeout=10); s.sendall(struct.pack('!I', 1 << 30)); assert closed(s)
s = socket.create_connection(('server', 7100), timeout=10); framing.send_frame(s, kind='read')
print(framing.read_frame(s, timeout=5).header['count'])
"""


def run(lab, name, *settings):
    result = scenarios.run(name, lab, list(settings))
    assert result.passed, [(s.name, s.observed) for s in result.steps if not s.passed]
    return {step.name: step.facts for step in result.steps}


@pytest.fixture(scope="module")
def processes(lab):
    return run(lab, "processes")


def test_zombie_seen_then_gone(processes):
    facts = processes["zombie until joined"]
    assert facts["before_join"]["stat"].startswith("Z") and "<defunct>" in facts["before_join"]["args"]
    assert facts["after_join"] is None


def test_children_and_orphans_as_ps_sees_them(processes):
    children = processes["children, pids and the process API"]
    assert set(children["ps_ppids"].values()) == {children["parent"]} and children["exitcodes"] == [-15, 0, 0]
    assert processes["orphan adopted by PID 1"]["child_after"]["ppid"] == 1


def test_zombies_accumulate_only_without_init(processes):
    facts = processes["PID 1 in a container: who reaps orphans"]
    assert facts["zombies_with_init"] == 0 and facts["zombies_without_init"] == facts["orphans"] == 5
    assert "docker-init" in facts["pid1_with_init"] and facts["pid1_without_init"] == "sleep infinity"


def test_daemons(processes):
    assert processes["a daemonic child ends with its parent"]["gone_after"]
    assert processes["daemonic processes cannot have children"]["child_said"] == \
        "AssertionError: daemonic processes are not allowed to have children"
    assert processes["nothing left running or defunct"]["left"] == {}


def test_lock_oversold_without_and_exact_with(lab):
    facts = run(lab, "lock")
    assert facts["one node, no lock: oversold"]["successful_buyers"] > 1
    assert facts["one node, multiprocessing.Lock: exactly one buyer"]["successful_buyers"] == 1
    assert facts["across nodes, no coordination: oversold"]["successful_buyers"] > 1
    across = facts["across nodes, a lease lock on the server: exactly one buyer"]
    assert across["successful_buyers"] == 1 and across["count_left"] == 0 and len(across["nodes"]) == 5
    assert facts["nothing left running or defunct"]["left"] == {}


def test_ticket_store_survives_bad_input(lab):
    store = lab.node("server").spawn(["python3", "-m", "nodes.tickets", "serve"])
    store.expect("listening")
    try:
        done = lab.node("client1").run(["python3", "-c", STORE_ABUSE])
        assert (done.exit_code, done.stdout) == (0, b"0\n"), done.stderr
    finally:
        store.stop()
    assert b"FrameTooLarge" in store.stderr


def test_concurrency_models(lab):
    facts = run(lab, "concurrency", "clients=6")
    io = facts["6 clients, each request waiting 200 ms on I/O"]["models"]
    for model in ("threads", "fork", "selectors"):
        assert io["iterative"]["seconds"] >= 2 * io[model]["seconds"], (model, io)
    assert all(r["bad_clients"]["good_reply"] == "ok" for r in io.values())
    cpu = facts["4 CPU-bound requests: threads vs processes on 2 cores"]["models"]
    assert cpu["fork"]["seconds"] < cpu["threads"]["seconds"]
    assert facts["nothing left running or defunct"]["left"] == {}
