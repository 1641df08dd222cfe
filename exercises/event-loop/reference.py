"""event-loop, a reference solution: the upper-casing line server in one thread, on selectors.

    python3 reference.py PORT

One loop waits on every socket at once (selectors.DefaultSelector: epoll on Linux, which has no limit on
descriptor numbers) and only touches the ones that are ready. Every connection has two buffers: what came
in (a half line waits there for its end) and what is still to go out (what send() could not take yet). A
connection whose unsent output passes HIGH_WATER is not read until it drains (back-pressure): a client that
never reads its replies cannot make the server hold everything it sends.
"""
import selectors
import socket
import sys

HIGH_WATER = 256 * 1024


class Connection:
    def __init__(self, sock):
        self.sock, self.inbox, self.outbox = sock, bytearray(), bytearray()

    def wanted(self):
        """The events to wait for: read unless too much is waiting to go out; write while anything is."""
        read = selectors.EVENT_READ if len(self.outbox) < HIGH_WATER else 0
        return read | (selectors.EVENT_WRITE if self.outbox else 0)

    def receive(self):
        """Read what came; every whole line goes to the outbox upper-cased. False when the client has closed."""
        data = self.sock.recv(65536)
        self.inbox += data
        end = self.inbox.rfind(b"\n") + 1  # whole lines only: a half line waits for the rest
        if end:
            self.outbox += self.inbox[:end].decode("utf-8", errors="replace").upper().encode()
            del self.inbox[:end]
        return bool(data)

    def transmit(self):
        """Send what the socket takes now, keep the rest for the next time it is writable."""
        del self.outbox[:self.sock.send(self.outbox)]


def serve(selector, conn, mask):
    """One ready connection's turn: read and/or write, never waiting; closed when the client is gone."""
    try:
        alive = conn.receive() if mask & selectors.EVENT_READ else True
        if alive and mask & selectors.EVENT_WRITE:
            conn.transmit()
    except BlockingIOError:  # not ready after all: the next event will say
        alive = True
    except OSError as exc:  # this client's trouble ends this connection only
        print(f"a connection ends: {exc}", file=sys.stderr)
        alive = False
    if not alive:
        selector.unregister(conn.sock)
        conn.sock.close()
    elif conn.wanted() != selector.get_key(conn.sock).events:
        selector.modify(conn.sock, conn.wanted(), conn)


def main():
    selector = selectors.DefaultSelector()
    server = socket.create_server(("", int(sys.argv[1])), backlog=128)
    server.setblocking(False)
    selector.register(server, selectors.EVENT_READ)
    while True:
        for key, mask in selector.select():
            if key.fileobj is not server:
                serve(selector, key.data, mask)
                continue
            try:
                sock, __ = server.accept()
            except OSError as exc:
                print(f"accept: {exc}", file=sys.stderr)
                continue
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ, Connection(sock))


if __name__ == "__main__":
    main()
