"""Sticky packets: TCP is a byte stream, UDP keeps datagrams; framing fixes the stream; the wire shows why.

Every claim is measured in this run, client node -> server node: the sender records each send(), tcpdump
records the segments on the server's interface, the receiver records each recv().
"""
from contextlib import ExitStack
from typing import TypedDict

from nodes.lib import ports
from nodes.lib.numbered import message
from orchestrator.i18n import N_, _
from orchestrator.result import Step
from orchestrator.scenarios.sticky.boundaries import compare, pieces
from orchestrator.watch.timeline import stream_events

NAME = "sticky"
SUMMARY = N_("TCP merges and splits messages, UDP keeps (or truncates, or loses) them; framing fixes TCP; "
             "the wire view")
PARAMS = {"count": (20, 2, 1000), "size": (40, 4, 1400), "bufsize": (1024, 1, 65536), "receiver_delay_ms": (200, 0, 5000),
          "rtt_ms": (20, 1, 500), "big": (3000, 4, 10_000_000), "udp_bufsize": (512, 8, 16376), "loss": (20, 1, 90),
          "loss_count": (200, 10, 10_000), "flood": (2000, 10, 100_000), "rcvbuf": (65536, 4096, 106496), "frames": (40, 1, 1000), "max_frame": (1 << 20, 0, 64 << 20),
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
    events: list    # each send() and recv() with its time and place in the stream (watched only)


class Exchange:
    """One transfer: a receiver served on the server, a sender run on the client, optionally watched."""

    def __init__(self, server, client, proto, port=ports.STICKY):
        self.server, self.client, self.proto, self.port = server, client, proto, port

    def events(self, sent, got):
        """The sender's send() calls and the receiver's recv() calls, as the replay shows them."""
        client, server = self.client.name, self.server.name
        return stream_events(client, server, "send", sent["sends"], sent["send_times"], sent["port"], self.port) \
            + stream_events(server, client, "recv", got["chunks"], got["recv_times"], self.port, got["peer_port"])

    def run(self, receiver_args, sender_args, watch=False) -> Exchanged:
        """{"sent", "got"} from sender and receiver; watched, also "segments", "pcap" and one "frame"."""
        with ExitStack() as serving:
            if watch:  # tcpdump for the segment list, a raw socket for one frame dissected
                capture = serving.enter_context(self.server.captured(f"tcp port {self.port}", PCAP))
                dissect = serving.enter_context(self.server.serve("packets", "capture", "--port", self.port))
            receiver = serving.enter_context(
                self.server.serve("receiver", self.proto, "--port", self.port, *receiver_args))
            sent = self.client.program("sender", self.proto, "server", "--port", self.port, *sender_args)
            result = {"sent": sent, "got": receiver.result(60)}
            if watch:
                result["pcap"] = capture.stop()
                result["segments"] = self.server.program("packets", "segments", PCAP, "--port", self.port)
                result["frame"] = dissect.result(15)
                result["events"] = self.events(sent, result["got"])
        return result


def merge_exchange(exchange, nodelay, p) -> Exchanged:
    """Small sends to a late reader, watched on the wire."""
    return exchange.run(["--bufsize", p["bufsize"], "--delay", p["receiver_delay_ms"] / 1000],
                        ["--count", p["count"], "--size", p["size"], *(["--nodelay"] if nodelay else [])], watch=True)


def merge_facts(run, p):
    """What one watched transfer showed: sends, segments, recv chunks, and what the sender's TCP said."""
    facts = compare(run["sent"]["sizes"], run["got"]["chunks"])
    segments = [s["bytes"] for s in run["segments"]["segments"]]
    alone = next((i for i, size in enumerate(segments) if size != p["size"]), len(segments))
    facts.update(sends=run["sent"]["sends"], recvs=run["got"]["chunks"], segments=segments,
                 first_segments_alone=alone, receiver_delay_ms=p["receiver_delay_ms"], rtt_added_ms=p["rtt_ms"],
                 tcp_info=run["sent"]["tcp"])
    return facts


def merge_step(nagle_run, nodelay_run, nodelay, p):
    """Both ends merge: Nagle (or, without it, the congestion window) on the way out, the late reader's
    buffer on the way in. The pass needs the capture to show the sender's part, not only a merged read."""
    nagle, facts = merge_facts(nagle_run, p), merge_facts(nodelay_run if nodelay else nagle_run, p)
    facts["nodelay"] = nodelay
    sends, segments, delay = len(facts["sends"]), facts["segments"], p["receiver_delay_ms"]
    if nodelay:
        passed = facts["merged_reads"] > 0 and len(nagle["segments"]) < len(segments) <= sends
        why = _("TCP_NODELAY sent the first {alone} writes at once, a segment each; the rest still waited — the "
                "congestion window lets about 10 segments out before the first ACK comes back ({rtt_ms} ms) — and "
                "left together: {segments} segments, more than Nagle's {nagle_segments}. The receiver, {delay_ms} ms "
                "late, merged them all the same: NODELAY changes the wire, not the stream.").format(
            alone=facts["first_segments_alone"], rtt_ms=p["rtt_ms"], segments=len(segments),
            nagle_segments=len(nagle["segments"]), delay_ms=delay)
        expected = _("{count} sends with Nagle off: more segments than with Nagle on, and still fewer recv() calls "
                     "than messages").format(count=p["count"])
    else:
        passed = facts["merged_reads"] > 0 and len(segments) < sends
        why = _("Both ends merged. The sender: Nagle's algorithm sent the first write at once and held the others "
                "until its ACK came back ({rtt_ms} ms later), so {sends} writes left as {segment_count} segments "
                "{segments}. The receiver: it was {delay_ms} ms late, everything waited in its buffer, and each "
                "recv({bufsize}) returned as much as fitted.").format(
            rtt_ms=p["rtt_ms"], sends=sends, segment_count=len(segments), segments=segments, delay_ms=delay,
            bufsize=p["bufsize"])
        expected = _("{count} send() calls of {size} bytes: fewer TCP segments than sends on the wire, and fewer "
                     "recv() calls than messages").format(count=p["count"], size=p["size"])
    return Step("tcp-merge-nodelay" if nodelay else "tcp-merge-nagle",
                _("TCP merge, TCP_NODELAY") if nodelay else _("TCP merge, Nagle on"), passed=passed,
                expected=expected,
                observed=_("{sends} sends → {segment_count} segments {segments} → {reads} recv(): {recvs} bytes; "
                           "{merged_reads} read(s) held several messages (up to {most})").format(
                    sends=sends, segment_count=len(segments), segments=segments, reads=facts["reads"],
                    recvs=facts["recvs"], merged_reads=facts["merged_reads"],
                    most=max(facts["messages_per_read"], default=0)),
                why=why, facts=facts)


def leftover_step(exchange, p):
    n = p["bufsize"]
    run = exchange.run(["--bufsize", n, "--delay", p["receiver_delay_ms"] / 1000],
                       ["--sizes", f"{p['big']},{p['size']}"], watch=False)
    sizes, chunks = run["sent"]["sizes"], run["got"]["chunks"]
    held = pieces(sizes, chunks)
    second = held[1] if len(held) > 1 else []
    leftover = sum(count for index, count in second if index == 0)
    heads = run["got"]["heads"]
    read = heads[1] if len(heads) > 1 else ""  # the first bytes the second recv() really returned
    facts = {**compare(sizes, chunks), "recvs": chunks, "pieces": held, "leftover_in_second_read": leftover,
             "second_read_head": read, "message_0_at_offset": message(0, p["big"])[n:n + 8].hex(),
             "message_1_head": message(1, p["size"])[:8].hex()}
    return Step(
        "tcp-leftover", _("TCP leftover: a message larger than recv(n)"),
        passed=bool(chunks) and chunks[0] == n and leftover > 0 and read == facts["message_0_at_offset"],
        expected=_("recv({bufsize}) returns {bufsize} of the {big}-byte message 0; the next recv, meant for "
                   "message 1, returns the rest of message 0").format(bufsize=n, big=p["big"]),
        observed=_("reads {chunks}; the second read began with bytes {head}: message 0's from offset {bufsize} "
                   "({message_0_at_offset}), not message 1's start ({message_1_head}); it held {leftover} bytes "
                   "of message 0").format(chunks=chunks, head=read, bufsize=n,
                                          message_0_at_offset=facts["message_0_at_offset"],
                                          message_1_head=facts["message_1_head"], leftover=leftover)
                 + (_(" and {count} of message 1").format(count=second[-1][1])
                    if second and second[-1][0] == 1 else ""),
        why=_("recv({bufsize}) returns at most {bufsize} bytes; the rest stays in the buffer and comes out first "
              "next time — the homemade ssh's symptom: a command's reply carries the previous command's "
              "output.").format(bufsize=n),
        facts=facts)


def udp_boundaries_step(exchange, p):
    run = exchange.run(["--bufsize", p["bufsize"], "--delay", p["receiver_delay_ms"] / 1000, "--idle", 0.5],
                       ["--count", p["count"], "--size", p["size"]])
    got, rcvbuf = run["got"]["datagrams"], run["got"]["rcvbuf"]
    kept = len(got) == p["count"] and all(d["length"] == d["received"] == p["size"] for d in got)
    order = [d["index"] for d in got]
    return Step(
        "udp-boundaries", _("UDP keeps boundaries"),
        passed=kept and sorted(order) == list(range(p["count"])),
        expected=_("after the same {delay_ms} ms delay, each of the {count} datagrams comes out of its own "
                   "recvfrom(), {size} bytes each").format(delay_ms=p["receiver_delay_ms"], count=p["count"],
                                                         size=p["size"]),
        observed=_("{reads} reads of {sizes} bytes, arrival order {order} ({as_sent}); all {count} had waited in "
                   "the receive buffer").format(
            reads=len(got), sizes=sorted({d["received"] for d in got}),
            order=f"{order[:6]}{'…' if len(order) > 6 else ''}",
            as_sent=_("as sent") if order == sorted(order) else _("NOT as sent"), count=p["count"]),
        why=_("UDP queues whole datagrams, not bytes: each recvfrom() hands out exactly one. They waited because the "
              "receive buffer had room (the next step fills it), and UDP never promised their order — "
              "{order}.").format(order=_("here it was kept") if order == sorted(order) else _("here it was not")),
        facts={"sends": run["sent"]["sends"], "reads": [d["received"] for d in got], "datagrams": got,
               "arrival_order": order, "in_order": order == sorted(order), "rcvbuf": rcvbuf})


def udp_rcvbuf_step(exchange, p):
    """Fill the receive buffer with small datagrams: it counts what each costs the kernel, not its payload."""
    asked = p["rcvbuf"]
    run = exchange.run(["--bufsize", p["bufsize"], "--delay", 0.5, "--idle", 0.5, "--rcvbuf", asked],
                       ["--count", p["flood"], "--size", p["size"]])
    fit, rcvbuf, dropped = len(run["got"]["datagrams"]), run["got"]["rcvbuf"], run["got"]["rcvbuf_errors"]
    payload = fit * p["size"]
    charged = rcvbuf // fit if fit else None
    return Step(
        "udp-rcvbuf", _("UDP's receive buffer is charged each datagram's whole buffer, not its payload"),
        passed=0 < fit < p["flood"] and dropped > 0 and 2 * payload < rcvbuf and rcvbuf == 2 * asked,
        expected=_("{flood} datagrams of {size} bytes sent to a reader that sleeps: the buffer fills long before "
                   "their payload would fill it, and the rest is dropped").format(flood=p["flood"], size=p["size"]),
        observed=_("SO_RCVBUF set to {asked} reads back {rcvbuf}; {fit} of {flood} fit: {payload} bytes of payload, "
                   "about {charged} bytes charged per datagram; the kernel dropped {dropped} "
                   "(UdpRcvbufErrors)").format(asked=asked, fit=fit, flood=p["flood"], payload=payload,
                                               rcvbuf=rcvbuf, charged=charged, dropped=dropped),
        why=_("The kernel charges each queued datagram its whole buffer (the skb's truesize: headers, bookkeeping "
              "and the memory block it arrived in), not its payload, against SO_RCVBUF; Linux doubled the size "
              "that was set to leave room for that overhead. Once full, new datagrams are dropped without a word "
              "to anyone."),
        facts={"sent": p["flood"], "size": p["size"], "fit": fit, "payload_bytes": payload, "rcvbuf_set": asked,
               "rcvbuf": rcvbuf, "bytes_per_datagram": charged, "dropped": dropped})


def udp_truncation_step(exchange, p):
    sizes = [p["size"], p["udp_bufsize"] * 4, p["size"]]
    run = exchange.run(["--bufsize", p["udp_bufsize"], "--idle", 0.5], ["--sizes", ",".join(map(str, sizes))])
    got = run["got"]["datagrams"]
    big = got[1] if len(got) > 1 else {}
    return Step(
        "udp-truncation", _("UDP truncates a datagram larger than the buffer"),
        passed=len(got) == 3 and big.get("truncated") and big["length"] == sizes[1]
        and got[2]["received"] == got[2]["length"] == p["size"],
        expected=_("a {datagram}-byte datagram read with a {udp_bufsize}-byte buffer gives {udp_bufsize} bytes, "
                   "MSG_TRUNC reports {datagram}; the next read is the next datagram").format(
            datagram=sizes[1], udp_bufsize=p["udp_bufsize"]),
        observed=_("read {received} of {length} bytes (truncated: {truncated}); next read: datagram {index}").format(
            received=big.get("received"), length=big.get("length"), truncated=big.get("truncated"),
            index=got[2]["index"] if len(got) > 2 else None),
        why=_("A datagram is delivered whole or cut to the buffer: the excess is discarded, never handed to the "
              "next read as TCP would. (On Windows, recvfrom() raises OSError, WinError 10040, instead of cutting "
              "it.)"),
        facts={"sizes": sizes, "datagrams": got, "lost_bytes": big.get("length", 0) - big.get("received", 0)})


def loss_step(server, client, p):
    count, loss = p["loss_count"], p["loss"]
    with client.impaired(loss=f"{loss}%"):
        udp = Exchange(server, client, "udp", ports.STICKY_UDP_LOSS).run(
            ["--bufsize", p["bufsize"], "--idle", 1.0], ["--count", count, "--size", p["size"]])
        # A segment per message (Nagle off, 1 ms apart): count chances to lose one, not a handful.
        tcp = Exchange(server, client, "tcp", ports.STICKY_TCP_LOSS).run(
            ["--bufsize", p["bufsize"]], ["--count", count, "--size", p["size"], "--nodelay", "--gap-ms", 1])
    received = {d["index"] for d in udp["got"]["datagrams"]}
    lost = count - len(received)
    intact = tcp["got"]["sha256"] == tcp["sent"]["sha256"] and tcp["got"]["bytes"] == count * p["size"]
    info = tcp["sent"]["tcp"]
    resent, seconds = info["total_retrans"], info["seconds"]
    # {loss_rate:.0%} prints "20%": a literal "20% loss" or "20% of" would read as a %-format to Babel
    return Step(
        "udp-loss-tcp-intact",
        _("{loss_rate:.0%} loss: UDP loses datagrams, TCP delivers everything").format(loss_rate=loss / 100),
        passed=lost > 0 and intact and resent > 0,
        expected=_("with {loss_rate:.0%} of the client's packets dropped, UDP loses about {loss_rate:.0%} of {count} "
                   "datagrams; TCP (one segment per message: TCP_NODELAY, 1 ms apart) resends what was dropped and "
                   "delivers all {count} messages intact").format(loss_rate=loss / 100, count=count),
        observed=_("UDP: {received}/{count} arrived, {lost} lost ({lost_percent:.0f}%); TCP: {bytes_received}/"
                   "{bytes_sent} bytes, sha256 {verdict}, {resent} segment(s) resent (TCP_INFO), {seconds} s until "
                   "the last byte was acknowledged").format(
            received=len(received), count=count, lost=lost, lost_percent=100 * lost / count,
            bytes_received=tcp["got"]["bytes"], bytes_sent=count * p["size"],
            verdict=_("matches") if intact else _("DIFFERS"), resent=resent, seconds=seconds),
        why=_("UDP has no acknowledgement or retransmission: what is dropped is gone. TCP numbers its bytes, waits "
              "for acknowledgements and resent {resent} segment(s) here, each after a timeout or duplicate ACKs: "
              "the stream arrives complete and in order, and pays in time ({seconds} s for {bytes} "
              "bytes).").format(resent=resent, seconds=seconds, bytes=count * p["size"]),
        facts={"loss_percent": loss, "udp": {"sent": count, "received": len(received), "lost": lost,
                                             "lost_indices": sorted(set(range(count)) - received)},
               "tcp": {"bytes_sent": count * p["size"], "bytes_received": tcp["got"]["bytes"], "intact": intact,
                       "retransmitted_segments": resent, "seconds_to_last_ack": seconds}})


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
        "framing-fix", _("the fix: length-prefixed frames"),
        passed=delivered == expected and not errors,
        expected=_("{frames} frames of 0 B to {max_frame} B, read in varying chunks over a link with {delay_ms} ms "
                   "delay and {loss_rate:.0%} loss: all delivered, every sha256 verified").format(
            frames=p["frames"], max_frame=p["max_frame"], delay_ms=p["frame_delay_ms"],
            loss_rate=p["frame_loss"] / 100),
        observed=_("{intact}/{frames} frames intact ({mib:.1f} MiB in {seconds} s)").format(
            intact=intact, frames=len(expected), mib=sent["bytes"] / 2**20, seconds=sent["seconds"])
                 + (_("; errors: {errors}").format(errors=errors) if errors else ""),
        why=_("A 4-byte '!I' length and a JSON header tell the reader exactly how many bytes make the next "
              "message, so it loops until it has them, whatever the chunks."),
        facts={"frames": len(expected), "delivered_intact": intact, "bytes": sent["bytes"],
               "wire_sizes": [f["wire"] for f in got["frames"]],
               "reads": got["connections"][0]["reads"] if got["connections"] else [],
               "sizes": {"min": min(f[1] for f in expected), "max": max(f[1] for f in expected)},
               "seconds": sent["seconds"], "errors": errors,
               "link": {"delay_ms": p["frame_delay_ms"], "loss_percent": p["frame_loss"]}})


