"""Echo framed messages back: a selectors loop, one buffer per client."""
import selectors
import socket
import sys

sel = selectors.DefaultSelector()
pending = {}


def accept(listener):
    conn, _ = listener.accept()
    conn.setblocking(False)
    pending[conn] = bytearray()
    sel.register(conn, selectors.EVENT_READ, serve)


def serve(conn):
    try:
        data = conn.recv(65536)
    except ConnectionError:
        data = b""
    if not data:
        sel.unregister(conn)
        pending.pop(conn, None)
        conn.close()
        return
    box = pending[conn]
    box.extend(data)
    while len(box) >= 4:
        length = int.from_bytes(box[:4], "big")
        if len(box) < 4 + length:
            break
        frame = bytes(box[:4 + length])
        del box[:4 + length]
        conn.setblocking(True)
        conn.sendall(frame)
        conn.setblocking(False)


def main():
    listener = socket.create_server(("", int(sys.argv[1])))
    listener.setblocking(False)
    sel.register(listener, selectors.EVENT_READ, accept)
    while True:
        for key, _mask in sel.select():
            key.data(key.fileobj)


main()
