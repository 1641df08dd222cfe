"""event-loop, a typical bug: a selectors loop that answers with a blocking sendall().

    python3 blocking_sendall.py PORT

Everything else is right: one thread, one selector, whole lines only, errors kept per connection. But the
connections are left blocking and each reply goes out with sendall(), which waits until the client has
taken it. A client that never reads fills its buffers, sendall() waits for it, and the whole loop (every
other client) waits with it.
"""
import selectors
import socket
import sys


def main():
    selector = selectors.DefaultSelector()
    server = socket.create_server(("", int(sys.argv[1])), backlog=128)
    server.setblocking(False)
    selector.register(server, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select():
            if key.fileobj is server:
                conn, _ = server.accept()  # left blocking
                selector.register(conn, selectors.EVENT_READ, bytearray())
                continue
            conn, inbox = key.fileobj, key.data
            try:
                data = conn.recv(65536)
                inbox += data
                end = inbox.rfind(b"\n") + 1
                if end:
                    reply = inbox[:end].decode("utf-8", errors="replace").upper().encode()
                    conn.sendall(reply)  # BUG: waits until the client has taken it, and everyone waits too
                    del inbox[:end]
            except OSError as exc:
                print(f"a connection ends: {exc}", file=sys.stderr)
                data = b""
            if not data:
                selector.unregister(conn)
                conn.close()


if __name__ == "__main__":
    main()
