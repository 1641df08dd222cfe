"""concurrent-server, a typical bug: a blocking accept loop serves one client at a time.

    python3 blocking_accept_loop.py PORT
"""
import socket
import sys


def main():
    with socket.create_server(("", int(sys.argv[1]))) as server:
        while True:
            conn, peer = server.accept()
            with conn, conn.makefile("rb") as lines:
                for line in lines:  # BUG: until this client leaves, nobody else is accepted
                    if line.endswith(b"\n"):
                        conn.sendall(line.decode("utf-8", errors="replace").upper().encode())


if __name__ == "__main__":
    main()
