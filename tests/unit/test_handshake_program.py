"""nodes.handshake on this host's loopback, and the handshake lesson run here by its own code through a lab
whose nodes are this host (the capture is a raw socket: root only, as in CI); its steps judged on the facts
measured here and on facts as a lab's bridge network gives them, each failing without its phenomenon; its
pictures drawn from both."""
import copy
import json
import os
import socket
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator import pictures, scenarios
from orchestrator.result import Step
from orchestrator.scenarios import handshake as lesson
from tests.unit.hostlab import HostLab, HostProcess
from tests.unit.test_queues import free_port

ROOT = Path(__file__).resolve().parents[2]
KEYS = ["three-way-handshake", "four-way-close", "half-close", "backlog-full", "struct-range", "nothing-left"]
PARAMS = {key: spec[0] for key, spec in lesson.PARAMS.items()}
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="the capture is an AF_PACKET raw socket: root only")


def program(*argv, check=True):
    done = subprocess.run([sys.executable, "-m", "nodes.handshake", *map(str, argv)], cwd=ROOT, capture_output=True,
                          text=True, timeout=30)
    if check:
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)
    return done


@pytest.fixture(scope="module")
def lesson_here():
    """{step key: Step} of one run of the lesson on this host, with its defaults."""
    if os.geteuid() != 0:
        pytest.skip("the capture is an AF_PACKET raw socket: root only")
    result = scenarios.run("handshake", HostLab())
    assert result.duration_s < 30, "the lesson must stay short"
    return {step.key: step for step in result.steps}


def facts(lesson_here, key):
    return copy.deepcopy(lesson_here[key].facts)


# A conversation as a capture on the server node's eth0 shows it: client1 10.213.66.3 -> server 10.213.66.2,
# absolute sequence numbers, the server's ACK of the client's FIN delayed 41 ms, its reply 300 ms after b''.
CLIENT, SERVER = "10.213.66.3:41822", "10.213.66.2:9200"
C_ISN, S_ISN = 4294967290, 1034518877  # the client's first number just below 2**32: its numbers wrap


def wire(t, sender, flags, seq, ack, size=0):
    src, dst = (CLIENT, SERVER) if sender == "client" else (SERVER, CLIENT)
    found = {"t": t, "src": src, "dst": dst, "flags": flags, "seq": seq % 2**32, "ack": ack % 2**32, "bytes": size}
    if "SYN" in flags:
        found["options"] = ["MSS", "SACK permitted", "timestamps", "NOP", "window scale"]
    return found


BRIDGE_SEGMENTS = [
    wire(0.4121, "client", ["SYN"], C_ISN, 0), wire(0.41216, "server", ["SYN", "ACK"], S_ISN, C_ISN + 1),
    wire(0.41223, "client", ["ACK"], C_ISN + 1, S_ISN + 1),
    wire(0.41239, "client", ["PSH", "ACK"], C_ISN + 1, S_ISN + 1, 35),
    wire(0.41242, "server", ["ACK"], S_ISN + 1, C_ISN + 36),
    wire(0.41248, "client", ["FIN", "ACK"], C_ISN + 36, S_ISN + 1),
    wire(0.4536, "server", ["ACK"], S_ISN + 1, C_ISN + 37),
    wire(0.7129, "server", ["PSH", "ACK"], S_ISN + 1, C_ISN + 37, 26),
    wire(0.71299, "client", ["ACK"], C_ISN + 37, S_ISN + 27),
    wire(0.71301, "server", ["FIN", "ACK"], S_ISN + 27, C_ISN + 37),
    wire(0.71308, "client", ["ACK"], C_ISN + 37, S_ISN + 28)]
REQUEST, REPLY = "the whole request, then end of file", "35 bytes, then end of file"


