"""What every node server does when one connection goes wrong: one whole log line, that connection closed,
everyone else served. Used by execd, framed, reqserver, tickets and the queue broker.
"""
import sys
import threading
from contextlib import contextmanager

_lock = threading.Lock()


def log(server, peer, message):
    """`SERVER: PEER: MESSAGE` as one whole line on stderr, however many threads log at once."""
    line = f"{server}: {peer}: {message}".replace("\n", " ") + "\n"
    with _lock:
        sys.stderr.write(line)
        sys.stderr.flush()


@contextmanager
def contained(server, peer, what="connection ended"):
    """Any exception raised inside ends here as one log line: one peer's input never ends the server."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 — that is the point: whatever this peer caused
        log(server, peer, f"{what}: {type(exc).__name__}: {exc}")


def peer_name(address):
    """host:port of an accepted socket's address (or the path of a Unix socket)."""
    return f"{address[0]}:{address[1]}" if isinstance(address, tuple) else str(address or "local")
