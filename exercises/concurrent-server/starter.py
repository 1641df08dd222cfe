"""concurrent-server: reply to every line with the same line upper-cased.  python3 starter.py PORT

Protocol (see README.md): lines of UTF-8 text ending in "\n"; for each one received, send it back
upper-cased. Many clients at once; one that sends nothing, or half a line and vanishes, must not disturb
the others.
"""
import socket
import sys


def main():
    port = int(sys.argv[1])
    with socket.create_server(("", port)) as server:
        while True:
            conn, peer = server.accept()
            # TODO: serve this connection without keeping the others waiting (threads? selectors?)
            conn.close()


if __name__ == "__main__":
    main()
