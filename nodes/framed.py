"""Framed messages across the network: a receiver that serves many connections, and a seeded sender.

    python3 -m nodes.framed recv --port P [--connections K] [--pause-ms MS] [--stall S] [--max-body B]
    python3 -m nodes.framed send HOST --port P [--count N] [--max-size B] [--seed S]
    python3 -m nodes.framed sink --port P --mode {raw,framed,framed+sha256}          (benchmark)
    python3 -m nodes.framed source HOST --port P --mode ... --count N --size S       (benchmark)

The receiver multiplexes its connections with `selectors`, one framing.Decoder each, and says `listening`
on stderr when ready. A connection that sends garbage, an oversize length, a bad header or checksum, or that
stalls, is closed with its error recorded while the others go on. It stops once K connections have ended.
--pause-ms makes it pause up to MS milliseconds at random before each read, so that chunks vary. Result:
{"connections": [{"peer", "frames", "bytes", "error", "reads": [bytes per read, the first MAX_READS]}],
"frames": [{"peer", "seq", "size", "wire": bytes on the wire, "sha256"}]}.
"""
import argparse
import hashlib
import random
import selectors
import socket
import sys
import time

from nodes.lib import framing, ports, program, serving

CHUNK = 256 * 1024


MAX_READS = 5000  # read sizes kept per connection, for the picture of frames over reads


class Counted:
    """A socket that notes how many bytes its last read returned."""

    def __init__(self, sock):
        self.sock, self.got = sock, 0

    def recv(self, size):
        data = self.sock.recv(size)
        self.got = len(data)
        return data

    def recv_into(self, view):
        self.got = self.sock.recv_into(view)
        return self.got


class Receiver:
    """Serve framed connections on a listening socket until `connections` of them have ended."""

    def __init__(self, listener, connections=1, stall=10.0, max_body=framing.MAX_BODY, pause_ms=0, seed=None):
        self.listener, self.connections, self.stall = listener, connections, stall
        self.max_body, self.pause_ms = max_body, pause_ms
        self.random = random.Random(seed)
        self.selector = selectors.DefaultSelector()
        self.selector.register(listener, selectors.EVENT_READ)
        self.ended, self.frames = [], []
        self.open = {}  # socket -> {"peer", "decoder", "frames", "bytes", "last"}

    def serve(self):
        while len(self.ended) < self.connections:
            for key, _ in self.selector.select(timeout=min(1.0, self.stall)):
                if key.fileobj is self.listener:
                    self._accept()
                else:
                    self._read(key.fileobj)
            self._close_stalled()
        return {"connections": self.ended, "frames": self.frames}

    def _accept(self):
        conn, peer = self.listener.accept()
        conn.setblocking(False)
        self.selector.register(conn, selectors.EVENT_READ)
        self.open[conn] = {"peer": f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer),
                           "decoder": framing.Decoder(self.max_body), "frames": 0, "bytes": 0,
                           "last": time.monotonic(), "reads": []}

    def _read(self, conn):
        state = self.open[conn]
        if self.pause_ms:
            time.sleep(self.random.uniform(0, self.pause_ms) / 1000)
        try:
            counted = Counted(conn)
            frames, closed = state["decoder"].recv_from(counted, CHUNK)
            if len(state["reads"]) < MAX_READS and counted.got:
                state["reads"].append(counted.got)
            if closed:
                state["decoder"].close()
                return self._end(conn, None)
        except Exception as exc:  # whatever one peer sent ends its connection only
            return self._end(conn, f"{type(exc).__name__}: {exc}")
        state["last"] = time.monotonic()
        for frame in frames:
            state["frames"] += 1
            state["bytes"] += len(frame.body)
            self.frames.append({"peer": state["peer"], "seq": frame.header.get("seq"), "size": len(frame.body),
                                "wire": frame.wire, "sha256": frame.header["sha256"]})

    def _close_stalled(self):
        now = time.monotonic()
        for conn, state in list(self.open.items()):
            if now - state["last"] > self.stall:
                where = "in the middle of a frame" if state["decoder"].pending else "between frames"
                self._end(conn, f"PeerStalled: nothing for {self.stall} s {where}")

    def _end(self, conn, error):
        state = self.open.pop(conn)
        self.selector.unregister(conn)
        conn.close()
        if error:
            serving.log("framed", state["peer"], f"connection ended: {error}")
        self.ended.append({"peer": state["peer"], "frames": state["frames"], "bytes": state["bytes"],
                           "error": error, "reads": state["reads"]})


