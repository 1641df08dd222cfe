"""Drive a learner's framing echo server (`!I` length, then the message; echoed framed the same way).

    python3 -m nodes.checkers.framing HOST PORT [--seed N]

Cases, each on connections of its own: an empty then a small message, sizes up to 1 MiB (the last 2
bytes of each 50 ms late), 1-byte writes,
random chunkings, several messages in one write, a pause inside a length prefix, five clients at once, and
a client that closes mid-frame followed by a new one. Each case reports how many echoes came back right and
the first one that did not: `short` (fewer bytes than sent), `merged` (a longer length: messages run
together), `swapped` (the length in the other byte order), `mismatch`, `no-reply`, `closed`, `refused`.
"""
import argparse
import random
import struct
import threading
import time

from nodes.lib.wire import Reader, connect, run_cases
from nodes.lib import program

REPLY_S = 3.0


def frame(message):
    return struct.pack("!I", len(message)) + message


def expect_echo(reader, message):
    """The verdict on the echo of one message: {"verdict": "ok"} or what went wrong, with the numbers."""
    seconds = REPLY_S + len(message) / (1 << 20) * 3
    head, why = reader.read(4, seconds)
    if why:
        return {"verdict": "no-reply" if why == "timeout" else "closed", "header_bytes": len(head)}
    length = struct.unpack("!I", head)[0]
    facts = {"sent": len(message), "header": length}
    if length != len(message):
        swapped = struct.unpack("<I", struct.pack("!I", len(message)))[0]
        verdict = "swapped" if length == swapped else "short" if length < len(message) else "merged"
        return {"verdict": verdict, **facts}
    body, why = reader.read(length, seconds)
    if why:
        return {"verdict": "short", **facts, "received": len(body), "stopped": why}
    if body != message:
        first = next(i for i, (a, b) in enumerate(zip(body, message)) if a != b)
        return {"verdict": "mismatch", **facts, "first_difference": first}
    return {"verdict": "ok"}


def converse(address, messages, writes):
    """Send `writes` ([(bytes, pause_s)]) from a thread while reading the echoes of `messages` in order."""
    try:
        sock = connect(*address)
    except OSError as exc:
        return {"messages": len(messages), "echoed": 0, "failure": {"index": 0, "verdict": "refused",
                                                                    "error": str(exc)}}
    def write():
        try:
            for data, pause in writes:
                sock.sendall(data)
                time.sleep(pause)
        except OSError:
            pass  # the server closed: the reader says so
    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    reader, echoed, failure = Reader(sock), 0, None
    for index, message in enumerate(messages):
        verdict = expect_echo(reader, message)
        if verdict["verdict"] != "ok":
            failure = {"index": index, "size": len(message), **verdict}
            break
        echoed += 1
    sock.close()
    writer.join(5)
    return {"messages": len(messages), "echoed": echoed, "failure": failure}


def conversed(address, messages, writes):
    """converse(), with the seconds it took."""
    started = time.monotonic()
    return {**converse(address, messages, writes), "seconds": round(time.monotonic() - started, 3)}


def halves(messages):
    """Each frame in two writes 50 ms apart, the last 2 bytes late: a reader that takes one recv() for the
    whole message gets the rest short on any network, and no re-read of the stream can hide it (an echo of
    4 bytes read as a new length waits for bytes that never come)."""
    writes = []
    for message in messages:
        data = frame(message)
        cut = len(data) - min(2, len(message))
        writes += [(data[:cut], 0.05), (data[cut:], 0)]
    return writes


def chunked(stream, sizes, pause):
    writes, at = [], 0
    for size in sizes:
        writes.append((stream[at:at + size], pause))
        at += size
    return writes + ([(stream[at:], 0)] if at < len(stream) else [])


def cases(rng):
    """{case: (messages, writes)} of the one-connection cases."""
    messages = lambda sizes: [rng.randbytes(size) for size in sizes]
    small = messages([0, 1, 7, 300])
    stream_small = b"".join(map(frame, small))
    chunks = messages([0] + [rng.randrange(1, 30_000) for _ in range(19)])
    stream_chunks = b"".join(map(frame, chunks))
    cuts = []
    while sum(cuts) < len(stream_chunks):
        cuts.append(rng.randrange(1, 8000))
    batch = messages([rng.randrange(10, 100) for _ in range(5)])
    paused = messages([1000])
    prefix = frame(paused[0])
    return {
        # 50 ms apart: one frame per read here, whatever the timing (merged frames are `batched`'s case)
        "empty-then-small": (m := [b"", b"hello"], [(frame(b""), 0.05), (frame(b"hello"), 0)]),
        "sizes": (m := messages([1, 100, 1024, 1025, 4096, 65536, 1 << 20]), halves(m)),
        "byte-writes": (small, chunked(stream_small, [1] * len(stream_small), 0.001)),
        "random-chunks": (chunks, chunked(stream_chunks, cuts, 0.001)),
        "batched": (batch, [(b"".join(map(frame, batch)), 0)]),
        "paused-prefix": (paused, [(prefix[:2], 0.3), (prefix[2:], 0)]),
    }


def five_clients(address, rng):
    """Five connections open at once, each echoing three messages, none closing before all are done: a
    server that serves one connection at a time leaves four waiting. The messages are small (one write, one
    segment), so that this case tests that alone: a missing read loop gives the same verdict every time."""
    plans = [[rng.randbytes(rng.randrange(0, 1000)) for _ in range(3)] for _ in range(5)]
    done, results = threading.Barrier(5), [None] * 5

    def client(index):
        sock = connect(*address)
        reader, echoed, failure = Reader(sock), 0, None
        for n, message in enumerate(plans[index]):
            sock.sendall(frame(message))
            verdict = expect_echo(reader, message)
            if verdict["verdict"] != "ok":
                failure = {"client": index, "index": n, "size": len(message), **verdict}
                break
            echoed += 1
        results[index] = {"echoed": echoed, "failure": failure}
        try:
            done.wait(REPLY_S * 4)
        except threading.BrokenBarrierError:
            pass
        sock.close()
    try:
        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(REPLY_S * 6)
    except OSError as exc:
        return {"messages": 15, "echoed": 0, "failure": {"verdict": "refused", "error": str(exc)}}
    failures = [r["failure"] if r else {"verdict": "refused"} for r in results if not r or r["failure"]]
    return {"messages": 15, "echoed": sum(r["echoed"] for r in results if r), "clients_failed": len(failures),
            "failure": failures[0] if failures else None}


def mid_frame_close(address, rng):
    """A client sends half a frame and closes; then a new client must be served as if nothing happened."""
    try:
        with connect(*address) as sock:
            sock.sendall(struct.pack("!I", 1000) + rng.randbytes(10))
    except OSError:
        pass
    time.sleep(0.2)
    after = [rng.randbytes(50), rng.randbytes(500)]  # small and 50 ms apart: this case tests the vanishing alone
    return converse(address, after, [(frame(after[0]), 0.05), (frame(after[1]), 0)])


def run(argv):
    parser = argparse.ArgumentParser(prog="nodes.checkers.framing")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rng, address = random.Random(args.seed), (args.host, args.port)
    driven = {name: lambda messages=messages, writes=writes: conversed(address, messages, writes)
              for name, (messages, writes) in cases(rng).items()}
    return run_cases({**driven, "five-clients": lambda: five_clients(address, rng),
                      "mid-frame-close": lambda: mid_frame_close(address, rng)})


if __name__ == "__main__":
    program.main(run)
