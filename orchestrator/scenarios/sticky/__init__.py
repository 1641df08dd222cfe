"""Sticky packets: TCP is a byte stream, UDP keeps datagrams; framing fixes the stream; the wire shows why.

Every claim is measured in this run, client node -> server node: the sender records each send(), tcpdump
records the segments on the server's interface, the receiver records each recv().
"""
from contextlib import ExitStack
from typing import TypedDict

from nodes.lib import ports
from orchestrator.result import Step
from orchestrator.scenarios.sticky.boundaries import compare, pieces

NAME = "sticky"
SUMMARY = "TCP merges and splits messages, UDP keeps (or truncates, or loses) them; framing fixes TCP; the wire view"
PARAMS = {"count": (20, 2, 1000), "size": (40, 4, 1400), "bufsize": (1024, 1, 65536), "receiver_delay_ms": (200, 0, 5000),
          "rtt_ms": (20, 1, 500), "big": (3000, 4, 10_000_000), "udp_bufsize": (512, 8, 16376), "loss": (20, 1, 90),
          "loss_count": (200, 10, 10_000), "frames": (40, 1, 1000), "max_frame": (1 << 20, 0, 64 << 20),
          "frame_delay_ms": (10, 1, 1000), "frame_loss": (2, 0, 50), "frame_pause_ms": (5, 0, 1000),
          "seed": (1, 0, 2**32 - 1)}
PCAP = "/tmp/sticky.pcap"


class Exchanged(TypedDict, total=False):
    """One transfer as the node programs reported it."""
    sent: dict      # nodes.sender: sizes, sends, sha256
    got: dict       # nodes.receiver: chunks (streams) or datagrams, sha256
    segments: dict  # nodes.packets segments: the TCP segments of the capture (watched only)
    pcap: bytes     # the capture itself (watched only)
    frame: dict     # nodes.packets capture: one frame dissected (watched only)


class Exchange:
    """One transfer: a receiver served on the server, a sender run on the client, optionally watched."""

    def __init__(self, server, client, proto, port=ports.STICKY):
        self.server, self.client, self.proto, self.port = server, client, proto, port

    def run(self, receiver_args, sender_args, watch=False) -> Exchanged:
        """{"sent", "got"} from sender and receiver; watched, also "segments", "pcap" and one "frame"."""
        with ExitStack() as serving:
            if watch:  # tcpdump for the segment list, a raw socket for one frame dissected
                capture = serving.enter_context(self.server.serve(
                    ["tcpdump", "--immediate-mode", "-i", "eth0", "-U", "-w", PCAP, f"tcp port {self.port}"],
                    ready="listening on"))
                dissect = serving.enter_context(self.server.serve("packets", "capture", "--port", self.port))
            receiver = serving.enter_context(
                self.server.serve("receiver", self.proto, "--port", self.port, *receiver_args))
            sent = self.client.program("sender", self.proto, "server", "--port", self.port, *sender_args)
            result = {"sent": sent, "got": receiver.result(60)}
            if watch:
                capture.stop()
                result["segments"] = self.server.program("packets", "segments", PCAP, "--port", self.port)
                result["pcap"] = self.server.run(["cat", PCAP]).stdout
                result["frame"] = dissect.result(15)
        return result


def merge_exchange(exchange, nodelay, p) -> Exchanged:
    """Small sends to a late reader, watched on the wire."""
    return exchange.run(["--bufsize", p["bufsize"], "--delay", p["receiver_delay_ms"] / 1000],
                        ["--count", p["count"], "--size", p["size"], *(["--nodelay"] if nodelay else [])], watch=True)


def merge_step(run, nodelay, p):
    delay = p["receiver_delay_ms"]
    facts = compare(run["sent"]["sizes"], run["got"]["chunks"])
    facts.update(sends=run["sent"]["sends"], recvs=run["got"]["chunks"], nodelay=nodelay,
                 segments=[s["bytes"] for s in run["segments"]["segments"]], receiver_delay_ms=delay,
                 rtt_added_ms=p["rtt_ms"])
    why = ("TCP_NODELAY only makes the sender transmit each write at once: the merge happens in the receiver's "
           "buffer, so one recv() still returns them together." if nodelay else
           f"TCP is a byte stream: the receiver was {delay} ms late, everything sent waited in its receive "
           f"buffer, and each recv({p['bufsize']}) returned as much as fitted.")
    return Step("tcp-merge-nodelay" if nodelay else "tcp-merge-nagle",
                "1 TCP merge, TCP_NODELAY" if nodelay else "1 TCP merge, Nagle on", passed=facts["merged_reads"] > 0,
                expected=f"{p['count']} send() calls of {p['size']} bytes come out of fewer recv() calls, "
                         "several messages in one read",
                observed=f"{len(facts['sends'])} sends → {facts['reads']} recv(): {facts['recvs']} bytes; "
                         f"{facts['merged_reads']} read(s) held several messages (up to "
                         f"{max(facts['messages_per_read'], default=0)})",
                why=why, facts=facts)


