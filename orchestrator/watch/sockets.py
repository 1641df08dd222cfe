"""A node's TCP sockets and counters, read from the host's kernel: no program in the node, no capture.

A thread enters the node's network namespace (setns on /proc/PID/ns/net, which needs root, as Docker does)
and opens a NETLINK_SOCK_DIAG socket there; the socket stays in that namespace for good, so one dump per
poll asks the kernel for every TCP socket with its state, addresses and tcp_info (bytes and segments each
way). UDP keeps no per-socket counters: a node's datagrams in and out come from /proc/PID/net/snmp.
"""
import ctypes
import errno
import os
import socket
import struct
import threading
from dataclasses import dataclass

NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY, CLONE_NEWNET = 4, 20, 0x40000000
NLM_F_REQUEST, NLM_F_DUMP, NLMSG_DONE, NLMSG_ERROR = 0x1, 0x300, 3, 2
INET_DIAG_INFO = 2
HEADER = struct.Struct("=IHHII")             # nlmsghdr: length, type, flags, seq, pid
REQUEST = struct.Struct("=BBBBI")            # inet_diag_req_v2, before its 48-byte inet_diag_sockid
MESSAGE_BYTES = 72                           # inet_diag_msg
TCP_STATES = {1: "ESTABLISHED", 2: "SYN-SENT", 3: "SYN-RECV", 4: "FIN-WAIT-1", 5: "FIN-WAIT-2", 6: "TIME-WAIT",
              7: "CLOSE", 8: "CLOSE-WAIT", 9: "LAST-ACK", 10: "LISTEN", 11: "CLOSING", 12: "SYN-RECV"}
# tcp_info: bytes_acked and bytes_received (u64) at 120, segs_out and segs_in (u32) at 136 (Linux ≥ 4.2)
INFO_BYTES, INFO_SEGS = (120, struct.Struct("=QQ")), (136, struct.Struct("=II"))


@dataclass(frozen=True)
class Connection:
    """One TCP socket of a node, seen from that node: bytes and segments are its own, out and in."""
    state: str
    local: tuple    # (ip, port)
    remote: tuple
    inode: int
    bytes_out: int = 0
    bytes_in: int = 0
    segs_out: int = 0
    segs_in: int = 0


class NotOnThisHost(OSError):
    """The node's processes are not on this kernel (a swarm's other machine), or it is not running."""


def _in_namespace(pid, make):
    """make() called in a thread that has entered pid's network namespace; what it returned, or its error."""
    libc = ctypes.CDLL(None, use_errno=True)
    outcome = {}

    def enter():
        try:
            with open(f"/proc/{pid}/ns/net") as namespace:
                if libc.setns(namespace.fileno(), CLONE_NEWNET):
                    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), f"/proc/{pid}/ns/net")
            outcome["value"] = make()
        except Exception as exc:  # raised again in the caller's thread
            outcome["error"] = exc
    thread = threading.Thread(target=enter, name=f"setns-{pid}")  # dies with the namespace it entered
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


class SocketTable:
    """The TCP socket table of the network namespace process pid lives in."""

    def __init__(self, pid):
        try:
            os.stat(f"/proc/{pid}/ns/net")  # PermissionError for a user who may not enter it: said by the caller
        except FileNotFoundError:
            raise NotOnThisHost(f"no process {pid} on this host") from None
        self.pid = pid
        self.diag = _in_namespace(pid, lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG))
        self.sequence = 0

    def close(self):
        self.diag.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def tcp(self) -> list:
        """Every IPv4 TCP socket now, listening ones included."""
        self.sequence += 1
        request = REQUEST.pack(socket.AF_INET, socket.IPPROTO_TCP, 1 << (INET_DIAG_INFO - 1), 0, 0xFFFFFFFF)
        request += bytes(48)
        self.diag.send(HEADER.pack(HEADER.size + len(request), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP,
                                   self.sequence, 0) + request)
        found = []
        while True:
            data = self.diag.recv(1 << 16)
            offset = 0
            while offset + HEADER.size <= len(data):
                length, kind, _flags, sequence, _pid = HEADER.unpack_from(data, offset)
                if length < HEADER.size:
                    raise OSError(errno.EPROTO, "sock_diag sent a message shorter than its header")
                if sequence == self.sequence:  # what an earlier dump left unread is not this one's
                    if kind == NLMSG_DONE:
                        return found
                    if kind == NLMSG_ERROR:
                        raise OSError(-struct.unpack_from("=i", data, offset + HEADER.size)[0],
                                      "sock_diag refused the dump")
                    found.append(parse(data[offset + HEADER.size:offset + length]))
                offset += (length + 3) & ~3

    def counters(self):
        """{"Tcp": {...}, "Udp": {...}}: the namespace's protocol counters so far (/proc/PID/net/snmp), one
        file read: whether any TCP segment moved since, and the datagrams in and out."""
        with open(f"/proc/{self.pid}/net/snmp") as snmp:
            lines = [line.split() for line in snmp if line.startswith(("Tcp:", "Udp:"))]
        found = {}
        for names, values in zip(lines[::2], lines[1::2]):
            found[names[0].rstrip(":")] = dict(zip(names[1:], map(int, values[1:])))
        return found



def parse(message) -> Connection:
    """One inet_diag_msg and its attributes."""
    state = message[1]
    sport, dport = struct.unpack_from("!HH", message, 4)
    local, remote = socket.inet_ntoa(message[8:12]), socket.inet_ntoa(message[24:28])
    inode = struct.unpack_from("=I", message, 68)[0]
    counters = {}
    offset = MESSAGE_BYTES
    while offset + 4 <= len(message):
        length, kind = struct.unpack_from("=HH", message, offset)
        if length < 4:
            break
        if kind == INET_DIAG_INFO:
            info = message[offset + 4:offset + length]
            if len(info) >= INFO_SEGS[0] + INFO_SEGS[1].size:
                counters["bytes_out"], counters["bytes_in"] = INFO_BYTES[1].unpack_from(info, INFO_BYTES[0])
                counters["segs_out"], counters["segs_in"] = INFO_SEGS[1].unpack_from(info, INFO_SEGS[0])
        offset += (length + 3) & ~3
    return Connection(TCP_STATES.get(state, str(state)), (local, sport), (remote, dport), inode, **counters)
