"""thread-pool-server, a typical bug: a new pool for every connection, never the same one twice.

    python3 pool_per_connection.py PORT
"""
import socket
import sys
from concurrent.futures import ThreadPoolExecutor


def serve(conn):
    try:
        with conn, conn.makefile("rb") as lines:
            for line in lines:
                if line.endswith(b"\n"):
                    conn.sendall(line.decode("utf-8", errors="replace").upper().encode())
    except OSError as exc:
        print(exc, file=sys.stderr)


def main():
    with socket.create_server(("", int(sys.argv[1])), backlog=64) as server:
        while True:
            conn, _ = server.accept()
            pool = ThreadPoolExecutor(max_workers=4)  # BUG: a pool per connection, each with a thread of its own
            pool.submit(serve, conn)


if __name__ == "__main__":
    main()
