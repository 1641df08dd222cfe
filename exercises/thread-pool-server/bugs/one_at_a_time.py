"""thread-pool-server, a typical bug: a pool made, and then waited for, around every connection.

    python3 one_at_a_time.py PORT
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
            with ThreadPoolExecutor(4) as pool:  # BUG: leaving the block waits for this connection to end
                pool.submit(serve, conn)


if __name__ == "__main__":
    main()
