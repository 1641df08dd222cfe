"""event-loop, a typical bug: a thread for every connection instead of one loop.

    python3 thread_per_connection.py PORT

It answers every line right, and a slow reader stalls only its own thread; but 1,100 connections are
1,100 threads (and the sandbox allows 128 in all: past them, `RuntimeError: can't start new thread`).
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
        print(f"a connection ends: {exc}", file=sys.stderr)


def main():
    with socket.create_server(("", int(sys.argv[1])), backlog=128) as server:
        while True:
            conn, _ = server.accept()
            threading.Thread(target=serve, args=(conn,), daemon=True).start()  # BUG: a thread per connection


if __name__ == "__main__":
    main()
