"""Reading a peer that may send too little, too much, or nothing: every read has a deadline."""
import socket
import time


class Reader:
    """A connected socket read with deadlines; `read(n, seconds)` returns what came and why it stopped."""

    def __init__(self, sock):
        self.sock, self.buffer = sock, bytearray()

    def read(self, n, seconds):
        """(bytes, reason): exactly n bytes and None, or fewer and "timeout", "closed" or "reset"."""
        deadline = time.monotonic() + seconds
        while len(self.buffer) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                return self._take(n), "timeout"
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(max(65536, n - len(self.buffer)))
            except socket.timeout:
                return self._take(n), "timeout"
            except OSError:
                return self._take(n), "reset"
            if not chunk:
                return self._take(n), "closed"
            self.buffer += chunk
        return self._take(n), None

    def _take(self, n):
        taken = bytes(self.buffer[:n])
        del self.buffer[:n]
        return taken

    def extra(self, seconds=0.2):
        """Bytes that arrive within seconds when nothing more is due (a reply longer than its header said)."""
        data, _ = self.read(1 << 20, seconds)
        return data


def connect(host, port, seconds=3.0):
    """A TCP connection with TCP_NODELAY (each of the checker's writes leaves as it was made)."""
    sock = socket.create_connection((host, port), timeout=seconds)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def run_cases(cases):
    """{"cases": {name: case()}, "timing": {name: [[started, ended]]}}: the cases run one after another, each
    timed on the wall clock the sandbox's `ended_at` uses, so that a failure after the program had ended is
    told as that ending's, not the case's."""
    results, timing = {}, {}
    for name, case in cases.items():
        started = time.time()
        results[name] = case()
        timing[name] = [[round(started, 3), round(time.time(), 3)]]
    return {"cases": results, "timing": timing}

