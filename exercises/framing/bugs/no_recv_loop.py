"""framing, a typical bug: the message read with one recv(n), no loop.

    python3 no_recv_loop.py PORT

Like the reference, but the message is read with one recv(n), which returns at most n bytes, often
fewer: the prefix is read with a loop, the message is not.
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
                message = conn.recv(HEADER.unpack(head)[0])  # BUG: one recv() may return fewer bytes
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