def leftover_step(exchange, p):
    n = p["bufsize"]
    run = exchange.run(["--bufsize", n, "--delay", p["receiver_delay_ms"] / 1000],
                       ["--sizes", f"{p['big']},{p['size']}"], watch=False)
    sizes, chunks = run["sent"]["sizes"], run["got"]["chunks"]
    held = pieces(sizes, chunks)
    second = held[1] if len(held) > 1 else []
    leftover = sum(count for index, count in second if index == 0)
    facts = {**compare(sizes, chunks), "recvs": chunks, "pieces": held, "leftover_in_second_read": leftover}
    return Step(
        "tcp-leftover", "2 TCP leftover: a message larger than recv(n)",
        passed=bool(chunks) and chunks[0] == n and leftover > 0,
        expected=f"recv({n}) returns {n} of the {p['big']}-byte message 0; the next recv, meant for message 1, "
                 "returns the rest of message 0",
        observed=f"reads {chunks}; the second read held {leftover} bytes of message 0"
                 + (f" and {second[-1][1]} of message 1" if second and second[-1][0] == 1 else ""),
        why=f"recv({n}) returns at most {n} bytes; the rest stays in the buffer and comes out first next time — "
            "the homemade ssh's symptom: a command's reply carries the previous command's output.",
        facts=facts)


def udp_boundaries_step(exchange, p):
    run = exchange.run(["--bufsize", p["bufsize"], "--delay", p["receiver_delay_ms"] / 1000, "--idle", 0.5],
                       ["--count", p["count"], "--size", p["size"]])
    got = run["got"]["datagrams"]
    kept = len(got) == p["count"] and all(d["length"] == d["received"] == p["size"] for d in got)
    return Step(
        "udp-boundaries", "3 UDP keeps boundaries",
        passed=kept and [d["index"] for d in got] == list(range(p["count"])),
        expected=f"after the same {p['receiver_delay_ms']} ms delay, each of the {p['count']} datagrams comes "
                 f"out of its own recvfrom(), {p['size']} bytes each",
        observed=f"{len(got)} reads of {sorted({d['received'] for d in got})} bytes, in order "
                 f"{[d['index'] for d in got][:5]}…",
        why="UDP queues datagrams, not bytes: each read hands out exactly one datagram, however late it comes.",
        facts={"sends": run["sent"]["sends"], "reads": [d["received"] for d in got], "datagrams": got})


def udp_truncation_step(exchange, p):
    sizes = [p["size"], p["udp_bufsize"] * 4, p["size"]]
    run = exchange.run(["--bufsize", p["udp_bufsize"], "--idle", 0.5], ["--sizes", ",".join(map(str, sizes))])
    got = run["got"]["datagrams"]
    big = got[1] if len(got) > 1 else {}
    return Step(
        "udp-truncation", "3 UDP truncates a datagram larger than the buffer",
        passed=len(got) == 3 and big.get("truncated") and big["length"] == sizes[1] and got[2]["index"] == 2,
        expected=f"a {sizes[1]}-byte datagram read with a {p['udp_bufsize']}-byte buffer gives "
                 f"{p['udp_bufsize']} bytes, MSG_TRUNC reports {sizes[1]}; the next read is the next datagram",
        observed=f"read {big.get('received')} of {big.get('length')} bytes (truncated: {big.get('truncated')}); "
                 f"next read: datagram {got[2]['index'] if len(got) > 2 else None}",
        why="A datagram is delivered whole or cut to the buffer: the excess is discarded, never handed to the "
            "next read as TCP would.",
        facts={"sizes": sizes, "datagrams": got, "lost_bytes": big.get("length", 0) - big.get("received", 0)})