def wire_step(nagle, nodelay):
    def lists(run):
        return {"send_calls": run["sent"]["sends"], "segments": [s["bytes"] for s in run["segments"]["segments"]],
                "recv_chunks": run["got"]["chunks"]}
    a, b = lists(nagle), lists(nodelay)
    differ = a["send_calls"] != a["segments"] != a["recv_chunks"] != a["send_calls"]
    show = lambda l: _("{sends} send() → {segment_count} segments {segments} → {reads} recv() {chunks}").format(
        sends=len(l["send_calls"]), segment_count=len(l["segments"]), segments=l["segments"],
        reads=len(l["recv_chunks"]), chunks=l["recv_chunks"])
    return Step(
        "wire-view", _("wire view: three boundary lists for one stream"),
        passed=differ and sum(a["segments"]) == sum(a["send_calls"]) == sum(a["recv_chunks"]),
        expected=_("the sender's send() calls, the TCP segments on the wire and the receiver's recv() chunks cut "
                   "the same bytes differently"),
        observed=_("Nagle on: {nagle}; TCP_NODELAY: {nodelay}").format(nagle=show(a), nodelay=show(b)),
        why=_("Each layer cuts the stream its own way: the program writes, Nagle and the congestion window "
              "segment, the receive buffer merges — no layer keeps the program's messages."),
        facts={"nagle": a, "nodelay": b}, files={"pcap": nagle["pcap"]}, events=nagle["events"])


