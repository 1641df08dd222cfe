"""framing, a typical bug: the length prefix read with one recv(4).

    python3 header_no_loop.py PORT

Like the reference, but the 4-byte prefix is read with one recv(4), which may return fewer bytes: the
message is read with a loop, the prefix is not.
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
            while head := conn.recv(HEADER.size):  # BUG: the prefix itself may come in pieces
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
