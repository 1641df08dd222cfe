"""The sticky lesson's messages and sockets, shared by nodes.sender and nodes.receiver and read back by the
orchestrator: message i starts with i as a 4-byte network-order number ("!I"), then the letter A+i%26 as
filler, so a reader can tell whose bytes it got."""
import socket
import string
import struct

FAMILIES = {"tcp": (socket.AF_INET, socket.SOCK_STREAM), "udp": (socket.AF_INET, socket.SOCK_DGRAM),
            "unix-stream": (socket.AF_UNIX, socket.SOCK_STREAM), "unix-dgram": (socket.AF_UNIX, socket.SOCK_DGRAM)}


def message(index, size):
    """Message `index`, `size` bytes long (at least 4): its number, then its letter."""
    if size < 4:
        raise ValueError(f"a message needs at least 4 bytes for its number, not {size}")
    return struct.pack("!I", index) + string.ascii_uppercase[index % 26].encode() * (size - 4)
