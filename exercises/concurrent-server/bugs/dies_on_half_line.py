"""concurrent-server, a typical bug: a selectors loop that assumes every client ends with a whole line.

    python3 dies_on_half_line.py PORT
"""
import selectors
import socket
import sys


def main():
    selector, buffers = selectors.DefaultSelector(), {}
    server = socket.create_server(("", int(sys.argv[1])))
    server.setblocking(False)
    selector.register(server, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select():
            if key.fileobj is server:
                conn, _ = server.accept()
                conn.setblocking(True)
                selector.register(conn, selectors.EVENT_READ)
                buffers[conn] = b""
                continue
            conn = key.fileobj
            data = conn.recv(4096)
            buffers[conn] += data
            if not data:
                if buffers[conn]:  # BUG: one client's half line ends the whole server
                    raise ConnectionError(f"client left in the middle of a line: {buffers[conn]!r}")
                selector.unregister(conn)
                conn.close()
                continue
            *lines, buffers[conn] = buffers[conn].split(b"\n")
            for line in lines:
                conn.sendall(line.decode("utf-8", errors="replace").upper().encode() + b"\n")


if __name__ == "__main__":
    main()
