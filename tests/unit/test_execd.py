"""execd's protocol handling, in process over loopback: no Docker."""
import socket
import subprocess
import threading
import time

import pytest

from nodes.lib import execproto, framing
from nodes.execd import Execd, execute
from nodes.rexec import Session

KEY = b"0123456789abcdef" * 4


@pytest.fixture
def execd():
    server = Execd(KEY, timeout=2, limit=1 << 20, max_sessions=2, idle=1, grace=1)
    ports = {}
    for name in ("framed", "naive"):
        listener = socket.create_server(("127.0.0.1", 0))
        ports[name] = listener.getsockname()[1]
        threading.Thread(target=server.accept, args=(listener, getattr(server, name)), daemon=True).start()
    server.ports = ports
    return server


def session(execd, key=KEY, naive=False):
    return Session("127.0.0.1", execd.ports["naive" if naive else "framed"], key, naive=naive, timeout=10)


def closed_by_peer(sock):
    sock.settimeout(5)
    try:
        return sock.recv(100) == b""
    except ConnectionResetError:
        return True


def test_framed_results_are_exact_and_separate(execd):
    s = session(execd)
    header, out, err = s.run("printf 'out\\377'; printf err >&2; exit 4")
    assert (header["exit_code"], out, err) == (4, b"out\xff", b"err")
    assert header["stdout_size"] == 4 and header["stderr_size"] == 3 and not header["timed_out"]
    header, out, _ = s.run("seq 1 5000")
    assert out == "".join(f"{i}\n" for i in range(1, 5001)).encode()
    s.close()


def test_a_wrong_key_is_refused_and_runs_nothing(execd):
    for naive, handshake in ((False, execproto.client_handshake), (True, execproto.naive_client_handshake)):
        sock = socket.create_connection(("127.0.0.1", execd.ports["naive" if naive else "framed"]))
        with pytest.raises(execproto.AuthError, match="authentication failed"):
            handshake(sock, b"wrong")
        assert closed_by_peer(sock)  # execd is done with the session
    assert execd.counts["refused_auth"] == 2 and execd.counts["commands"] == 0


def test_naive_protocol_shows_the_leftover(execd):
    s = session(execd, naive=True)
    assert s.run_naive("echo hello") == b"hello\n"
    first = s.run_naive("seq 1 2000")  # 8893 bytes of output: one recv(1024) cannot take it all
    assert first.startswith(b"1\n2\n") and len(first) <= 1024
    reply = s.run_naive("pwd")
    assert reply[:1].isdigit() and b"/" not in reply, "pwd's reply is the rest of seq's output"
    s.close()


def test_a_bad_request_gets_an_error_and_the_session_goes_on(execd):
    s = session(execd)
    framing.send_frame(s.sock, kind="exec", command=["not", "a", "string"])
    assert framing.read_frame(s.sock, timeout=5).kind == "error"
    assert s.run("echo still here")[1] == b"still here\n"


@pytest.mark.parametrize("garbage", [b"GET / HTTP/1.1\r\n\r\n", b"\x00\x00\x00\x05{bad}",
                                     b"\xff\xff\xff\xff" + b"x" * 100])
def test_garbage_ends_that_session_only(execd, garbage):
    good = session(execd)
    bad = socket.create_connection(("127.0.0.1", execd.ports["framed"]))
    framing.read_frame(bad, timeout=5)  # the challenge
    bad.sendall(garbage)
    assert closed_by_peer(bad) and execd.counts["errors"] == 1
    assert good.run("echo fine")[1] == b"fine\n"
    bad.close()


def test_a_silent_client_is_dropped_after_the_idle_time(execd):
    silent = socket.create_connection(("127.0.0.1", execd.ports["framed"]))
    framing.read_frame(silent, timeout=5)
    started = time.monotonic()
    assert closed_by_peer(silent)
    assert 0.5 < time.monotonic() - started < 3


