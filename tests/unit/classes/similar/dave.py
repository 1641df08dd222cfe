"""framing, a reference solution: echo every length-prefixed message back, framed the same way.

    python3 reference.py PORT

A thread per client; every read loops until it has the bytes the protocol says are coming.
"""
import socket
import struct
import sys
import threading

HEADER = struct.Struct("!I")  # 4 bytes, network byte order (big-endian), unsigned


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
