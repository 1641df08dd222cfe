"""Frames read layer by layer (Ethernet, IPv4, TCP, UDP) and classic pcap files: what nodes.packets reads in a
node, and what the host's replay reads from a run's capture."""
import socket
import struct

from nodes.lib.checksum import internet
from nodes.lib.program import ProgramError

ETH_P_ALL, ETH_P_IP = 0x0003, 0x0800
TCP, UDP = 6, 17
TCP_FLAGS = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"]


def mac(raw):
    return ":".join(f"{b:02x}" for b in raw)


ETH_P_8021Q = 0x8100


def ethernet(frame):
    """The Ethernet header as this frame has it: 6 + 6 + 2 bytes, 4 more for each 802.1Q VLAN tag."""
    dst, src, kind = struct.unpack_from("!6s6sH", frame)
    offset = 14
    while kind == ETH_P_8021Q:
        kind = struct.unpack_from("!H", frame, offset + 2)[0]
        offset += 4
    return {"dst": mac(dst), "src": mac(src), "type": f"0x{kind:04x}", "header_bytes": offset}, frame[offset:]


def ipv4(packet):
    version_ihl, tos, total, ident, flags_frag, ttl, proto, checksum, src, dst = struct.unpack_from(
        "!BBHHHBBH4s4s", packet)
    ihl = (version_ihl & 0x0F) * 4
    return ({"version": version_ihl >> 4, "header_bytes": ihl, "total_length": total, "id": ident,
             "checksum_ok": internet(packet[:ihl]) == 0,
             "dont_fragment": bool(flags_frag & 0x4000), "ttl": ttl, "protocol": {TCP: "TCP", UDP: "UDP"}.get(proto, proto),
             "checksum": f"0x{checksum:04x}", "src": socket.inet_ntoa(src), "dst": socket.inet_ntoa(dst)},
            packet[ihl:total])


OPTIONS = {0: "EOL", 1: "NOP", 2: "MSS", 3: "window scale", 4: "SACK permitted", 5: "SACK", 8: "timestamps"}


def tcp_options(raw):
    """[{"kind", "bytes", ...}] of a TCP header's options: what fills it past its 20 fixed bytes."""
    options, i = [], 0
    while i < len(raw):
        kind = raw[i]
        length = 1 if kind in (0, 1) else (raw[i + 1] if i + 1 < len(raw) else 1)
        option = {"kind": OPTIONS.get(kind, kind), "bytes": max(1, length)}
        if kind == 8 and length == 10:
            option["tsval"], option["tsecr"] = struct.unpack_from("!II", raw, i + 2)
        options.append(option)
        i += max(1, length)
        if kind == 0:
            break
    return options


def tcp(segment):
    sport, dport, seq, ack, offset_flags, window, checksum, urgent = struct.unpack_from("!HHIIHHHH", segment)
    offset = (offset_flags >> 12) * 4
    flags = [name for bit, name in enumerate(TCP_FLAGS) if offset_flags & (1 << bit)]
    return ({"src_port": sport, "dst_port": dport, "seq": seq, "ack": ack, "header_bytes": offset, "flags": flags,
             "window": window, "checksum": f"0x{checksum:04x}", "options": tcp_options(segment[20:offset])},
            segment[offset:])


def udp(datagram):
    sport, dport, length, checksum = struct.unpack_from("!HHHH", datagram)
    return ({"src_port": sport, "dst_port": dport, "length": length, "checksum": f"0x{checksum:04x}",
             "header_bytes": 8}, datagram[8:length])


def dissect(frame):
    """{"ethernet", "ipv4", "tcp" or "udp", "payload"} for an IPv4 TCP/UDP frame, else None."""
    eth, rest = ethernet(frame)
    if eth["type"] != f"0x{ETH_P_IP:04x}" or len(rest) < 20:
        return None
    ip, rest = ipv4(rest)
    if ip["protocol"] not in ("TCP", "UDP"):
        return None
    transport, payload = (tcp if ip["protocol"] == "TCP" else udp)(rest)
    eth["trailer_bytes"] = len(frame) - eth["header_bytes"] - ip["total_length"]  # an FCS, padding: past IP's end
    return {"frame_bytes": len(frame), "ethernet": eth, "ipv4": ip, ip["protocol"].lower(): transport,
            "payload": {"bytes": len(payload), "hex": payload[:16].hex(" "),
                        "text": payload[:32].decode("ascii", errors="replace")}}


def pcap_frames(data):
    """The frames of a classic pcap file (microsecond or nanosecond, either byte order)."""
    for _, frame in pcap_records(data):
        yield frame


def pcap_records(data):
    """(time, frame) of each frame of a classic pcap file, the time in seconds since the epoch."""
    magic = data[:4]
    if len(data) < 24:
        raise ProgramError("not a pcap file")
    order = {b"\xd4\xc3\xb2\xa1": "<", b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">", b"\xa1\xb2\x3c\x4d": ">"}
    if magic not in order:
        raise ProgramError("not a pcap file")
    endian = order[magic]
    if struct.unpack_from(f"{endian}I", data, 20)[0] != 1:
        raise ProgramError("not an Ethernet capture")
    fraction = 1e-9 if magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d") else 1e-6
    offset = 24
    while offset + 16 <= len(data):
        seconds, part, included, _ = struct.unpack_from(f"{endian}IIII", data, offset)
        if offset + 16 + included > len(data):
            return  # a capture stopped mid-record: what came before it is whole
        yield seconds + part * fraction, data[offset + 16:offset + 16 + included]
        offset += 16 + included