def bridge_talk(segments=BRIDGE_SEGMENTS, client_state="TIME-WAIT", server_state="gone"):
    """The conversation's facts as lesson.conversation() makes them from a lab's programs and capture."""
    said = {"client": CLIENT, "server": SERVER, "connect_s": 0.000412, "sent": REQUEST,
            "reply_after_shutdown": REPLY, "state_after_close": client_state,
            "ss": f"TIME-WAIT 0 0 {CLIENT} {SERVER}" if client_state == "TIME-WAIT" else ""}
    heard = {"server": SERVER, "client": CLIENT, "received": REQUEST, "replied": REPLY, "replied_after_eof_s": 0.3004,
             "state_after_close": server_state, "ss": ""}
    return {"client": said, "server": heard, "segments": lesson.numbered(segments, CLIENT, SERVER)}


def bridge_run(hold, port, late_s, syn_s, dropped, linear=None):
    """One backlog run as lesson.overflow() makes it on a lab: listen(2), 3 queued, 3 late."""
    client = lambda n, seconds: {"client": f"10.213.66.3:{40100 + n}", "seconds": seconds, "outcome": "connected"}
    return {"hold_s": hold, "ss_lnt": {"line": f"LISTEN 3 2 0.0.0.0:{port} 0.0.0.0:*", "recv_q": 3, "send_q": 2},
            "accept_queue": 3, "half_open": 0, "dropped": {"listen_overflows": dropped, "listen_drops": dropped},
            "queued": [client(n, 0.0003) for n in range(3)],
            "late": [{**client(n, late_s + 0.01 * (n - 3)), "syn_s": syn_s, "syn_ack_s": syn_s[-1]}
                     for n in range(3, 6)],
            "sysctls": {"tcp_syncookies": 1, "tcp_max_syn_backlog": 256, "somaxconn": 4096,
                        "tcp_abort_on_overflow": 0, "tcp_syn_retries": 6, "tcp_syn_linear_timeouts": linear}}


def bridge_runs():
    """An older kernel's (SYNs resent after 1 s, then 2 s more)."""
    return [bridge_run(0.5, 9201, 1.021, [0.0, 1.0192], 3), bridge_run(2.5, 9202, 3.064, [0.0, 1.02, 3.061], 6)]


def test_struct_range_packs_each_largest_number_and_raises_past_it():
    measured = program("struct-range")
    i, unsigned, quad = (measured["formats"][fmt] for fmt in ("i", "!I", "!Q"))
    assert (i["bytes"], i["largest"], i["packed"]) == (4, 2**31 - 1, struct.pack("i", 2**31 - 1).hex())
    assert i["one_more"] == "struct.error: 'i' format requires -2147483648 <= number <= 2147483647"
    assert (unsigned["largest"], unsigned["packed"]) == (2**32 - 1, "ffffffff")
    assert (quad["bytes"], quad["largest"]) == (8, 2**64 - 1) and quad["one_more"].startswith("struct.error")
    assert measured["file"]["packed"]["!Q"] == (5 << 30).to_bytes(8, "big").hex()
    assert lesson.struct_step(measured).passed


def test_talk_server_logs_a_reset_connection_and_serves_the_next():
    server = HostProcess(["python3", "-m", "nodes.handshake", "talk-server", "--port", str(port := free_port()),
                     "--reply-delay", "0"])
    try:
        server.line("listening")
        rude = socket.create_connection(("127.0.0.1", port))
        rude.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        rude.sendall(b"half a requ")
        rude.close()  # lingering 0 s: a reset, not a FIN
        said = program("talk", "127.0.0.1", "--port", port)
        done = server.wait(20)
    finally:
        server.stop()
    heard = done.result()
    assert heard["received"] == said["sent"] == REQUEST and said["reply_after_shutdown"] == heard["replied"] == REPLY
    assert (said["state_after_close"], heard["state_after_close"]) == ("TIME-WAIT", "gone")
    log = done.stderr.decode()
    assert log.count("\n") == 1 and "connection ended: ConnectionResetError" in log, log


