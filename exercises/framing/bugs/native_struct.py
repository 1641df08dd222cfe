"""framing, a typical bug: a struct format without '!', so the length is packed in native byte order.

    python3 native_struct.py PORT

Like the reference in every other way (a thread per client, loops for the prefix and the message), but its
prefix format is 'I': this machine's order (little-endian on x86), not the protocol's network order.
"""
import socket
import struct
import sys
import threading

HEADER = struct.Struct("I")  # BUG: native byte order (little-endian on x86), not the protocol's "!I"


def recv_exactly(conn, n):
    """Exactly n bytes, or None if the peer closed first: recv() may return fewer than asked."""
    data = bytearray()
    while len(data) < n:
        chunk = conn.recv(min(n - len(data), 65536))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def serve(conn, peer):
    with conn:
        try:
            while (head := recv_exactly(conn, HEADER.size)) is not None:
                message = recv_exactly(conn, HEADER.unpack(head)[0])
                if message is None:
                    print(f"{peer}: closed in the middle of a message", file=sys.stderr)
                    return
                conn.sendall(HEADER.pack(len(message)) + message)
        except OSError as exc:
            print(f"{peer}: {exc}", file=sys.stderr)


def main():
    port = int(sys.argv[1])
    with socket.create_server(("", port), reuse_port=False) as server:
        while True:
            conn, peer = server.accept()
            threading.Thread(target=serve, args=(conn, peer), daemon=True).start()


if __name__ == "__main__":
    main()
