"""A netfilter queue (NFQUEUE) over a raw netlink socket: packets wait in the kernel until given a verdict.

Only packet ids cross into user space (copy mode "meta"), so holding a packet costs no copy. Used by
`nodes.faults` to delay packets where the kernel has no netem qdisc.
"""
import socket
import struct

NETLINK_NETFILTER = 12
NLMSG_ERROR = 2
NLM_F_REQUEST, NLM_F_ACK = 1, 4
SUBSYS_QUEUE = 3
MSG_PACKET, MSG_VERDICT, MSG_CONFIG = (SUBSYS_QUEUE << 8) | 0, (SUBSYS_QUEUE << 8) | 1, (SUBSYS_QUEUE << 8) | 2
CFG_CMD, CFG_PARAMS, CFG_QUEUE_MAXLEN = 1, 2, 3
CMD_BIND = 1
COPY_META = 1
ATTR_PACKET_HDR, ATTR_VERDICT_HDR = 1, 2
NF_DROP, NF_ACCEPT = 0, 1
HEADER = struct.Struct("=IHHII")  # nlmsghdr: length, type, flags, sequence, port id


def attribute(kind, data):
    """One netlink attribute, padded to four bytes."""
    return struct.pack("=HH", 4 + len(data), kind) + data + b"\0" * (-len(data) % 4)


def message(kind, flags, queue, *attributes):
    """A netfilter netlink message for queue number `queue`."""
    body = struct.pack("=BBH", socket.AF_UNSPEC, 0, socket.htons(queue)) + b"".join(attributes)
    return HEADER.pack(HEADER.size + len(body), kind, flags, 0, 0) + body


def messages(data):
    """Split a netlink datagram into (type, payload) pairs."""
    offset = 0
    while offset + HEADER.size <= len(data):
        length, kind = struct.unpack_from("=IH", data, offset)
        if length < HEADER.size:
            raise ValueError(f"netlink message length {length} is shorter than its header")
        yield kind, data[offset + HEADER.size:offset + length]
        offset += (length + 3) & ~3


def packet_id(payload):
    """The packet id in an NFQUEUE packet message's payload (after its 4-byte nfgenmsg)."""
    offset = 4
    while offset + 4 <= len(payload):
        length, kind = struct.unpack_from("=HH", payload, offset)
        if kind & 0x7FFF == ATTR_PACKET_HDR:
            return struct.unpack_from("!I", payload, offset + 4)[0]
        offset += (max(length, 4) + 3) & ~3
    raise ValueError("NFQUEUE packet message without a packet header")


class Queue:
    """Queue number `number` bound on this network namespace; needs CAP_NET_ADMIN."""

    def __init__(self, number=0, maxlen=20000):
        self.number = number
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind((0, 0))
        self._configure(attribute(CFG_CMD, struct.pack("!BBH", CMD_BIND, 0, 0)))
        self._configure(attribute(CFG_PARAMS, struct.pack("!IB", 0, COPY_META)))
        self._configure(attribute(CFG_QUEUE_MAXLEN, struct.pack("!I", maxlen)))

    def _configure(self, attr):
        self.sock.send(message(MSG_CONFIG, NLM_F_REQUEST | NLM_F_ACK, self.number, attr))
        for kind, payload in messages(self.sock.recv(4096)):
            if kind == NLMSG_ERROR and (error := struct.unpack_from("=i", payload)[0]):
                raise OSError(-error, f"NFQUEUE {self.number} configuration refused")

    def fileno(self):
        return self.sock.fileno()

    def receive(self):
        """The ids of the packets that one read brings."""
        return [packet_id(p) for kind, p in messages(self.sock.recv(1 << 16)) if kind == MSG_PACKET]

    def verdict(self, packet, accept=True):
        verdict = NF_ACCEPT if accept else NF_DROP
        self.sock.send(message(MSG_VERDICT, NLM_F_REQUEST, self.number,
                               attribute(ATTR_VERDICT_HDR, struct.pack("!II", verdict, packet))))

    def close(self):
        self.sock.close()
