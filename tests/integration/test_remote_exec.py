"""remote-exec on the lab: the scenario's facts, and execd under bad input from a client node."""
import pytest

from orchestrator import scenarios
from tests.integration.conftest import assert_passed

ABUSE = r"""
import socket, struct, sys, time
sys.path.insert(0, '/opt/socklab')
from nodes.lib import execproto, framing
def connect():
    return socket.create_connection(('server', 7000), timeout=10)
def authed():
    s = connect(); execproto.client_handshake(s, execproto.load_key()); return s
def closed_by_server(s):
    try:
        return s.recv(100) == b''
    except ConnectionResetError:
        return True
half = connect()   # half-open: connects, takes the challenge, says nothing
framing.read_frame(half, timeout=5)
started = time.monotonic()
s = connect(); framing.read_frame(s, timeout=5); s.sendall(b'GET / HTTP/1.0\r\n\r\n'); assert closed_by_server(s)
s = authed(); s.sendall(struct.pack('!I', 0xFFFFFFFF) + b'x' * 64); assert closed_by_server(s)
s = authed(); framing.send_frame(s, kind='exec', command='head -c 50000000 /dev/zero', timeout=10)
s.recv(1000); s.close()   # vanishes mid-output
s = authed(); framing.send_frame(s, kind='exec', command='sleep 1000', timeout=1)
assert framing.read_frame(s, timeout=10).header['timed_out']; s.close()
assert closed_by_server(half)
print(f"half-open dropped after {time.monotonic() - started:.1f} s")
"""


@pytest.fixture(scope="module")
def remote_exec(lab):
    return scenarios.run("remote-exec", lab, {"repeat": 50})


def test_every_step_passed(remote_exec):
    assert_passed(remote_exec)


def test_naive_reply_to_pwd_is_seqs_leftover(remote_exec):
    facts = remote_exec.step("naive-leftover").facts
    assert facts["pwd_reply_from"] == "seq" and facts["leftover_in_pwd_reply"] > 0
    assert facts["replies"][1]["reply_size"] <= 1024 < facts["seq_output_bytes"]


def test_framed_outputs_are_exact_and_match_ssh(remote_exec):
    checks = remote_exec.step("framed-exact").facts["checks"]
    assert all(checks.values()) and len(checks) == 6
    assert remote_exec.step("ssh-agrees").facts["differ"] == []


def test_os_system_output_stays_on_the_server(remote_exec):
    facts = remote_exec.step("os-system-vs-popen").facts
    assert facts["system"]["stdout_size"] == 0 and facts["system"]["wait_status"] == 768
    assert facts["output_on_server_stdout"] and facts["popen"]["stdout_head"] == "from-os-system\n"


def test_auth_refusal_has_no_side_effect(remote_exec):
    facts = remote_exec.step("auth-refused").facts
    assert facts["forged_exit"] == 2 and "authentication failed" in facts["forged_error"]
    assert facts["side_effect"] is False


def test_ten_concurrent_clients_are_all_correct(remote_exec):
    facts = remote_exec.step("concurrent-clients").facts
    assert facts["clients"] == 10 and facts["wrong"] == [] and facts["seconds"] < 10 * facts["command_s"] / 2
    assert facts["peak_overlap"] > 5 and len(facts["server_intervals"]) == 10, "the server ran them together"


def test_framed_is_faster_than_ssh(remote_exec):
    facts = remote_exec.step("framed-vs-ssh").facts
    assert facts["true"]["framed"]["p50_ms"] < facts["true"]["ssh"]["p50_ms"]


def test_execd_survives_bad_input_and_leaves_no_process(lab):
    server, client = lab.node("server"), lab.node("client2")
    with server.serve("execd", "--idle", 2, "--timeout", 30) as execd:
        abuse = client.run(["python3", "-c", ABUSE])
        assert abuse.exit_code == 0 and abuse.stdout.startswith(b"half-open dropped"), abuse.stderr
        good = client.run(["python3", "-m", "nodes.rexec", "server", "--", "echo", "still serving"])
        assert (good.exit_code, good.stdout) == (0, b"still serving\n")
        log = execd.stderr.decode()
        assert log.count("FrameTooLarge") == 2 and "PeerStalled" in log, log
        assert "BrokenPipeError" in log or "ConnectionResetError" in log, "the vanished client is reported"
    done = execd.wait()
    assert done.exit_code == 0 and b'"errors"' in done.stdout
    assert server.leftovers("sleep 1000", "head -c") == []
