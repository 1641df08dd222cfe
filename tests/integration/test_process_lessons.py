"""processes, lock and concurrency on the lab: each lesson must show, or this fails."""
import pytest

from orchestrator import scenarios
from tests.integration.conftest import assert_passed

STORE_ABUSE = r"""
import socket, struct, sys
sys.path.insert(0, '/opt/socklab')
from nodes.lib import framing
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


def run(lab, name, **params):
    result = assert_passed(scenarios.run(name, lab, params))
    return {step.key: step.facts for step in result.steps}


@pytest.fixture(scope="module")
def processes(lab):
    return run(lab, "processes")


def test_zombie_seen_then_gone(processes):
    facts = processes["zombie"]
    assert facts["before_join"]["stat"].startswith("Z") and "<defunct>" in facts["before_join"]["args"]
    assert facts["after_join"] is None


def test_children_and_orphans_as_ps_sees_them(processes):
    children = processes["children"]
    assert set(children["ps_ppids"].values()) == {children["parent"]} and children["exitcodes"] == [-15, 0, 0]
    assert set(children["seen_from_inside"].values()) == {children["parent"]}, "os.getppid() inside the child"
    assert processes["terminate-is-asynchronous"]["alive_right_after_terminate"] is True
    assert processes["implicit-join"]["program_seconds"] >= processes["implicit-join"]["child_seconds"]
    assert processes["orphan"]["child_after"]["ppid"] == 1


def test_zombies_accumulate_only_without_init(processes):
    facts = processes["pid1-reaps"]
    assert facts["zombies_with_init"] == 0 and facts["zombies_without_init"] == facts["orphans"] == 5
    assert "docker-init" in facts["pid1_with_init"] and facts["pid1_without_init"] == "sleep infinity"


def test_daemons(processes):
    assert processes["daemon-ends"]["gone_after"]
    main_code = processes["daemon-ends-with-main-code"]  # the daemon goes with the main code, not the process
    assert main_code["daemon_gone"] and main_code["parent_alive_then"] and main_code["ordinary_alive_then"]
    killed = processes["daemon-outlives-killed-parent"]  # no exit handler, no ending of daemons
    assert killed["survived"] and killed["new_ppid"] not in (None, killed["parent"])
    assert processes["daemon-no-children"]["child_said"] == \
        "AssertionError: daemonic processes are not allowed to have children"
    assert processes["nothing-left"]["left"] == {}


def test_lock_oversold_without_and_exact_with(lab):
    facts = run(lab, "lock")
    assert facts["local-oversold"]["successful_buyers"] > 1
    assert facts["local-lock"]["successful_buyers"] == 1
    assert facts["remote-oversold"]["successful_buyers"] > 1
    across = facts["remote-lease-lock"]
    assert across["successful_buyers"] == 1 and across["count_left"] == 0 and len(across["nodes"]) == 5
    fencing = facts["fencing-token"]
    assert fencing["holder"]["write"] == "fenced" and fencing["unfenced_write"] == "fenced"
    assert fencing["other"]["successful_buyers"] == 1 and fencing["waited_s"] >= 0.5 * fencing["lease_s"]
    assert facts["nothing-left"]["left"] == {}


def test_ticket_store_survives_bad_input(lab):
    with lab.node("server").serve("tickets", "serve") as store:
        done = lab.node("client1").run(["python3", "-c", STORE_ABUSE])
        assert (done.exit_code, done.stdout) == (0, b"0\n"), done.stderr
    assert b"FrameTooLarge" in store.stderr


def test_concurrency_models(lab):
    facts = run(lab, "concurrency", clients=6)
    io = facts["io-bound-models"]["models"]
    for model in ("threads", "fork", "selectors"):
        assert io["iterative"]["seconds"] >= 2 * io[model]["seconds"], (model, io)
    assert all(r["bad_clients"]["good_reply"] == "ok" for r in io.values())
    waited = facts["io-bound-models"]["good_client_waited_ms"]
    assert waited["iterative"] >= 800 > 2 * max(waited[m] for m in ("threads", "fork", "selectors"))
    one_core = facts["one-core-concurrency"]
    assert one_core["one_core_slowdown"] >= 1.4 and one_core["p50_over_p95"] >= 0.85
    cpu = facts["cpu-bound-threads-vs-processes"]["models"]
    assert cpu["fork"]["seconds"] < cpu["threads"]["seconds"]
    assert facts["nothing-left"]["left"] == {}


def test_ipc_pipe_and_queue_internals(lab):
    facts = run(lab, "ipc", mib=8)
    assert facts["pipe-two-ends"]["one_way_send"].startswith("OSError")
    feeder = facts["queue-feeder-thread"]
    assert feeder["put_returned_after_s"] < feeder["arrived_after_s"] / 5 and feeder["bytes"] == 8 << 20
    assert facts["join-before-get"]["alive_after_join_2s"] and facts["join-before-get"]["exitcode_after_get"] == 0
    assert facts["joinable-queue"]["done_when_join_returned"] == 20
    assert facts["full-empty-nowait"]["third_put_nowait"] == "queue.Full"


def test_socket_life(lab):
    facts = run(lab, "socket-life")
    assert facts["recv-empty-at-close"]["after_close"] == "" and facts["recv-empty-at-close"]["empty_recvs_in_100ms"] > 1000
    assert facts["time-wait-reuseaddr"]["bind_again"] == "EADDRINUSE"
    assert facts["time-wait-reuseaddr"]["old_without_reuseaddr"]["bind_again_with_so_reuseaddr"] == "EADDRINUSE"
    assert facts["empty-reply-hangs"]["outcome"] == "still waiting after 2 s"
    assert facts["commands-merged"]["server_received"] == ["pwdls"]
