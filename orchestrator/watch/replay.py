"""A recorded run, made ready to play back: its timeline (watch.timeline), the packets of each step's capture
opened layer by layer, and each TCP segment tied to the send() calls its bytes came from and the recv()
calls that took them, where the run recorded those (by port, and by place in the stream)."""
import json
import struct

from nodes.lib.program import ProgramError
from nodes.lib.frames import dissect, pcap_records
from orchestrator import i18n, pages
from orchestrator.i18n import _

PAYLOAD_SHOWN = 64  # bytes of a packet's payload the page shows


def packets(pcap, addresses, step):
    """A packet event per captured IPv4 TCP/UDP frame; TCP ones with their bytes' place in their direction's
    stream (from that direction's SYN, else from its first segment)."""
    node_of = {ip: name for name, ip in addresses.items()}
    starts, found = {}, []
    try:
        records = list(pcap_records(pcap))
    except ProgramError:  # not a capture this page can read: the run's other events still play
        return []
    for when, frame in records:
        try:
            layers = dissect(frame)
        except struct.error:  # a frame cut short by the capture's snap length
            continue
        if not layers:
            continue
        ip, proto = layers["ipv4"], "tcp" if "tcp" in layers else "udp"
        transport = layers[proto]
        header = layers["ethernet"]["header_bytes"] + ip["header_bytes"] + transport["header_bytes"]
        size = layers["payload"]["bytes"]
        layers["payload"]["hex"] = frame[header:header + min(size, PAYLOAD_SHOWN)].hex(" ")
        event = {"time": round(when, 6), "kind": "packet", "step": step, "proto": proto.upper(),
                 "node": node_of.get(ip["src"], ip["src"]), "peer": node_of.get(ip["dst"], ip["dst"]),
                 "port": transport["src_port"], "peer_port": transport["dst_port"], "bytes": size, "layers": layers}
        if proto == "tcp":
            # relative numbers as Wireshark gives them: the SYN is 0, the first byte of data 1
            flow = (ip["src"], transport["src_port"], ip["dst"], transport["dst_port"])
            if "SYN" in transport["flags"]:
                starts[flow] = transport["seq"]
            first = starts.setdefault(flow, (transport["seq"] - 1) % 2**32)
            event["seq"] = (transport["seq"] - first) % 2**32
            event["offset"] = event["seq"] - 1  # the stream's bytes count from 0
            back = starts.get((flow[2], flow[3], flow[0], flow[1]))
            event["ack"] = (transport["ack"] - back) % 2**32 if back is not None and "ACK" in transport["flags"] \
                else None
            event["flags"] = transport["flags"]
        found.append(event)
    return found


def overlaps(a, b):
    return a["offset"] < b["offset"] + b["bytes"] and b["offset"] < a["offset"] + a["bytes"]


def link(events):
    """Give each TCP segment with data the send() calls it carried bytes of ("sends") and the recv() calls
    that took them ("recvs"), by index in events; and each of those its segments ("packets")."""
    calls = [(i, e) for i, e in enumerate(events) if e["kind"] in ("send", "recv")]
    for index, event in enumerate(events):
        if event["kind"] != "packet" or event["proto"] != "TCP" or not event["bytes"]:
            continue
        event["sends"] = [i for i, call in calls if call["kind"] == "send" and call["node"] == event["node"]
                          and (call["port"], call["peer_port"]) == (event["port"], event["peer_port"])
                          and overlaps(call, event)]
        event["recvs"] = [i for i, call in calls if call["kind"] == "recv" and call["node"] == event["peer"]
                          and (call["port"], call["peer_port"]) == (event["peer_port"], event["port"])
                          and overlaps(call, event)]
        for i in event["sends"] + event["recvs"]:
            events[i].setdefault("packets", []).append(index)
    return events


def timeline(result):
    """{"name", "kind", "nodes", "events"} of a run: what the lab recorded, what its steps' programs
    recorded, their captures' packets; in time order, linked."""
    recorded = result.timeline or {}
    addresses = recorded.get("nodes", {})
    events = list(recorded.get("events", []))
    for step in result.steps:
        events += [{**event, "step": step.key} for event in step.events]
        if "pcap" in step.files:
            events += packets(step.files["pcap"], addresses, step.key)
    events.sort(key=lambda e: e["time"])
    return {"name": result.name, "kind": result.kind, "nodes": addresses, "events": link(events)}


def write(folder, result):
    """Write folder/replay.html (and the timeline as timeline.json) for a run that recorded one; the page's
    path, or None when the run recorded nothing."""
    played = timeline(result)
    if not played["events"]:
        return None
    (folder / "timeline.json").write_text(json.dumps(played, ensure_ascii=False) + "\n", encoding="utf-8")
    with i18n.using(result.lang):
        page = pages.environment.get_template("replay.html").render(
            css=pages.css(), lang=result.lang, result=result, kind_text=i18n._(pages.KINDS[result.kind]),
            timeline=played, words=words())
    path = folder / "replay.html"
    path.write_text(page, encoding="utf-8")
    return path


def words():
    """What the replay's script says, translated here: {key: text}."""
    return {"program-started": _("{node}: started {command}"), "program-ended": _("{node}: ended {command}"),
            "program-stopped": _("{node}: stopped {command} ({signal})"), "node-killed": _("{node} killed"),
            "node-paused": _("{node} paused"), "node-resumed": _("{node} resumed"),
            "node-restarted": _("{node} restarted"), "fault-started": _("{node}: {fault} {args}"),
            "fault-lifted": _("{node}: {fault} lifted"),
            "send": _("{node}: send() #{index} gave the kernel {bytes} bytes (stream bytes {start}–{end})"),
            "recv": _("{node}: recv() #{index} returned {bytes} bytes (stream bytes {start}–{end})"),
            "packet": _("{node}:{port} → {peer}:{peer_port} {proto} [{flags}] {bytes} bytes of payload"),
            "at": _("event {number} of {count}, {ms} ms after the first"),
            "from_sends": _("its bytes came from send() #{calls} on {node}"),
            "to_recvs": _("its bytes were taken by recv() #{calls} on {node}"),
            "segments": _("carried by {count} segment(s)"), "no_calls": _("no send() or recv() of this run's "
                                                                           "programs is known to have these bytes"),
            "payload": _("payload"), "play": _("play"), "pause": _("pause"),
            "ethernet": _("{src} → {dst}, type {type}, {header} B header"),
            "ipv4": _("{src} → {dst}, TTL {ttl}, id {id}, total length {length}, {header} B header, checksum {checksum}"),
            "tcp": _("{sport} → {dport}, seq {seq}, ack {ack}, flags {flags}, window {window}, {header} B header"),
            "options": _("options {options}"), "go_to": _("go to event {number}"), "udp": _("{sport} → {dport}, length {length}, checksum {checksum}")}
