"""An echo server for !I-framed messages, on socketserver."""
import socketserver
import struct
import sys


def read_exactly(stream, count):
    buffer = b""
    while len(buffer) < count:
        piece = stream.read(count - len(buffer))
        if not piece:
            raise EOFError
        buffer += piece
    return buffer


class Echo(socketserver.StreamRequestHandler):
    def handle(self):
        try:
            while True:
                (size,) = struct.unpack("!I", read_exactly(self.rfile, 4))
                body = read_exactly(self.rfile, size)
                self.wfile.write(struct.pack("!I", size) + body)
        except (EOFError, ConnectionError):
            return


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    with Server(("", int(sys.argv[1])), Echo) as server:
        server.serve_forever()