def dissect_step(run):
    frame = run["frame"]
    eth, ip, tcp, payload = frame["ethernet"], frame["ipv4"], frame.get("tcp", {}), frame["payload"]
    first_message = payload["hex"].startswith("00 00 00 00 41")
    options = tcp.get("options", [])
    option_bytes = sum(o["bytes"] for o in options)
    scale = run["sent"]["tcp"]["rcv_wscale"]  # the sender's own, agreed in the SYN: its windows are << scale
    window = tcp.get("window", 0)
    trailer = eth["trailer_bytes"]  # what follows the IP packet in the frame: a 4-byte FCS, if the card kept it
    return Step(
        "frame-dissected", _("one frame, layer by layer (AF_PACKET raw socket)"),
        passed=bool(tcp) and tcp.get("dst_port") == ports.STICKY and ip["protocol"] == "TCP" and first_message
        and tcp["header_bytes"] == 20 + option_bytes and ip["version"] == 4 and ip["checksum_ok"]
        and trailer in (0, 4),  # IPv4 begins where the Ethernet header was measured to end, its checksum holds
        expected=_("a raw socket on the server reads a whole Ethernet frame of the stream: Ethernet, IPv4 and "
                   "TCP headers, then message 0's bytes"),
        observed=_("{frame_bytes} bytes = Ethernet {eth_header} ({eth_src} → {eth_dst}, type {eth_type}) + IPv4 "
                   "{ip_header} ({ip_src} → {ip_dst}, TTL {ttl}) + TCP {tcp_header} = 20 + {option_bytes} of "
                   "options [{options}] ({src_port} → {dst_port}, seq {seq}, {flags}, window {window} × 2^{scale} "
                   "= {window_bytes} bytes) + payload {payload_bytes}: {payload_hex}; {trailer} bytes after the IP "
                   "packet").format(
            frame_bytes=frame["frame_bytes"], eth_header=eth["header_bytes"], eth_src=eth["src"], eth_dst=eth["dst"],
            eth_type=eth["type"], ip_header=ip["header_bytes"], ip_src=ip["src"], ip_dst=ip["dst"], ttl=ip["ttl"],
            tcp_header=tcp.get("header_bytes"), option_bytes=option_bytes,
            options=", ".join(o["kind"] for o in options), src_port=tcp.get("src_port"),
            dst_port=tcp.get("dst_port"), seq=tcp.get("seq"), flags="+".join(tcp.get("flags", [])), window=window,
            scale=scale, window_bytes=window << scale, payload_bytes=payload["bytes"], payload_hex=payload["hex"],
            trailer=trailer),
        why=(_("SOCK_RAW on AF_PACKET hands over frames as the network card delivered them: the course's layers, "
               "read off real bytes. The course's 18 bytes of Ethernet are the {header_bytes}-byte header (6 + 6 + "
               "2: destination, source, type) plus a 4-byte checksum (FCS), a trailer at the frame's end.")
             + " " + (_("This lab's veth interfaces carry no FCS at all: the frame ends where the IP packet does.")
                      if trailer == 0 else _("Here {trailer} bytes follow the IP packet."))
             + " " + _("TCP's window field is 16 bits; the window scale agreed in the handshake ({scale}) multiplies "
                       "it. The options are {options}: timestamps measure the round trip and guard against wrapped "
                       "sequence numbers.")).format(
            header_bytes=eth["header_bytes"], trailer=trailer, scale=scale,
            options=", ".join(o["kind"] for o in options) or _("none")),
        facts={"frame": frame, "option_bytes": option_bytes, "window_scale": scale, "window_bytes": window << scale})


