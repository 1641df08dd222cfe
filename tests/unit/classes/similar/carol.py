import socketserver, struct, sys

# my server


def get_n(f, n):
    got = b""
    while len(got) < n:
        chunk = f.read(n - len(got))
        if not chunk:
            raise EOFError
        got += chunk
    return got


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        try:
            while True:
                (length,) = struct.unpack("!I", get_n(self.rfile, 4))
                payload = get_n(self.rfile, length)
                self.wfile.write(struct.pack("!I", length) + payload)
        except (EOFError, ConnectionError):
            return


class MyServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    with MyServer(("", int(sys.argv[1])), Handler) as srv:
        srv.serve_forever()
