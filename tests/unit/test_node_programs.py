import json
import struct
import subprocess
import sys

import pytest

from nodes import faults, ping


def test_checksum_of_a_packet_with_its_checksum_is_zero():
    packet = ping.echo_request(0x1234, 7, b"payload!")
    assert ping.checksum(packet) == 0


def test_known_checksum_vector():
    # RFC 1071's example words 0001 f203 f4f5 f6f7 sum to ddf2, whose complement is 220d
    assert ping.checksum(bytes.fromhex("0001f203f4f5f6f7")) == 0x220D


def test_parse_reply_matches_only_our_echo_replies():
    ip_header = bytes([0x45]) + bytes(19)
    reply = struct.pack("!BBHHH", ping.ECHO_REPLY, 0, 0, 42, 3)
    request = struct.pack("!BBHHH", ping.ECHO_REQUEST, 0, 0, 42, 3)
    assert ping.parse_reply(ip_header + reply, 42) == 3
    assert ping.parse_reply(ip_header + reply, 43) is None
    assert ping.parse_reply(ip_header + request, 42) is None
    assert ping.parse_reply(ip_header + b"\0", 42) is None


def run_program(*argv):
    return subprocess.run([sys.executable, "-m", *argv], capture_output=True, text=True)


def test_a_program_prints_one_json_line():
    done = run_program("nodes.ping", "--count", "0", "127.0.0.1")
    if done.returncode and "Operation not permitted" in done.stderr:
        pytest.skip("raw sockets need CAP_NET_RAW here")
    assert done.returncode == 0
    assert json.loads(done.stdout) == {"targets": [{"host": "127.0.0.1", "ip": "127.0.0.1", "addresses": ["127.0.0.1"],
                                                    "sent": 0, "received": 0, "rtt_ms": []}]}


def test_a_program_error_is_one_line_and_exit_2():
    done = run_program("nodes.ping", "--count", "1", "no-such-host.invalid")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("nodes.ping: error: cannot resolve")


@pytest.mark.parametrize("argv, message", [
    (["impair"], "at least one"), (["impair", "--delay-ms", "5", "--jitter-ms", "6"], "cannot exceed"),
])
def test_faults_validate_before_touching_the_network(argv, message):
    with pytest.raises(faults.program.ProgramError, match=message):
        faults.run(argv)


def test_faults_reject_a_percentage_over_100():
    done = run_program("nodes.faults", "impair", "--loss", "150")
    assert done.returncode == 2 and "not a percentage" in done.stderr


def _frame(vlan=False, trailer=b""):
    """An Ethernet frame of an IPv4 TCP segment with a 3-byte payload, optionally tagged and with a trailer."""
    payload = b"abc"
    tcp = struct.pack("!HHIIHHHH", 40000, 9000, 1, 0, (5 << 12) | 0x18, 512, 0, 0)
    from nodes.lib.checksum import internet
    fields = [0x45, 0, 20 + len(tcp) + len(payload), 1, 0x4000, 64, 6, 0, bytes([10, 0, 0, 2]), bytes([10, 0, 0, 3])]
    fields[7] = internet(struct.pack("!BBHHHBBH4s4s", *fields))
    ip = struct.pack("!BBHHHBBH4s4s", *fields)
    eth = bytes(12) + (struct.pack("!HH", 0x8100, 7) if vlan else b"") + struct.pack("!H", 0x0800)
    return eth + ip + tcp + payload + trailer


@pytest.mark.parametrize("vlan, trailer, header, after", [(False, b"", 14, 0), (True, b"", 18, 0),
                                                          (False, b"\xde\xad\xbe\xef", 14, 4)])
def test_the_ethernet_header_and_trailer_are_read_off_the_frame(vlan, trailer, header, after):
    from nodes.lib import frames
    layers = frames.dissect(_frame(vlan, trailer))
    assert layers["ethernet"]["header_bytes"] == header and layers["ethernet"]["trailer_bytes"] == after
    assert layers["tcp"]["dst_port"] == 9000 and layers["payload"]["bytes"] == 3 and layers["ipv4"]["checksum_ok"]


def test_the_sandbox_stamps_the_moment_a_program_exits_and_leaves_it_to_be_reaped():
    import threading
    import time

    from nodes.sandbox import stamp_exit
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.3)"])
    stamps, started = [], time.time()
    stamper = threading.Thread(target=stamp_exit, args=(child.pid, stamps))
    stamper.start()
    time.sleep(0.6)  # noticed late, as the sandbox's loop may notice it
    assert child.wait() == 0 and stamper.join(5) is None
    assert 0.25 <= stamps[0] - started <= 0.5, stamps[0] - started


def test_a_header_read_from_the_wrong_offset_fails_its_checksum():
    from nodes.lib import frames
    frame = _frame()
    assert not frames.ipv4(frame[13:])[0]["checksum_ok"]  # one byte early: not the header that was sent


def test_boot_asks_the_dns_again_until_the_nodes_name_is_there(monkeypatch):
    """A swarm's DNS learns a new task's name a moment after it starts: boot waits for it, then gives up."""
    import socket

    from nodes import boot
    answers = iter([socket.gaierror(-5, "No address"), [(0, 0, 0, "", ("10.0.0.9", 0))],
                    [(0, 0, 0, "", ("10.0.0.7", 0))], [(0, 0, 0, "", ("10.0.0.7", 0))]])

    def resolve(host, *args):
        answer = next(answers, None) or [(0, 0, 0, "", ("10.0.0.7", 0))]
        if isinstance(answer, Exception):
            raise answer
        return answer if host == "worker" else [(0, 0, 0, "", ("10.0.0.7", 0))]
    monkeypatch.setenv("SOCKLAB_SERVICE", "worker")
    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    monkeypatch.setattr(boot.time, "sleep", lambda s: None)
    boot.check(timeout=5)
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a: [(0, 0, 0, "", ("10.0.0.1" if host == "worker" else
                                                                                  "10.0.0.7", 0))])
    import pytest
    with pytest.raises(SystemExit, match="worker resolves to \\['10.0.0.1'\\], not to this node"):
        boot.check(timeout=0)
