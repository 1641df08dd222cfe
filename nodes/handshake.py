"""A TCP connection's life on the wire — the three-way handshake (三次握手), a half-close, the four-way close
(四次挥手) — the listen backlog (半连接池, 全连接队列), and how far struct's formats reach.

    python3 -m nodes.handshake capture --ports P[,P...] [--seconds S]
    python3 -m nodes.handshake talk-server --port P [--reply-delay S] [--timeout S]
    python3 -m nodes.handshake talk HOST --port P [--timeout S]
    python3 -m nodes.handshake backlog-server --port P --backlog N --hold S --expect K [--timeout S]
    python3 -m nodes.handshake backlog-clients HOST --port P --queued N --late K [--timeout S]
    python3 -m nodes.handshake struct-range

`capture` reads every TCP segment to or from the ports off an AF_PACKET raw socket (dissected by
nodes.packets), says `listening` on stderr, and prints them all when it is stopped (SIGTERM) or after S s.
`talk` sends a request, shuts its writing half (shutdown(SHUT_WR)) and reads the reply to its end;
`talk-server` reads to the end, replies, then closes. Each says the state its side was left in (ss).
`backlog-server` listens with listen(N) and, once its accept queue is full, does not accept() for S seconds;
`backlog-clients` fills that queue one connection after another, then connects K more at once, timing each.
`struct-range` packs each format's largest number, then one more.
"""
import argparse
import json
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

from nodes.lib import frames, program, serving
from nodes.sender import tcp_info

REQUEST = b"the whole request, then end of file"
SERVER_SYSCTLS = ("net/ipv4/tcp_syncookies", "net/ipv4/tcp_max_syn_backlog", "net/core/somaxconn",
                  "net/ipv4/tcp_abort_on_overflow")
CLIENT_SYSCTLS = ("net/ipv4/tcp_syn_retries", "net/ipv4/tcp_syn_linear_timeouts")  # the SYN's resend timers
FORMATS = ("i", "!I", "!Q")
FILE_BYTES = 5 << 30  # a 5 GiB file


class Stopped(Exception):
    """SIGTERM: the capture ends and says what it saw."""


def address(pair):
    return f"{pair[0]}:{pair[1]}"


def segment(layers, at):
    """One captured TCP segment as the result lists it; a SYN with its options."""
    ip, tcp = layers["ipv4"], layers["tcp"]
    found = {"t": round(at, 6), "src": f"{ip['src']}:{tcp['src_port']}", "dst": f"{ip['dst']}:{tcp['dst_port']}",
             "flags": tcp["flags"], "seq": tcp["seq"], "ack": tcp["ack"], "bytes": layers["payload"]["bytes"]}
    if "SYN" in tcp["flags"]:
        found["options"] = [option["kind"] for option in tcp["options"]]
    return found


def tcp_layers(frame):
    """The frame's layers if it carries an IPv4 TCP segment, else None (a frame too short to read, too)."""
    try:
        layers = frames.dissect(frame)
    except struct.error:
        return None
    return layers if layers and "tcp" in layers else None


def stop_on_term(signum, frame):
    raise Stopped


def capture(args):
    """Every TCP segment to or from the ports, until SIGTERM or args.seconds."""
    found, wanted = [], set(args.ports)
    signal.signal(signal.SIGTERM, stop_on_term)
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(frames.ETH_P_ALL)) as sock:
        print("listening", file=sys.stderr, flush=True)
        started = time.monotonic()
        try:
            while (left := started + args.seconds - time.monotonic()) > 0:
                sock.settimeout(left)
                frame, (interface, _proto, kind, *_rest) = sock.recvfrom(65535)
                layers = tcp_layers(frame)
                ports = layers and {layers["tcp"]["src_port"], layers["tcp"]["dst_port"]}
                # the loopback shows each frame twice, going out and coming in: the second is kept
                if ports and wanted & ports and not (interface == "lo" and kind == socket.PACKET_OUTGOING):
                    found.append(segment(layers, time.monotonic() - started))
        except (Stopped, socket.timeout):
            pass
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the result short
    return {"segments": found}


def ss(*argv):
    """The lines ss prints, without its header."""
    done = subprocess.run(["ss", "-H", *argv], capture_output=True, text=True, timeout=10)
    return [line.split() for line in done.stdout.splitlines() if line.strip()]


def settled(local, remote, seconds=2.0):
    """(state, ss line) of this side of a connection once nothing it sent awaits an ACK: TIME-WAIT, or "gone"
    (no line at all)."""
    deadline = time.monotonic() + seconds
    while True:
        lines = ss("-tan", f"( sport = :{local[1]} and dport = :{remote[1]} )")
        if not lines or lines[0][0] == "TIME-WAIT" or time.monotonic() > deadline:
            return (lines[0][0], " ".join(lines[0])) if lines else ("gone", "")
        time.sleep(0.01)  # LAST-ACK until the peer's ACK comes: the kernel says nothing, so ask again