def sizes(count, max_size, seed):
    """count body sizes from 0 to max_size: the edges (0, 1, max) and log-uniform draws between."""
    rng = random.Random(seed)
    edges = [0, 1, max_size][:count]
    return edges + [int(max_size ** rng.random()) if rng.random() < 0.9 else rng.randint(0, max_size)
                    for _ in range(count - len(edges))]


def recv(args):
    listener = socket.create_server(("", args.port))
    with listener:
        print("listening", file=sys.stderr, flush=True)
        started = time.monotonic()
        result = Receiver(listener, args.connections, args.stall, args.max_body, args.pause_ms, args.seed).serve()
    return {**result, "seconds": round(time.monotonic() - started, 3)}


def send(args):
    rng = random.Random(args.seed)
    sent, total = [], 0
    started = time.monotonic()
    with socket.create_connection((args.host, args.port), timeout=args.timeout) as sock:
        for seq, size in enumerate(sizes(args.count, args.max_size, args.seed)):
            body = rng.randbytes(size)
            framing.send_frame(sock, body, kind="data", seq=seq)
            sent.append({"seq": seq, "size": size, "sha256": hashlib.sha256(body).hexdigest()})
            total += size
    return {"sent": sent, "bytes": total, "seconds": round(time.monotonic() - started, 3)}


MODES = ("raw", "framed", "framed+sha256")


def sink(args):
    """Count what one connection brings until it closes: raw bytes, or frames decoded (and checked)."""
    with socket.create_server(("", args.port)) as listener:
        print("listening", file=sys.stderr, flush=True)
        conn, _ = listener.accept()
        with conn:
            decoder, frames, total, started = framing.Decoder(), 0, 0, None
            while True:
                if args.mode == "raw":
                    data = conn.recv(CHUNK)
                    closed, got = not data, len(data)
                else:
                    done, closed = decoder.recv_from(conn, CHUNK)
                    frames, got = frames + len(done), sum(len(frame.body) for frame in done)
                if closed:
                    break
                started = started or time.perf_counter()
                total += got
            seconds = time.perf_counter() - started if started else 0.0
    return {"mode": args.mode, "bytes": total, "frames": frames, "seconds": round(seconds, 6)}


def source(args):
    """Send count messages of size bytes: raw with sendall, or as frames (sha256 computed per frame)."""
    body = random.Random(args.seed).randbytes(args.size)
    with socket.create_connection((args.host, args.port), timeout=args.timeout) as sock:
        started = time.perf_counter()
        for _ in range(args.count):
            if args.mode == "raw":
                sock.sendall(body)
            else:
                framing.send_frame(sock, body, checksum=args.mode == "framed+sha256")
        seconds = time.perf_counter() - started
    return {"mode": args.mode, "messages": args.count, "size": args.size, "seconds": round(seconds, 6)}


def run(argv):
    parser = argparse.ArgumentParser(prog="nodes.framed")
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("recv")
    p.add_argument("--port", type=int, default=ports.FRAMED)
    p.add_argument("--connections", type=int, default=1)
    p.add_argument("--pause-ms", type=float, default=0)
    p.add_argument("--stall", type=float, default=10.0)
    p.add_argument("--max-body", type=int, default=framing.MAX_BODY)
    p.add_argument("--seed", type=int, default=None)
    p.set_defaults(handler=recv)
    p = commands.add_parser("send")
    p.add_argument("host")
    p.add_argument("--port", type=int, default=ports.FRAMED)
    p.add_argument("--count", type=int, default=50)
    p.add_argument("--max-size", type=int, default=1 << 20)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--timeout", type=float, default=60)
    p.set_defaults(handler=send)
    p = commands.add_parser("sink", help="benchmark receiver")
    p.add_argument("--port", type=int, default=ports.FRAMED_BENCH)
    p.add_argument("--mode", choices=MODES, default="framed")
    p.set_defaults(handler=sink)
    p = commands.add_parser("source", help="benchmark sender")
    p.add_argument("host")
    p.add_argument("--port", type=int, default=ports.FRAMED_BENCH)
    p.add_argument("--mode", choices=MODES, default="framed")
    p.add_argument("--count", type=int, default=64)
    p.add_argument("--size", type=int, default=1 << 20)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--timeout", type=float, default=60)
    p.set_defaults(handler=source)
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    program.main(run)