def test_a_queue_that_never_fills_is_one_error_line():
    done = program("backlog-server", "--port", free_port(), "--backlog", 1, "--hold", 0.1, "--expect", 3,
                   "--timeout", 0.3, check=False)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == "listening\nnodes.handshake: error: the accept queue never held 2 connections in 0.3 s\n"


def test_numbered_counts_from_each_sides_first_number_across_the_wrap():
    elsewhere = {**wire(0.8, "client", ["ACK"], 7, 7), "src": "10.213.66.4:41822"}
    numbered = lesson.numbered(BRIDGE_SEGMENTS + [elsewhere], CLIENT, SERVER)
    assert [(s["from"], s["seq"], s["ack"]) for s in numbered[:3]] == [("client", 0, None), ("server", 0, 1),
                                                                      ("client", 1, 1)]
    assert numbered[5]["seq"] == 36 and numbered[-1]["ack"] == 28 and numbered[0]["ms"] == 0
    assert len(numbered) == len(BRIDGE_SEGMENTS), "another connection's segment is not this one's"


@as_root
def test_every_step_passes_here(lesson_here):
    assert list(lesson_here) == KEYS
    failed = {key: step.observed for key, step in lesson_here.items() if not step.passed}
    assert not failed


@as_root
def test_the_loopback_capture_holds_each_segment_once_in_order(lesson_here):
    seen = facts(lesson_here, "three-way-handshake")["segments"]
    assert [s["flags"] for s in seen] == [["SYN"], ["SYN", "ACK"], ["ACK"]]
    close = facts(lesson_here, "four-way-close")["segments"]
    assert [s["ms"] for s in close] == sorted(s["ms"] for s in close)
    assert sum("FIN" in s["flags"] for s in close) == 2, "each FIN once, not once going out and once coming in"


@as_root
def test_the_backlog_measured_here(lesson_here):
    measured = facts(lesson_here, "backlog-full")
    short, later = measured["runs"]
    assert short["ss_lnt"]["recv_q"] == short["accept_queue"] == PARAMS["backlog"] + 1
    assert short["ss_lnt"]["send_q"] == PARAMS["backlog"] and short["half_open"] == 0
    assert all(0.9 <= late["seconds"] < 2 for late in short["late"])
    assert all(late["seconds"] >= 2.9 and late["syn_s"][:2] == pytest.approx([0, 1], abs=0.1) for late in later["late"])
    assert short["dropped"]["listen_overflows"] >= PARAMS["late"]


def judged(step_function, talked, change):
    change(talked)
    return step_function(talked).passed


def test_the_handshake_passes_on_a_bridge_and_fails_without_its_three_segments():
    assert lesson.handshake_step(bridge_talk()).passed
    refused = copy.deepcopy(BRIDGE_SEGMENTS)
    refused[1]["flags"] = ["RST", "ACK"]  # no listener: the SYN is answered with a reset
    assert not lesson.handshake_step(bridge_talk(refused)).passed
    unanswered = [s for s in BRIDGE_SEGMENTS if s["flags"] != ["SYN", "ACK"]]
    assert not lesson.handshake_step(bridge_talk(unanswered)).passed
    assert not judged(lesson.handshake_step, bridge_talk(), lambda t: t["segments"][1].update(ack=0))


def test_the_close_fails_when_the_server_closes_first_or_its_ack_rides_on_its_fin():
    assert lesson.close_step(bridge_talk()).passed
    assert not lesson.close_step(bridge_talk(client_state="gone", server_state="TIME-WAIT")).passed
    # the server closes at once: its FIN carries the ACK of the client's FIN, a close of three segments
    merged = BRIDGE_SEGMENTS[:6] + [wire(0.4125, "server", ["FIN", "ACK"], S_ISN + 1, C_ISN + 37),
                                    wire(0.41256, "client", ["ACK"], C_ISN + 37, S_ISN + 2)]
    assert not lesson.close_step(bridge_talk(merged)).passed
    server_first = [{**s, "src": s["dst"], "dst": s["src"]} if "FIN" in s["flags"] else s for s in BRIDGE_SEGMENTS]
    assert not lesson.close_step(bridge_talk(server_first)).passed