def until_end(sock):
    """Every byte the peer sends until its FIN (recv() returns b'')."""
    data = bytearray()
    while chunk := sock.recv(4096):
        data += chunk
    return bytes(data)


def answer(conn, reply_delay):
    """Read to the end, wait a moment, reply, close: what this side saw and the state it was left in."""
    received = until_end(conn)
    eof_at = time.monotonic()
    time.sleep(reply_delay)  # the reply takes a moment: the ACK of the client's FIN leaves on its own
    reply = f"{len(received)} bytes, then end of file".encode()
    local, remote = conn.getsockname(), conn.getpeername()
    conn.sendall(reply)
    replied_after = time.monotonic() - eof_at
    conn.close()
    state, line = settled(local, remote)
    return {"server": address(local), "client": address(remote), "received": received.decode(errors="replace"),
            "replied": reply.decode(), "replied_after_eof_s": round(replied_after, 4),
            "state_after_close": state, "ss": line}


def talk_server(args):
    """Serve one whole conversation; a connection that goes wrong is logged and the next one served."""
    with socket.create_server(("", args.port)) as server:
        print("listening", file=sys.stderr, flush=True)
        deadline = time.monotonic() + args.timeout
        while (left := deadline - time.monotonic()) > 0:
            server.settimeout(left)
            try:
                conn, peer = server.accept()
            except socket.timeout:
                break
            conn.settimeout(args.timeout)
            with serving.contained("nodes.handshake", serving.peer_name(peer)), conn:
                return answer(conn, args.reply_delay)
    raise program.ProgramError(f"no whole conversation in {args.timeout} s")


def talk(args):
    """Connect, send the request, shut the writing half, read the reply to its end, close."""
    with socket.socket() as sock:
        sock.settimeout(args.timeout)
        started = time.monotonic()
        sock.connect((args.host, args.port))
        connected = time.monotonic()
        local, remote = sock.getsockname(), sock.getpeername()
        sock.sendall(REQUEST)
        sock.shutdown(socket.SHUT_WR)  # our FIN: the server's recv() returns b''; we can still receive
        reply = until_end(sock)
    state, line = settled(local, remote)
    return {"client": address(local), "server": address(remote), "connect_s": round(connected - started, 6),
            "sent": REQUEST.decode(), "reply_after_shutdown": reply.decode(errors="replace"),
            "state_after_close": state, "ss": line}


def sysctls(names):
    """{name: value} of /proc/sys entries; None where this kernel has no such entry."""
    found = {}
    for name in names:
        try:
            with open(f"/proc/sys/{name}") as f:
                found[name.rsplit("/", 1)[1]] = int(f.read())
        except FileNotFoundError:
            found[name.rsplit("/", 1)[1]] = None
    return found


def listen_counters():
    """The node's TcpExt ListenOverflows and ListenDrops (/proc/net/netstat): SYNs and ACKs a full accept
    queue dropped."""
    with open("/proc/net/netstat") as f:
        lines = [line.split() for line in f if line.startswith("TcpExt:")]
    named = dict(zip(lines[0][1:], map(int, lines[1][1:])))
    return {"listen_overflows": named["ListenOverflows"], "listen_drops": named["ListenDrops"]}


def wait_full(server, size, seconds):
    """Wait until the accept queue holds size connections (TCP_INFO of a listener: tcpi_unacked is its
    length); the moment it did."""
    deadline = time.monotonic() + seconds
    while tcp_info(server)["unacked"] < size:
        if time.monotonic() > deadline:
            raise program.ProgramError(f"the accept queue never held {size} connections in {seconds} s")
        time.sleep(0.002)  # the kernel tells no one when a handshake completes: ask again
    return time.monotonic()


def listen_line(port):
    """ss -lnt's line for the listener: its Recv-Q (connections waiting to be accepted) and Send-Q (its
    backlog)."""
    line = ss("-lnt", f"( sport = :{port} )")[0]
    return {"line": " ".join(line), "recv_q": int(line[1]), "send_q": int(line[2])}


def accept_all(server, count, since, deadline):
    """Accept until count connections (or the deadline): each one's peer and when, in s since `since`."""
    accepted = []
    while len(accepted) < count and (left := deadline - time.monotonic()) > 0:
        server.settimeout(left)
        try:
            conn, peer = server.accept()
        except socket.timeout:
            break
        accepted.append((conn, {"client": address(peer), "after_full_s": round(time.monotonic() - since, 4)}))
    return accepted


