"""event-loop, a typical bug: select.select() over every socket.

    python3 plain_select.py PORT

A right event loop in every other way (one thread, non-blocking sockets, an output buffer per connection),
but select() takes descriptors below 1,024 only (FD_SETSIZE): the connection that gets descriptor 1,024
ends the server with `ValueError: filedescriptor out of range in select()`.
"""
import select
import socket
import sys


def main():
    server = socket.create_server(("", int(sys.argv[1])), backlog=128)
    server.setblocking(False)
    inboxes, outboxes = {}, {}
    while True:
        writers = [conn for conn, out in outboxes.items() if out]
        readable, writable, _ = select.select([server, *inboxes], writers, [])  # BUG: descriptors < 1,024 only
        for conn in readable:
            if conn is server:
                conn, _ = server.accept()
                conn.setblocking(False)
                inboxes[conn], outboxes[conn] = bytearray(), bytearray()
                continue
            try:
                data = conn.recv(65536)
            except OSError as exc:
                print(f"a connection ends: {exc}", file=sys.stderr)
                data = b""
            if not data:
                del inboxes[conn], outboxes[conn]
                conn.close()
                continue
            inbox = inboxes[conn]
            inbox += data
            end = inbox.rfind(b"\n") + 1
            outboxes[conn] += inbox[:end].decode("utf-8", errors="replace").upper().encode()
            del inbox[:end]
        for conn in writable:
            if conn in outboxes:
                try:
                    del outboxes[conn][:conn.send(outboxes[conn])]
                except BlockingIOError:
                    pass
                except OSError as exc:
                    print(f"a connection ends: {exc}", file=sys.stderr)
                    del inboxes[conn], outboxes[conn]
                    conn.close()


if __name__ == "__main__":
    main()
