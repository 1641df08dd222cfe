"""A run's timeline, recorded as it happens, for the replay (watch.replay).

The lab records what the orchestrator does to its nodes (a program started, ended or stopped; a node killed,
paused or impaired); a step adds what its programs measured (each send() and recv() with its place in the
stream) and its capture (a step's `pcap` file). Every time is the host's clock, which the nodes share.
"""
import threading
import time
from collections import deque

KEPT = 20_000  # the newest events of a long session: a scenario's are a few hundred
COMMAND_CHARS = 160


def command_text(argv):
    """`nodes.sender tcp server --port 9100` for `python3 -m nodes.sender tcp …`; a system argv as it is."""
    words = [str(w) for w in argv]
    if words[:2] == ["python3", "-m"]:
        words = words[2:]
    text = " ".join(words)
    return text if len(text) <= COMMAND_CHARS else text[:COMMAND_CHARS - 1] + "…"


class Timeline:
    """The events of one lab, in the order they were recorded; since(mark) gives a run's."""

    def __init__(self):
        self.events, self.lock, self.count = deque(maxlen=KEPT), threading.Lock(), 0

    def add(self, kind, node, when=None, **fields):
        with self.lock:
            self.count += 1
            self.events.append({"time": round(time.time() if when is None else when, 6), "kind": kind,
                                "node": node, **fields})

    def mark(self):
        """Where a run starts: hand it to since()."""
        with self.lock:
            return self.count

    def since(self, mark):
        """The events recorded after mark, oldest first."""
        with self.lock:
            return list(self.events)[max(0, len(self.events) - (self.count - mark)):]


def stream_events(node, peer, kind, sizes, times, port, peer_port, first_offset=0, first_index=0, **fields):
    """A send() or recv() event per call on one TCP connection: its number, its bytes and where they sit in
    the stream that direction carries (offset from the stream's first byte), for the replay to find their
    packets."""
    events, offset = [], first_offset
    for index, (size, when) in enumerate(zip(sizes, times), first_index):
        events.append({"time": when, "kind": kind, "node": node, "peer": peer, "index": index, "bytes": size,
                       "offset": offset, "port": port, "peer_port": peer_port, **fields})
        offset += size
    return events
