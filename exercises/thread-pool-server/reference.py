"""thread-pool-server, a reference solution: the upper-casing line server on a fixed pool of 4 threads.

    python3 reference.py PORT
"""
import socket
import sys
from concurrent.futures import ThreadPoolExecutor

WORKERS = 4


def serve(conn, peer):
    """One connection, start to end, in one of the pool's threads: every whole line back upper-cased."""
    try:
        with conn, conn.makefile("rb") as lines:
            for line in lines:  # a half line at the end (the client left mid-line) is simply dropped
                if line.endswith(b"\n"):
                    conn.sendall(line.decode("utf-8", errors="replace").upper().encode())
    except OSError as exc:  # this client's trouble ends this connection, never the worker
        print(f"{peer}: {exc}", file=sys.stderr)


def main():
    with socket.create_server(("", int(sys.argv[1])), backlog=64) as server, ThreadPoolExecutor(WORKERS) as pool:
        while True:
            conn, peer = server.accept()
            pool.submit(serve, conn, peer)  # queued until one of the 4 threads is free


if __name__ == "__main__":
    main()
