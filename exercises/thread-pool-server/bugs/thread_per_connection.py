"""thread-pool-server, a typical bug: a new thread for every connection, no pool at all.

    python3 thread_per_connection.py PORT
"""
import socket
import sys
import threading


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
            threading.Thread(target=serve, args=(conn,), daemon=True).start()  # BUG: 12 clients, 12 threads


if __name__ == "__main__":
    main()