def unix_step(server, p):
    base = ["--count", p["count"], "--size", p["size"]]
    def exchange(proto, path):
        with server.serve("receiver", proto, path, "--bufsize", p["bufsize"], "--delay",
                          p["receiver_delay_ms"] / 1000, "--idle", 0.5) as receiver:
            sent = server.program("sender", proto, path, *base)
            return sent, receiver.result(30)
    sent, stream = exchange("unix-stream", "/tmp/sticky-stream.sock")
    merged = compare(sent["sizes"], stream["chunks"])["merged_reads"]
    sent_dgram, dgram = exchange("unix-dgram", "/tmp/sticky-dgram.sock")
    reads = [d["received"] for d in dgram["datagrams"]]
    order = [d["index"] for d in dgram["datagrams"]]
    qlen, waited_ms = sent_dgram["max_dgram_qlen"], sent_dgram["longest_send_ms"]
    # more datagrams than the queue holds, and a late reader: the sender must have waited, not dropped
    testable = p["count"] > qlen and p["receiver_delay_ms"] > 0
    blocked = waited_ms >= p["receiver_delay_ms"] / 2 if testable else None
    return Step(
        "unix-sockets", _("AF_UNIX: boundaries belong to the socket type"),
        passed=merged > 0 and reads == [p["size"]] * p["count"] and order == list(range(p["count"]))
        and blocked is not False,
        expected=_("inside one node, a SOCK_STREAM Unix socket merges messages like TCP; a SOCK_DGRAM one keeps "
                   "each message whole, loses none and keeps their order, and a full queue makes the sender wait"),
        observed=_("SOCK_STREAM: {count} sends → {stream_reads} recv() {chunks}; SOCK_DGRAM: {dgram_reads} reads of "
                   "{sizes} bytes, in order: {in_order}; the queue holds {qlen} datagrams and the sender's longest "
                   "sendto() waited {waited_ms} ms for the late reader").format(
            count=p["count"], stream_reads=len(stream["chunks"]), chunks=stream["chunks"], dgram_reads=len(reads),
            sizes=sorted(set(reads)), in_order=_("yes") if order == sorted(order) else _("no"), qlen=qlen,
            waited_ms=waited_ms)
        + ("" if testable else _(" (not tested: it needs more datagrams than the queue holds and a late reader)")),
        why=_("No network is involved: a byte stream has no message boundaries wherever it runs; datagrams do. "
              "Unix datagrams are like UDP in that one thing only, message boundaries: unlike UDP they are never "
              "lost or reordered, and a full receive queue blocks the sender instead of dropping."),
        facts={"stream": {"recvs": stream["chunks"], "merged_reads": merged},
               "dgram": {"reads": reads, "arrival_order": order, "max_dgram_qlen": qlen,
                         "longest_send_ms": waited_ms, "sender_blocked": blocked}})


