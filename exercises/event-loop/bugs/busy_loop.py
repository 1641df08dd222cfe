"""event-loop, a typical bug: non-blocking sockets polled in a loop that never waits.

    python3 busy_loop.py PORT

One thread, every reply right and on time, an output buffer per connection; but nothing ever waits for a
socket to be ready (select, epoll): the loop asks every socket again and again, catching BlockingIOError,
and burns a whole CPU core while all the clients are idle.
"""
import socket
import sys


def main():
    server = socket.create_server(("", int(sys.argv[1])), backlog=128)
    server.setblocking(False)
    inboxes, outboxes = {}, {}
    while True:  # BUG: never sleeps in select/epoll: a core at 100 % with nothing to do
        try:
            conn, _ = server.accept()
            conn.setblocking(False)
            inboxes[conn], outboxes[conn] = bytearray(), bytearray()
        except BlockingIOError:
            pass
        for conn in list(inboxes):
            try:
                if outboxes[conn]:
                    del outboxes[conn][:conn.send(outboxes[conn])]
                data = conn.recv(65536)
            except BlockingIOError:
                continue
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


if __name__ == "__main__":
    main()