def loss_step(server, client, p):
    count, loss = p["loss_count"], p["loss"]
    with client.impaired(loss=f"{loss}%"):
        udp = Exchange(server, client, "udp", ports.STICKY_UDP_LOSS).run(
            ["--bufsize", p["bufsize"], "--idle", 1.0], ["--count", count, "--size", p["size"]])
        tcp = Exchange(server, client, "tcp", ports.STICKY_TCP_LOSS).run(
            ["--bufsize", p["bufsize"]], ["--count", count, "--size", p["size"]])
    received = {d["index"] for d in udp["got"]["datagrams"]}
    lost = count - len(received)
    intact = tcp["got"]["sha256"] == tcp["sent"]["sha256"] and tcp["got"]["bytes"] == count * p["size"]
    return Step(
        "udp-loss-tcp-intact", f"3 {loss}% loss: UDP loses datagrams, TCP delivers everything",
        passed=lost > 0 and intact,
        expected=f"with {loss}% of the client's packets dropped, UDP loses about {loss}% of {count} datagrams; "
                 f"TCP delivers all {count} messages intact",
        observed=f"UDP: {len(received)}/{count} arrived, {lost} lost ({100 * lost / count:.0f}%); TCP: "
                 f"{tcp['got']['bytes']}/{count * p['size']} bytes, sha256 {'matches' if intact else 'DIFFERS'}",
        why="UDP has no acknowledgement or retransmission; TCP resends what is lost and delivers the stream "
            "complete and in order — paying in time.",
        facts={"loss_percent": loss, "udp": {"sent": count, "received": len(received), "lost": lost},
               "tcp": {"bytes_sent": count * p["size"], "bytes_received": tcp["got"]["bytes"], "intact": intact}})


def framing_step(server, client, p):
    with server.serve("framed", "recv", "--port", ports.FRAMED, "--connections", 1, "--pause-ms",
                      p["frame_pause_ms"], "--seed", p["seed"]) as receiver:
        with client.impaired(delay=f"{p['frame_delay_ms']}ms", loss=f"{p['frame_loss']}%"):
            sent = client.program("framed", "send", "server", "--port", ports.FRAMED, "--count", p["frames"],
                                  "--max-size", p["max_frame"], "--seed", p["seed"], timeout=300)
        got = receiver.result(60)
    expected = [(f["seq"], f["size"], f["sha256"]) for f in sent["sent"]]
    delivered = [(f["seq"], f["size"], f["sha256"]) for f in got["frames"]]
    errors = [c["error"] for c in got["connections"] if c["error"]]
    intact = sum(1 for a, b in zip(expected, delivered) if a == b)
    return Step(
        "framing-fix", "4 the fix: length-prefixed frames",
        passed=delivered == expected and not errors,
        expected=f"{p['frames']} frames of 0 B to {p['max_frame']} B, read in varying chunks over a link with "
                 f"{p['frame_delay_ms']} ms delay and {p['frame_loss']}% loss: all delivered, every sha256 verified",
        observed=f"{intact}/{len(expected)} frames intact ({sent['bytes'] / 2**20:.1f} MiB in {sent['seconds']} s)"
                 + (f"; errors: {errors}" if errors else ""),
        why="A 4-byte '!I' length and a JSON header tell the reader exactly how many bytes make the next "
            "message, so it loops until it has them, whatever the chunks.",
        facts={"frames": len(expected), "delivered_intact": intact, "bytes": sent["bytes"],
               "sizes": {"min": min(f[1] for f in expected), "max": max(f[1] for f in expected)},
               "seconds": sent["seconds"], "errors": errors,
               "link": {"delay_ms": p["frame_delay_ms"], "loss_percent": p["frame_loss"]}})


def wire_step(nagle, nodelay):
    def lists(run):
        return {"send_calls": run["sent"]["sends"], "segments": [s["bytes"] for s in run["segments"]["segments"]],
                "recv_chunks": run["got"]["chunks"]}
    a, b = lists(nagle), lists(nodelay)
    differ = a["send_calls"] != a["segments"] != a["recv_chunks"] != a["send_calls"]
    show = lambda l: f"{len(l['send_calls'])} send() → {len(l['segments'])} segments {l['segments']} → " \
                     f"{len(l['recv_chunks'])} recv() {l['recv_chunks']}"
    return Step(
        "wire-view", "5 wire view: three boundary lists for one stream",
        passed=differ and sum(a["segments"]) == sum(a["send_calls"]) == sum(a["recv_chunks"]),
        expected="the sender's send() calls, the TCP segments on the wire and the receiver's recv() chunks cut "
                 "the same bytes differently",
        observed=f"Nagle on: {show(a)}; TCP_NODELAY: {show(b)}",
        why="Each layer cuts the stream its own way: the program writes, Nagle and the congestion window "
            "segment, the receive buffer merges — no layer keeps the program's messages.",
        facts={"nagle": a, "nodelay": b}, files={"pcap": nagle["pcap"]})