def run(lab, params, progress):
    server, client = lab.node("server"), lab.node("client1")
    tcp = Exchange(server, client, "tcp")
    progress(_("TCP merge: Nagle on, then TCP_NODELAY, over a link with {rtt_ms} ms more RTT").format(
        rtt_ms=params["rtt_ms"]))
    with server.impaired(delay=f"{params['rtt_ms']}ms"):  # delays the ACKs: Nagle's waiting shows on the wire
        nagle, nodelay = merge_exchange(tcp, False, params), merge_exchange(tcp, True, params)
    steps = [merge_step(nagle, nodelay, False, params), merge_step(nagle, nodelay, True, params)]
    progress(_("TCP leftover"))
    steps.append(leftover_step(tcp, params))
    progress(_("UDP: boundaries, the receive buffer, truncation, loss"))
    udp = Exchange(server, client, "udp")
    steps += [udp_boundaries_step(udp, params), udp_rcvbuf_step(udp, params), udp_truncation_step(udp, params),
              loss_step(server, client, params)]
    progress(_("framing: {frames} frames up to {max_frame} bytes over an impaired link").format(
        frames=params["frames"], max_frame=params["max_frame"]))
    steps.append(framing_step(server, client, params))
    progress(_("the wire view and one frame dissected"))
    steps += [wire_step(nagle, nodelay), dissect_step(nagle)]
    progress(_("AF_UNIX inside the server node"))
    steps.append(unix_step(server, params))
    return steps
