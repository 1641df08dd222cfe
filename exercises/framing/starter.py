"""framing: echo each length-prefixed message back, framed the same way.  python3 starter.py PORT

Protocol (see README.md): a message is a 4-byte unsigned length in network byte order (struct format
"!I"), then that many bytes. Echo each one back the same way, in order, until the client closes. Serve
several clients at once.
"""
import socket
import struct
import sys


def main():
    port = int(sys.argv[1])
    with socket.create_server(("", port)) as server:
        while True:
            conn, peer = server.accept()
            # TODO: read a 4-byte length, then exactly that many bytes (recv may return fewer!),
            # send them back with the same header; repeat until recv returns b"". Serve clients concurrently.
            conn.close()


if __name__ == "__main__":
    main()
