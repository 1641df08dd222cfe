"""ICMP echo from this node to other hosts, over a raw socket (SOCK_RAW), with round-trip times.

    python3 -m nodes.ping [--count N] [--interval S] [--timeout S] HOST...

Result: {"targets": [{"host", "ip", "addresses", "sent", "received", "rtt_ms": [...]}]}. A host that does not resolve is
an error; one that does not answer is reported with received 0.
"""
import argparse
import os
import select
import socket
import struct
import time

from nodes.lib import program
from nodes.lib.checksum import internet as checksum

ECHO_REQUEST, ECHO_REPLY = 8, 0


def echo_request(ident, seq, payload=b"socklab"):
    """An ICMP echo request packet."""
    header = struct.pack("!BBHHH", ECHO_REQUEST, 0, 0, ident, seq)
    return struct.pack("!BBHHH", ECHO_REQUEST, 0, checksum(header + payload), ident, seq) + payload


def parse_reply(packet, ident):
    """The sequence number of an echo reply to us in an IPv4 packet, or None for anything else."""
    ihl = (packet[0] & 0x0F) * 4
    if len(packet) < ihl + 8:
        return None
    kind, _, _, rid, seq = struct.unpack_from("!BBHHH", packet, ihl)
    return seq if kind == ECHO_REPLY and rid == ident else None


def ping(host, count, interval, timeout):
    """Send count echo requests to host; return its summary with every measured round trip."""
    try:
        _, _, addresses = socket.gethostbyname_ex(host)  # a scaled service's name: every replica's address
        ip = addresses[0]
    except socket.gaierror as exc:
        raise program.ProgramError(f"cannot resolve {host!r}: {exc.strerror}") from None
    ident = os.getpid() & 0xFFFF
    rtts = []
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as sock:
        for seq in range(count):
            sent = time.monotonic()
            sock.sendto(echo_request(ident, seq), (ip, 0))
            deadline = sent + timeout
            while (left := deadline - time.monotonic()) > 0:
                if not select.select([sock], [], [], left)[0]:
                    break
                packet, (source, _) = sock.recvfrom(2048)
                if source == ip and parse_reply(packet, ident) == seq:
                    rtts.append(round((time.monotonic() - sent) * 1000, 3))
                    break
            time.sleep(max(0.0, interval - (time.monotonic() - sent)))
    return {"host": host, "ip": ip, "addresses": sorted(addresses), "sent": count, "received": len(rtts),
            "rtt_ms": rtts}


def run(argv):
    parser = argparse.ArgumentParser(prog="nodes.ping")
    parser.add_argument("--count", type=int, default=3)
    parser.add_argument("--interval", type=float, default=0.05)
    parser.add_argument("--timeout", type=float, default=1.0)
    parser.add_argument("hosts", nargs="+")
    args = parser.parse_args(argv)
    return {"targets": [ping(h, args.count, args.interval, args.timeout) for h in args.hosts]}


if __name__ == "__main__":
    program.main(run)
