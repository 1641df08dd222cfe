"""framing, a typical bug: one recv() taken for one message: the first frame in it is answered, the rest dropped.

    python3 recv_is_a_message.py PORT

Each recv() is taken to hold one whole message: the server reads the length at its start, echoes that
many bytes as one frame, and drops whatever else the recv() returned (the next messages, when several
arrived together: 粘包), or echoes a short message when its end had not arrived yet.
"""
import socket
import struct
import sys
import threading

HEADER = struct.Struct("!I")  # 4 bytes, network byte order (big-endian), unsigned


def serve(conn, peer):
    with conn:
        try:
            while len(data := conn.recv(65536)) >= HEADER.size:  # BUG: one recv() is taken for one message
                message = data[HEADER.size:HEADER.size + HEADER.unpack(data[:HEADER.size])[0]]  # the rest: dropped
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