def test_sessions_past_the_limit_are_refused(execd):
    first, second = session(execd), session(execd)
    with pytest.raises(execproto.AuthError, match="too many sessions"):
        session(execd)
    assert wait_for(lambda: execd.counts["refused_busy"] == 1), "counted once the refusal is sent"
    first.close()
    assert wait_for(lambda: session(execd).run("echo again")[1] == b"again\n"), "a closed session frees its slot"
    second.close()


def wait_for(check, seconds=5):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return True
        except execproto.AuthError:
            pass
        time.sleep(0.05)
    return False


def test_unauthenticated_connections_take_no_session_and_are_dropped_after_the_grace(execd):
    silent = [socket.create_connection(("127.0.0.1", execd.ports["framed"])) for _ in range(20)]
    assert session(execd).run("echo served")[1] == b"served\n", "20 silent peers hold no session slot"
    started = time.monotonic()
    assert all(framing.read_frame(s, timeout=5).kind == "challenge" and closed_by_peer(s) for s in silent)
    assert time.monotonic() - started < 4, "each is dropped once its grace time runs out"
    for s in silent:
        s.close()


def test_max_startups_drops_at_random_between_start_and_full():
    from nodes.execd import Startups
    coin = iter([0.99, 0.0, 0.99])
    startups = Startups(2, 50, 4, chance=lambda: next(coin))
    assert startups.admit() and startups.admit(), "below START: always"
    assert startups.admit(), "at START, a 50% chance: 0.99 is kept"
    assert not startups.admit(), "past START, a 75% chance: 0.0 is dropped"
    assert startups.admit() and not startups.admit(), "at FULL: always dropped"
    startups.release()
    assert startups.pending == 3
    with pytest.raises(ValueError):
        Startups.parse("10:30")


def test_the_whole_process_group_dies_at_the_time_limit():
    started = time.monotonic()
    result, _ = execute("sleep 987 & sleep 987; echo never", timeout=0.5, limit=1000)
    assert result["timed_out"] and result["exit_code"] == -9 and time.monotonic() - started < 3
    left = subprocess.run(["pgrep", "-f", "sleep 987"], capture_output=True)
    assert left.returncode == 1, "no sleep left running"


def test_output_past_the_cap_is_cut_and_the_command_killed():
    result, body = execute("yes", timeout=5, limit=100_000)
    assert result["truncated"] and not result["timed_out"] and result["exit_code"] == -9
    assert 100_000 < len(body) < 100_000 + 2 * 65536


def test_os_system_returns_only_the_wait_status(execd):
    header, out, err = session(execd).run("echo to-the-server >/dev/null; exit 3", runner="system")
    assert header["runner"] == "system" and header["wait_status"] == 768 and header["exit_code"] == 3
    assert out == err == b""


@pytest.mark.parametrize("timeout", [float("nan"), float("inf"), -1, 0, True, "5", [1]])
def test_a_bad_timeout_gets_an_error_reply_and_the_session_goes_on(execd, timeout):
    s = session(execd)
    framing.send_frame(s.sock, kind="exec", command="echo never", timeout=timeout)
    reply = framing.read_frame(s.sock, timeout=5)
    assert reply.kind == "error" and "more than 0" in reply.header["reason"]
    header, out, _ = s.run("echo still here")
    assert out == b"still here\n" and header["exit_code"] == 0
    s.close()


def test_a_timeout_above_the_servers_is_held_to_the_servers(execd):
    s = session(execd)
    framing.send_frame(s.sock, kind="exec", command="sleep 30", timeout=1000)
    reply = framing.read_frame(s.sock, timeout=10)
    assert reply.header["timed_out"] and reply.header["duration"] < 5
    s.close()


def test_log_lines_stay_whole_when_sessions_log_at_once(execd, capfd):
    threads = [threading.Thread(target=execd.log, args=(f"peer{i}", "x" * 5000)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = capfd.readouterr().err.splitlines()
    assert sorted(lines) == sorted(f"execd: peer{i}: " + "x" * 5000 for i in range(20))