def backlog_server(args):
    """listen(backlog); once the accept queue is full, no accept() until args.hold s later; then everyone."""
    with socket.create_server(("", args.port), backlog=args.backlog) as server:
        print("listening", file=sys.stderr, flush=True)
        deadline, before = time.monotonic() + args.timeout, listen_counters()
        full_at = wait_full(server, args.backlog + 1, args.timeout)
        full = {"accept_queue": tcp_info(server)["unacked"], "ss_lnt": listen_line(args.port),
                "half_open": len(ss("-tan", "state", "syn-recv", f"( sport = :{args.port} )"))}
        time.sleep(max(0.0, full_at + args.hold - time.monotonic()))  # the lesson's server does not accept()
        after = listen_counters()
        accepted = accept_all(server, args.expect, full_at, deadline)
        for conn, _seen in accepted:
            conn.close()
    return {"port": args.port, "backlog": args.backlog, "hold_s": args.hold, "sysctls": sysctls(SERVER_SYSCTLS),
            "full": full, "dropped": {name: after[name] - before[name] for name in after},
            "accepted": [seen for _conn, seen in accepted]}


def timed_connect(host, port, seconds):
    """(socket or None, {"client", "seconds", "outcome"}): one connect() and how long it took."""
    sock = socket.socket()
    sock.bind(("", 0))  # the port is known even if connect() never returns
    sock.settimeout(seconds)
    started = time.monotonic()
    try:
        sock.connect((host, port))
        outcome = "connected"
    except socket.timeout:
        outcome = "timed out"
    except OSError as exc:
        outcome = type(exc).__name__
    seen = {"client": address(sock.getsockname()), "seconds": round(time.monotonic() - started, 6),
            "outcome": outcome}
    if outcome != "connected":
        sock.close()
        sock = None
    return sock, seen


def backlog_clients(args):
    """Fill the accept queue one connection after another (each handshake done before the next SYN leaves),
    then connect args.late more at once; keep them all open until the last connect() has returned."""
    queued = [timed_connect(args.host, args.port, args.timeout) for _ in range(args.queued)]
    late = [None] * args.late

    def connect(index):
        late[index] = timed_connect(args.host, args.port, args.timeout)
    threads = [threading.Thread(target=connect, args=(index,)) for index in range(args.late)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for sock, _seen in queued + late:
        if sock:
            sock.close()
    return {"server": f"{args.host}:{args.port}", "sysctls": sysctls(CLIENT_SYSCTLS),
            "queued": [seen for _sock, seen in queued], "late": [seen for _sock, seen in late]}


def packed(fmt, number):
    """The bytes struct.pack gives (hex), or the struct.error it raises."""
    try:
        return struct.pack(fmt, number).hex()
    except struct.error as exc:
        return f"struct.error: {exc}"


def struct_range(args):
    """Each format's size and largest number packed, the next number's struct.error, and a 5 GiB file's size
    in each and in a JSON header."""
    formats = {}
    for fmt in FORMATS:
        size, signed = struct.calcsize(fmt), fmt[-1].islower()
        largest = 2 ** (8 * size - signed) - 1  # a signed format gives one bit to the sign
        formats[fmt] = {"bytes": size, "largest": largest, "packed": packed(fmt, largest),
                        "one_more": packed(fmt, largest + 1)}
    header = json.dumps({"file_size": FILE_BYTES})
    return {"formats": formats, "file": {"bytes": FILE_BYTES, "packed": {fmt: packed(fmt, FILE_BYTES)
                                                                          for fmt in FORMATS},
                                         "json_header": header,
                                         "json_read_back": json.loads(header)["file_size"]}}


def run(argv):
    parser = argparse.ArgumentParser(prog="nodes.handshake")
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("capture")
    p.add_argument("--ports", type=lambda text: [int(port) for port in text.split(",")], required=True)
    p.add_argument("--seconds", type=float, default=60)
    p.set_defaults(handler=capture)
    p = commands.add_parser("talk-server")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--reply-delay", type=float, default=0.3)
    p.add_argument("--timeout", type=float, default=15)
    p.set_defaults(handler=talk_server)
    p = commands.add_parser("talk")
    p.add_argument("host")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--timeout", type=float, default=10)
    p.set_defaults(handler=talk)
    p = commands.add_parser("backlog-server")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--backlog", type=int, required=True)
    p.add_argument("--hold", type=float, required=True)
    p.add_argument("--expect", type=int, required=True)
    p.add_argument("--timeout", type=float, default=15)
    p.set_defaults(handler=backlog_server)
    p = commands.add_parser("backlog-clients")
    p.add_argument("host")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--queued", type=int, required=True)
    p.add_argument("--late", type=int, required=True)
    p.add_argument("--timeout", type=float, default=8)
    p.set_defaults(handler=backlog_clients)
    commands.add_parser("struct-range").set_defaults(handler=struct_range)
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    program.main(run)
