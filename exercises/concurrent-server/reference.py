"""concurrent-server, a reference solution: every line received comes back upper-cased, for many clients at once.

    python3 reference.py PORT
"""
import socketserver
import sys


class Upper(socketserver.StreamRequestHandler):
    def handle(self):
        try:
            for line in self.rfile:  # a whole line at a time; a half line at the end is simply dropped
                if line.endswith(b"\n"):
                    self.wfile.write(line.decode("utf-8", errors="replace").upper().encode())
        except OSError as exc:
            print(f"{self.client_address}: {exc}", file=sys.stderr)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True  # a thread per connection, none keeping the server from exiting
    allow_reuse_address = True


if __name__ == "__main__":
    with Server(("", int(sys.argv[1])), Upper) as server:
        server.serve_forever()
