"""thread-pool-server, a typical bug: a hand-made pool whose worker dies with a client that resets.

    python3 worker_dies.py PORT
"""
import queue
import socket
import sys
import threading


def worker(connections):
    while True:
        conn = connections.get()
        with conn, conn.makefile("rb") as lines:
            for line in lines:  # BUG: a reset client raises ConnectionResetError here, and the thread ends
                if line.endswith(b"\n"):
                    conn.sendall(line.decode("utf-8", errors="replace").upper().encode())


def main():
    connections = queue.Queue()
    for _ in range(4):
        threading.Thread(target=worker, args=(connections,), daemon=True).start()
    with socket.create_server(("", int(sys.argv[1])), backlog=64) as server:
        while True:
            conn, _ = server.accept()
            connections.put(conn)


if __name__ == "__main__":
    main()