def test_the_half_close_fails_when_the_reply_comes_before_the_clients_fin_or_not_at_all():
    assert lesson.half_close_step(bridge_talk()).passed
    fin = BRIDGE_SEGMENTS[5]
    closed_late = [s for s in BRIDGE_SEGMENTS if s is not fin] + [{**fin, "t": 0.714}]  # close(), not shutdown()
    assert not lesson.half_close_step(bridge_talk(closed_late)).passed
    assert not judged(lesson.half_close_step, bridge_talk(), lambda t: t["client"].update(reply_after_shutdown=""))


def test_the_backlog_passes_on_an_older_kernel_and_says_its_doubling():
    step = lesson.backlog_step(bridge_runs(), PARAMS)
    assert step.passed and "each wait twice the last: at 1, 3, 7 s" in step.why
    assert "LISTEN 3 2 0.0.0.0:9201" in step.observed and "ListenOverflows rose by 9" in step.observed


@pytest.mark.parametrize("change", [
    lambda runs: [late.update(seconds=0.0004, syn_s=[0.0], syn_ack_s=0.0001) for late in runs[0]["late"]],
    lambda runs: runs[0]["ss_lnt"].update(recv_q=2),  # a kernel whose queue holds the backlog, not one more
    lambda runs: [late.update(syn_s=[0.0], syn_ack_s=1.02) for late in runs[1]["late"]],  # nothing dropped
    lambda runs: runs[1]["dropped"].update(listen_overflows=0),
    lambda runs: [late.update(seconds=1.02) for late in runs[1]["late"]],  # back before the first resend
    lambda runs: runs[0]["queued"][2].update(seconds=1.01),  # the last queued SYN already dropped
], ids=["no-drop", "queue-of-n", "one-syn", "no-overflow", "long-hold-at-1s", "queued-late"])
def test_the_backlog_fails_without_its_phenomenon(change):
    runs = bridge_runs()
    change(runs)
    assert not lesson.backlog_step(runs, PARAMS).passed


def test_struct_range_fails_when_i_holds_more():
    measured = program("struct-range")
    eight = copy.deepcopy(measured)
    eight["formats"]["i"].update(largest=2**63 - 1, one_more="8000000000000000")  # as if 'i' were 'q'
    assert not lesson.struct_step(eight).passed
    eight = copy.deepcopy(measured)
    eight["file"]["packed"]["!I"] = "0000000140000000"
    assert not lesson.struct_step(eight).passed


def picture(key, measured):
    drawn = pictures.for_step("handshake", Step(key, key, True, "e", "o", "w", measured))
    assert "<svg" in drawn.data and drawn.alt
    return drawn.alt


def test_pictures_from_a_bridges_facts():
    talked = bridge_talk()
    alt = picture("three-way-handshake", lesson.handshake_step(talked).facts)
    assert "client SYN seq=0 at 0.0 ms; server SYN+ACK seq=0 ack=1 at 0.06 ms" in alt
    alt = picture("four-way-close", lesson.close_step(talked).facts)
    assert "server FIN+ACK seq=27 ack=37 at 300.91 ms" in alt and "the client's side TIME-WAIT" in alt
    assert "server PSH+ACK seq=1 ack=37 26 B" in picture("half-close", lesson.half_close_step(talked).facts)
    alt = picture("backlog-full", lesson.backlog_step(bridge_runs(), PARAMS).facts)
    assert "at 2.5 s, 3 clients connected at once and 3 late ones after 3.06, 3.07, 3.08 s, the first of them " \
           "sending SYNs at 0.00, 1.02, 3.06 s" in alt
    assert "a 5 GiB file's size, 5,368,709,120 bytes" in picture("struct-range", program("struct-range"))


@as_root
def test_every_picture_draws_from_the_facts_measured_here(lesson_here):
    from orchestrator.pictures.handshake import DRAW
    for key in DRAW:
        assert picture(key, facts(lesson_here, key)), key