def dissect_step(run):
    frame = run["frame"]
    eth, ip, tcp, payload = frame["ethernet"], frame["ipv4"], frame.get("tcp", {}), frame["payload"]
    first_message = payload["hex"].startswith("00 00 00 00 41")
    return Step(
        "frame-dissected", "5 one frame, layer by layer (AF_PACKET raw socket)",
        passed=bool(tcp) and tcp.get("dst_port") == ports.STICKY and ip["protocol"] == "TCP" and first_message,
        expected="a raw socket on the server reads a whole Ethernet frame of the stream: Ethernet, IPv4 and "
                 "TCP headers, then message 0's bytes",
        observed=f"Ethernet {eth['src']} → {eth['dst']} type {eth['type']} | IPv4 {ip['src']} → {ip['dst']} TTL "
                 f"{ip['ttl']} length {ip['total_length']} | TCP {tcp.get('src_port')} → {tcp.get('dst_port')} "
                 f"seq {tcp.get('seq')} {'+'.join(tcp.get('flags', []))} | payload {payload['bytes']} bytes: "
                 f"{payload['hex']}",
        why="SOCK_RAW on AF_PACKET hands over frames before the kernel strips any header: the course's layered "
            "model, read off real bytes.",
        facts={"frame": frame})


def unix_step(server, p):
    base = ["--count", p["count"], "--size", p["size"]]
    def exchange(proto, path):
        with server.serve("receiver", proto, path, "--bufsize", p["bufsize"], "--delay",
                          p["receiver_delay_ms"] / 1000, "--idle", 0.5) as receiver:
            sent = server.program("sender", proto, path, *base)
            return sent, receiver.result(30)
    sent, stream = exchange("unix-stream", "/tmp/sticky-stream.sock")
    merged = compare(sent["sizes"], stream["chunks"])["merged_reads"]
    _, dgram = exchange("unix-dgram", "/tmp/sticky-dgram.sock")
    reads = [d["received"] for d in dgram["datagrams"]]
    return Step(
        "unix-sockets", "6 AF_UNIX: boundaries belong to the socket type",
        passed=merged > 0 and reads == [p["size"]] * p["count"],
        expected="inside one node, a SOCK_STREAM Unix socket merges messages like TCP; a SOCK_DGRAM one keeps "
                 "each like UDP",
        observed=f"SOCK_STREAM: {p['count']} sends → {len(stream['chunks'])} recv() {stream['chunks']}; "
                 f"SOCK_DGRAM: {len(reads)} reads of {sorted(set(reads))} bytes",
        why="No network is involved: a byte stream has no message boundaries wherever it runs; datagrams do.",
        facts={"stream": {"recvs": stream["chunks"], "merged_reads": merged}, "dgram": {"reads": reads}})


def run(lab, params, progress):
    server, client = lab.node("server"), lab.node("client1")
    tcp = Exchange(server, client, "tcp")
    progress(f"1 TCP merge: Nagle on, then TCP_NODELAY, over a link with {params['rtt_ms']} ms more RTT")
    with server.impaired(delay=f"{params['rtt_ms']}ms"):  # delays the ACKs: Nagle's waiting shows on the wire
        nagle, nodelay = merge_exchange(tcp, False, params), merge_exchange(tcp, True, params)
    steps = [merge_step(nagle, False, params), merge_step(nodelay, True, params)]
    progress("2 TCP leftover")
    steps.append(leftover_step(tcp, params))
    progress("3 UDP: boundaries, truncation, loss")
    udp = Exchange(server, client, "udp")
    steps += [udp_boundaries_step(udp, params), udp_truncation_step(udp, params), loss_step(server, client, params)]
    progress(f"4 framing: {params['frames']} frames up to {params['max_frame']} bytes over an impaired link")
    steps.append(framing_step(server, client, params))
    steps += [wire_step(nagle, nodelay), dissect_step(nagle)]
    progress("6 AF_UNIX inside the server node")
    steps.append(unix_step(server, params))
    return steps
