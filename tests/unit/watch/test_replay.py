"""The replay from a capture made here, by hand: the handshake, 20 writes as 2 segments, 1 read."""
import json
import re
import struct

from orchestrator.result import Result, Step
from orchestrator.watch import replay
from orchestrator.watch.timeline import Timeline, command_text, stream_events

CLIENT, SERVER = "10.0.0.2", "10.0.0.3"


def checksum(header):
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def frame(src, dst, sport, dport, seq, ack, flags, payload=b""):
    tcp = struct.pack("!HHIIHHHH", sport, dport, seq, ack, (5 << 12) | flags, 502, 0, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0,
                     bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return bytes(6) + bytes(6) + b"\x08\x00" + ip + tcp


def pcap(frames):
    data = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    for when, raw in frames:
        data += struct.pack("<IIII", int(when), int(round(when % 1 * 1e6)), len(raw), len(raw)) + raw
    return data


SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01
C_ISN, S_ISN = 1000, 5000


def sticky_capture():
    return pcap([(10.000, frame(CLIENT, SERVER, 40000, 9000, C_ISN, 0, SYN)),
                 (10.001, frame(SERVER, CLIENT, 9000, 40000, S_ISN, C_ISN + 1, SYN | ACK)),
                 (10.002, frame(CLIENT, SERVER, 40000, 9000, C_ISN + 1, S_ISN + 1, ACK)),
                 (10.003, frame(CLIENT, SERVER, 40000, 9000, C_ISN + 1, S_ISN + 1, PSH | ACK, b"a" * 40)),
                 (10.030, frame(SERVER, CLIENT, 9000, 40000, S_ISN + 1, C_ISN + 41, ACK)),
                 (10.031, frame(CLIENT, SERVER, 40000, 9000, C_ISN + 41, S_ISN + 1, PSH | ACK, b"b" * 760)),
                 (10.040, frame(CLIENT, SERVER, 40000, 9000, C_ISN + 801, S_ISN + 1, FIN | ACK))])


def result():
    sends = stream_events("client1", "server", "send", [40] * 20, [10.0025] + [10.0035 + i / 1e4 for i in range(19)],
                          40000, 9000)
    recvs = stream_events("server", "client1", "recv", [800], [10.2], 9000, 40000)
    step = Step("wire-view", "wire", True, "", "", "", files={"pcap": sticky_capture()}, events=sends + recvs)
    timeline = {"nodes": {"client1": CLIENT, "server": SERVER},
                "events": [{"time": 9.9, "kind": "program-started", "node": "server", "command": "nodes.receiver"}]}
    return Result("sticky", {}, [step], timeline=timeline)


def test_each_segment_is_tied_to_the_sends_it_carried_and_the_recv_that_took_it():
    played = replay.timeline(result())
    events = played["events"]
    assert [e["time"] for e in events] == sorted(e["time"] for e in events)
    packets = [e for e in events if e["kind"] == "packet"]
    assert [(p["node"], p["peer"], p["seq"], p["bytes"]) for p in packets] == [
        ("client1", "server", 0, 0), ("server", "client1", 0, 0), ("client1", "server", 1, 0),
        ("client1", "server", 1, 40), ("server", "client1", 1, 0), ("client1", "server", 41, 760),
        ("client1", "server", 801, 0)]
    first, second = (p for p in packets if p["bytes"])
    assert [events[i]["index"] for i in first["sends"]] == [0]
    assert [events[i]["index"] for i in second["sends"]] == list(range(1, 20))
    assert first["recvs"] == second["recvs"] and events[first["recvs"][0]]["kind"] == "recv"
    assert packets[4]["ack"] == 41  # the server's ACK, counted from the client's SYN
    recv = events[first["recvs"][0]]
    assert [events[i]["bytes"] for i in recv["packets"]] == [40, 760]
    assert second["layers"]["tcp"]["seq"] == C_ISN + 41 and second["layers"]["payload"]["hex"].startswith("62 62")


def test_the_page_holds_its_timeline_and_the_report_json_does_not(tmp_path):
    run = result()
    page = replay.write(tmp_path, run)
    text = page.read_text()
    assert "wire-view" in text and "</script>" in text and "http" not in text.replace("http://www.w3.org", "")
    assert json.loads((tmp_path / "timeline.json").read_text())["nodes"]["server"] == SERVER
    assert "events" not in run.to_dict()["steps"][0]


def test_the_replay_speaks_the_runs_language(tmp_path):
    run = result()
    run.lang = "zh"
    text = replay.write(tmp_path, run).read_text()
    words = json.loads(re.search(r"const WORDS = (.*);", text).group(1))
    assert 'lang="zh-CN"' in text and "回放" in text and "字节流中的第" in words["send"]


def test_a_run_that_recorded_nothing_has_no_replay(tmp_path):
    assert replay.write(tmp_path, Result("ping", {}, [Step("a", "a", True, "", "", "")])) is None


def test_a_file_that_is_not_a_capture_leaves_the_other_events():
    run = result()
    run.steps[0].files["pcap"] = b"not a pcap"
    kinds = {e["kind"] for e in replay.timeline(run)["events"]}
    assert kinds == {"program-started", "send", "recv"}


def test_a_timeline_gives_a_run_its_own_events_even_past_what_it_keeps(monkeypatch):
    timeline = Timeline()
    timeline.add("program-started", "server", command="a")
    mark = timeline.mark()
    for n in range(5):
        timeline.add("program-ended", "server", command=str(n))
    assert [e["command"] for e in timeline.since(mark)] == ["0", "1", "2", "3", "4"]
    assert timeline.since(timeline.mark()) == []
    monkeypatch.setattr("orchestrator.watch.timeline.KEPT", 3)
    short = Timeline()
    mark = short.mark()
    for n in range(5):
        short.add("program-ended", "server", command=str(n))
    assert [e["command"] for e in short.since(mark)] == ["2", "3", "4"]  # the newest it kept
    assert command_text(["python3", "-m", "nodes.sender", "tcp", 9000]) == "nodes.sender tcp 9000"
