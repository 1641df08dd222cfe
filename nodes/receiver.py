"""Receive without any framing, recording every chunk one read returned: the reader's boundaries.

    python3 -m nodes.receiver {tcp,udp} --port P [--bufsize B] [--delay S] [--reads K] [--idle S]
    python3 -m nodes.receiver {unix-stream,unix-dgram} PATH [...]

Says `listening` on stderr when bound. Streams: accepts one connection, waits --delay seconds (so that
what was sent piles up in the receive buffer), then reads --bufsize at a time until the peer closes (or
--reads reads). Datagrams: waits for the first to arrive and --delay seconds more, then reads datagrams
until --idle seconds pass without one; each read reports the datagram's real length (MSG_TRUNC), so a
datagram larger than the buffer shows as truncated, its excess discarded by the kernel; "rcvbuf_errors"
counts the node's UDP datagrams dropped for a full receive buffer meanwhile.
"""
import argparse
import hashlib
import os
import socket
import struct
import sys
import time

from nodes.lib import ports, program
from nodes.lib.numbered import FAMILIES


def stream_chunks(conn, bufsize, reads):
    """Each read's size, first bytes and when it returned, until the peer closes or `reads` reads; and the
    stream's sha256."""
    chunks, digest = [], hashlib.sha256()
    while reads is None or len(chunks) < reads:
        data = conn.recv(bufsize)
        if not data:
            break
        chunks.append({"size": len(data), "head": data[:8].hex(), "time": round(time.time(), 6)})
        digest.update(data)
    return chunks, digest.hexdigest()


def datagrams(sock, bufsize, idle):
    buffer = bytearray(bufsize)
    got = []
    sock.settimeout(idle)
    while True:
        try:
            length = sock.recv_into(buffer, bufsize, socket.MSG_TRUNC)  # the datagram's real length
        except socket.timeout:
            return got
        kept = min(length, bufsize)
        got.append({"index": struct.unpack_from("!I", buffer)[0] if kept >= 4 else None, "length": length,
                    "received": kept, "truncated": length > bufsize})


def first_arrival(sock, limit):
    """Wait until a datagram is there to read (up to limit seconds), leaving it queued."""
    sock.settimeout(limit)
    try:
        sock.recv(1, socket.MSG_PEEK)
    except socket.timeout:
        pass


def udp_rcvbuf_errors():
    """The node's count of UDP datagrams dropped for a full receive buffer (/proc/net/snmp, RcvbufErrors)."""
    with open("/proc/net/snmp") as snmp:
        names, values = [line.split() for line in snmp if line.startswith("Udp:")][:2]
    return int(values[names.index("RcvbufErrors")])


def run(argv):
    parser = argparse.ArgumentParser(prog="nodes.receiver")
    parser.add_argument("proto", choices=FAMILIES)
    parser.add_argument("path", nargs="?", help="socket path (unix-*)")
    parser.add_argument("--port", type=int, default=ports.STICKY)
    parser.add_argument("--bufsize", type=int, default=1024)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before the first read")
    parser.add_argument("--reads", type=int, default=None, help="stop after this many reads (streams)")
    parser.add_argument("--idle", type=float, default=1.0, help="datagrams: stop after this long without one")
    parser.add_argument("--rcvbuf", type=int, help="set SO_RCVBUF to this many bytes (Linux doubles it)")
    args = parser.parse_args(argv)
    family, kind = FAMILIES[args.proto]
    if family == socket.AF_UNIX:
        if not args.path:
            raise ValueError(f"{args.proto} needs a socket path")
        if os.path.exists(args.path):
            os.unlink(args.path)
    address = ("", args.port) if family == socket.AF_INET else args.path
    with socket.socket(family, kind) as sock:
        if family == socket.AF_INET and kind == socket.SOCK_STREAM:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if args.rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
        sock.bind(address)
        if kind == socket.SOCK_STREAM:
            sock.listen(1)
        print("listening", file=sys.stderr, flush=True)
        if kind == socket.SOCK_DGRAM:
            counted = udp_rcvbuf_errors if family == socket.AF_INET else lambda: 0
            errors = counted()
            first_arrival(sock, 30.0)
            time.sleep(args.delay)  # counted from the first datagram: the sender has started by then
            got = datagrams(sock, args.bufsize, args.idle)
            return {"proto": args.proto, "bufsize": args.bufsize, "datagrams": got,
                    "rcvbuf": sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF), "rcvbuf_errors": counted() - errors}
        conn, peer = sock.accept()
        with conn:
            time.sleep(args.delay)  # the lesson: the receiver is late, the bytes wait in its buffer
            chunks, digest = stream_chunks(conn, args.bufsize, args.reads)
    return {"proto": args.proto, "bufsize": args.bufsize, "chunks": [c["size"] for c in chunks],
            "heads": [c["head"] for c in chunks], "recv_times": [c["time"] for c in chunks],
            "bytes": sum(c["size"] for c in chunks), "sha256": digest,
            **({"peer_port": peer[1]} if isinstance(peer, tuple) else {})}


if __name__ == "__main__":
    program.main(run)
