"""Send numbered messages back to back, recording what each send() call took: the writer's boundaries.

    python3 -m nodes.sender {tcp,udp} HOST --port P [--count N --size S | --sizes A,B,...] [--nodelay] [--gap-ms G]
    python3 -m nodes.sender {unix-stream,unix-dgram} PATH [...]

Message i starts with i as a 4-byte network-order number ("!I"), then the letter A+i%26 as filler, so a
reader can tell whose bytes it got. Result: {"proto", "nodelay", "sizes", "sends": [bytes per send() call]};
for TCP also "tcp": what the kernel's TCP_INFO says once every byte is acknowledged (retransmissions, the
window scale, the seconds until the last ACK); for datagrams "longest_send_ms" (the longest sendto()) and,
for unix-dgram, "max_dgram_qlen" (how many datagrams the receiver's queue holds before senders wait).
"""
import argparse
import hashlib
import socket
import struct
import time

from nodes.lib import ports, program
from nodes.lib.numbered import FAMILIES, message

def tcp_info(sock):
    """The fields of Linux's struct tcp_info (native byte order) that the lessons show."""
    raw = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    word = lambda index: struct.unpack_from("=I", raw, 8 + 4 * index)[0]  # the u32 fields after 8 bytes of u8s
    return {"snd_wscale": raw[6] & 0x0F, "rcv_wscale": raw[6] >> 4, "rto_us": word(0), "unacked": word(4),
            "rtt_us": word(15), "snd_cwnd": word(18), "total_retrans": word(23)}


def acknowledged(sock, limit=30.0):
    """TCP_INFO once nothing sent is unacknowledged (or limit seconds have passed), and how long that took."""
    started = time.monotonic()
    while (info := tcp_info(sock))["unacked"] and time.monotonic() - started < limit:
        time.sleep(0.005)  # the kernel says nothing when the last ACK comes: ask it again
    return info


def parse_sizes(text):
    return [int(part) for part in text.split(",") if part]


def stream(sock, address, sizes, nodelay, gap_ms):
    """Send each message over a stream, recording every send() call and when it was made (for a replay):
    (sends, times, sha256, TCP_INFO once all is acknowledged, for TCP)."""
    sends, times, digest = [], [], hashlib.sha256()
    if nodelay:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.connect(address)
    started = time.monotonic()
    for index, size in enumerate(sizes):
        data = memoryview(message(index, size))
        digest.update(data)
        while data:  # send() may take less than it was given: record every call
            times.append(round(time.time(), 6))  # when it was called
            taken = sock.send(data)
            sends.append(taken)
            data = data[taken:]
        if gap_ms:
            time.sleep(gap_ms / 1000)
    tcp = {**acknowledged(sock), "seconds": round(time.monotonic() - started, 4)} if sock.family == socket.AF_INET \
        else None
    return sends, times, digest.hexdigest(), tcp


def datagrams(sock, address, sizes):
    """Send each message as a datagram: (sendto() results, {"sha256", "longest_send_ms"[, "max_dgram_qlen"]}).
    A full AF_UNIX queue makes sendto() wait for its receiver; UDP never waits for its receiver (only for its
    own send buffer)."""
    sends, longest, digest = [], 0.0, hashlib.sha256()
    for index, size in enumerate(sizes):
        data = message(index, size)
        digest.update(data)
        started = time.monotonic()
        sends.append(sock.sendto(data, address))
        longest = max(longest, time.monotonic() - started)
    waited = {"longest_send_ms": round(longest * 1000, 2), "sha256": digest.hexdigest()}
    if sock.family == socket.AF_UNIX:
        with open("/proc/sys/net/unix/max_dgram_qlen") as qlen:
            waited["max_dgram_qlen"] = int(qlen.read())
    return sends, waited


def run(argv):
    parser = argparse.ArgumentParser(prog="nodes.sender")
    parser.add_argument("proto", choices=FAMILIES)
    parser.add_argument("address", help="host (tcp, udp) or socket path (unix-*)")
    parser.add_argument("--port", type=int, default=ports.STICKY)
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--size", type=int, default=40)
    parser.add_argument("--sizes", type=parse_sizes, help="message sizes, overriding --count and --size")
    parser.add_argument("--nodelay", action="store_true", help="set TCP_NODELAY (turn Nagle's algorithm off)")
    parser.add_argument("--gap-ms", type=float, default=0.0,
                        help="pause between messages (with --nodelay: one segment per message)")
    args = parser.parse_args(argv)
    sizes = args.sizes or [args.size] * args.count
    family, kind = FAMILIES[args.proto]
    address = (args.address, args.port) if family == socket.AF_INET else args.address
    result = {"proto": args.proto, "nodelay": args.nodelay, "sizes": sizes}
    with socket.socket(family, kind) as sock:
        if kind == socket.SOCK_STREAM:
            sends, times, sha256, tcp = stream(sock, address, sizes, args.nodelay, args.gap_ms)
            port = {"port": sock.getsockname()[1]} if family == socket.AF_INET else {}
            return {**result, "sends": sends, "send_times": times, "sha256": sha256, **port,
                    **({"tcp": tcp} if tcp else {})}
        sends, waited = datagrams(sock, address, sizes)
        return {**result, "sends": sends, **waited}


if __name__ == "__main__":
    program.main(run)
