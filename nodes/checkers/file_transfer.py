"""Drive a learner's file server: a request and a reply are each a `!I` length, a JSON header, then any
file bytes the header announces.

    python3 -m nodes.checkers.file_transfer HOST PORT [--seed N] [--large-mib 200] [--cases a,b,...]

Cases (--cases runs some of them, each with the data it has in a full run): `small-files` (0 B, 1 B and
1 MiB up, then down, on one connection), `wrong-md5`, `traversal` (names that are not plain file names, up
and down, each on a connection of its own), `missing-file`, `vanished-upload` (half an upload; a get of its
name from another client meanwhile; a reset; a get after), `five-clients` (a put and a get each, all
connected at once) and `large-file` (LARGE MiB made from the seed, streamed up and down, never held
whole: its MD5 is computed in a pass before the upload, and while the download arrives).

Each request's header is written one of three ways, its `shape`: `whole` (alone, then a pause), `stuck`
(in one write with the file's first bytes) or `split` (in two writes 0.2 s apart, cut anywhere); file
bytes go out cut at random into writes of 1 B to 64 KiB. Every request reports a verdict: `ok` (as the
protocol says), `said-no` (ok: false to a right request, with the server's error), `said-yes` (ok: true to
one that must be refused), `wrong-header` (a download announced with another size or MD5), `short`,
`mismatch` (the bytes differ from the announced MD5), `bad-reply`, `no-reply`, `closed`, `refused`.

Result: {"cases": {case: {"planned", "right", "requests": [{"cmd", "name", "size", "shape", "refused",
"verdict", ...}], "failure": the first request not ok, or null, ...}}, "timing": {case: [[start, end]]}}
on the wall clock. A request of five-clients says its "client"; one of vanished-upload "when" (during or
after); wrong-md5 and vanished-upload list the names that must not be on the server's disk ("absent");
large-file says its "size" and the wall-clock "spans" of its put and get, each request its "seconds".
"""
import argparse
import hashlib
import itertools
import json
import random
import socket
import struct
import threading
import time
from dataclasses import dataclass

from nodes.lib import program
from nodes.lib.wire import Reader, connect, run_cases

PREFIX = struct.Struct("!I")
REPLY_S = 5.0       # a reply over the lossy link: a lost segment costs a retransmission timeout or two
CONNECT_S = 10.0    # three lost SYNs
STALL_S = 15.0      # a large transfer: this long without progress is a stall
SPLIT_S, WHOLE_S, CHUNK_S = 0.2, 0.05, 0.001  # pauses: inside a split header, after a header, between chunks
MAX_REPLY_HEADER = 64 * 1024
BLOCK = 1 << 20
HELD_S = 1.0        # vanished-upload: how long the half upload is held before the others look
BAD_PUTS = ["../escape.txt", "sub/escape.txt", "", ".", ".."]  # the way out first: the plainest failure
BAD_GETS = ["../" * 8 + "etc/passwd", "/etc/passwd", "", ".."]
CASES = ("small-files", "wrong-md5", "traversal", "missing-file", "vanished-upload", "five-clients", "large-file")


def md5(data):
    return hashlib.md5(data).hexdigest()


def frame(header):
    data = json.dumps(header).encode()
    return PREFIX.pack(len(data)) + data


def pieces(data, rng, most=65536):
    """data cut at random into writes of 1 B to `most`, their sizes spread evenly on a log scale."""
    chunks, at = [], 0
    while at < len(data):
        size = round(most ** rng.random())
        chunks.append(data[at:at + size])
        at += size
    return chunks


def writes(head, body, shape, rng):
    """[(bytes, pause_s)] of one request: its header written per `shape`, its body cut at random."""
    chunks = [(chunk, CHUNK_S) for chunk in pieces(body, rng)]
    if shape == "stuck":
        first, *rest = chunks or [(b"", 0)]
        return [(head + first[0], CHUNK_S), *rest]
    if shape in ("split", "split-length"):  # cut inside the JSON header, or inside its 4-byte length
        cut = rng.randrange(1, PREFIX.size) if shape == "split-length" else rng.randrange(PREFIX.size + 1, len(head))
        return [(head[:cut], SPLIT_S), (head[cut:], WHOLE_S), *chunks]
    return [(head, WHOLE_S), *chunks]


@dataclass
class Request:
    """One request and what must come of it: refused (ok: false), or the data stored and served."""
    cmd: str
    name: str
    data: bytes = b""
    shape: str = "whole"
    refused: bool = False
    md5: str = ""  # what a put announces, when not the data's own

    def facts(self):
        return {"cmd": self.cmd, "name": self.name, "size": len(self.data), "shape": self.shape,
                "refused": self.refused}


class Client:
    """One connection to the server; every read has a deadline."""

    def __init__(self, address):
        self.sock = connect(*address, seconds=CONNECT_S)
        self.reader = Reader(self.sock)

    def send(self, writes):
        """The writes, each followed by its pause; a server that closed first is told by its reply."""
        self.sock.settimeout(STALL_S)
        try:
            for data, pause in writes:
                self.sock.sendall(data)
                time.sleep(pause)
        except OSError:
            pass

    def reply(self, seconds=None):
        """(the reply's header, None), or (None, a verdict) when none readable came within seconds (REPLY_S)."""
        seconds = REPLY_S if seconds is None else seconds
        head, why = self.reader.read(PREFIX.size, seconds)
        if why:
            return None, {"verdict": "no-reply" if why == "timeout" else "closed", "got": len(head)}
        length = PREFIX.unpack(head)[0]
        if length > MAX_REPLY_HEADER:
            return None, {"verdict": "bad-reply", "length": length}
        raw, why = self.reader.read(length, seconds)
        if why:
            return None, {"verdict": "no-reply" if why == "timeout" else "closed", "got": len(head) + len(raw)}
        try:
            header = json.loads(raw)
        except (ValueError, RecursionError):
            header = None
        if not isinstance(header, dict) or not isinstance(header.get("ok"), bool):
            return None, {"verdict": "bad-reply", "text": raw[:80].decode(errors="replace")}
        return header, None

    def receive(self, size, digest):
        """The verdict on `size` file bytes that must have MD5 `digest`, hashed as they arrive."""
        hashed, left = hashlib.md5(), size
        while left:
            chunk, why = self.reader.read(min(left, BLOCK), STALL_S)
            hashed.update(chunk)
            left -= len(chunk)
            if why:
                return {"verdict": "short", "received": size - left, "stopped": why}
        return {"verdict": "ok"} if hashed.hexdigest() == digest else {"verdict": "mismatch"}

    def vanish(self):
        """Reset the connection (SO_LINGER 0: an RST, no FIN), as a peer whose machine died."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def close(self):
        self.sock.close()


def judged(reply, refused):
    """The verdict on a reply that must say ok: false (refused) or ok: true."""
    header, bad = reply
    if bad:
        return bad
    if header["ok"] != refused:
        return {"verdict": "ok"}
    if header["ok"]:
        return {"verdict": "said-yes", **({"header_size": header["size"]} if "size" in header else {})}
    return {"verdict": "said-no", "error": str(header.get("error"))[:200]}


def put_head(name, size, digest):
    return frame({"cmd": "put", "filename": name, "size": size, "md5": digest})


def fetched(client, size, digest, seconds=None):
    """The verdict on a download that must come: its reply, then `size` bytes whose MD5 is `digest`."""
    reply = client.reply(seconds)
    verdict = judged(reply, refused=False)
    if verdict["verdict"] != "ok":
        return verdict
    announced = (reply[0].get("size"), reply[0].get("md5"))
    if (announced[0], str(announced[1]).lower()) != (size, digest):  # HEX: either case
        return {"verdict": "wrong-header", "header_size": announced[0], "header_md5": str(announced[1])[:40]}
    return client.receive(size, digest)


def exchange(client, request, rng):
    """Send one request and judge its reply (and, for a download, the bytes after it)."""
    if request.cmd == "put":
        head = put_head(request.name, len(request.data), request.md5 or md5(request.data))
        client.send(writes(head, request.data, request.shape, rng))
        return judged(client.reply(), request.refused)
    client.send(writes(frame({"cmd": "get", "filename": request.name}), b"", request.shape, rng))
    return judged(client.reply(), True) if request.refused else fetched(client, len(request.data), md5(request.data))


def conversation(address, requests, rng, connected=None):
    """The requests in turn on one connection, up to the first that goes wrong: {"requests": [outcome]}.
    connected: a Barrier waited for once connected and again before closing (clients at once)."""
    outcomes = []
    try:
        client = Client(address)
    except OSError as exc:
        return {"requests": [{**requests[0].facts(), "verdict": "refused", "error": str(exc)}]}
    try:
        if connected:
            wait(connected)
        for nth, request in enumerate(requests):
            outcomes.append({**request.facts(), "nth": nth, **exchange(client, request, rng)})
            if outcomes[-1]["verdict"] != "ok":
                break
        if connected:
            wait(connected)
    finally:
        client.close()
    return {"requests": outcomes}


def wait(barrier):
    try:
        barrier.wait(REPLY_S * 4)
    except threading.BrokenBarrierError:
        pass


def summed(planned, results):
    """One case's outcome from its conversations: every request's outcome, and the first that went wrong."""
    outcomes = [outcome for result in results for outcome in result["requests"]]
    bad = next((o for o in outcomes if o["verdict"] != "ok"), None)
    return {"planned": planned, "right": sum(o["verdict"] == "ok" for o in outcomes), "requests": outcomes,
            "failure": bad}


def small_files(address, rng):
    """0 B, 1 B and 1 MiB up, then down, on one connection: the empty file up and down with whole headers
    (a server that answers one request per connection fails here, plainly), then a header stuck to its file's
    first byte, one cut inside its JSON, and gets cut inside their 4-byte lengths."""
    files = {"empty.bin": b"", "one-byte.bin": rng.randbytes(1), "one-mib.bin": rng.randbytes(1 << 20)}
    requests = [Request("put", "empty.bin"), Request("get", "empty.bin"),
                Request("put", "one-byte.bin", files["one-byte.bin"], "stuck"),
                Request("put", "one-mib.bin", files["one-mib.bin"], "split"),
                *(Request("get", name, files[name], "split-length") for name in ("one-byte.bin", "one-mib.bin"))]
    return summed(len(requests), [conversation(address, requests, rng)])


def wrong_md5(address, rng):
    """A 64 KiB upload whose header announces another MD5, then a get of its name: both refused."""
    data = rng.randbytes(65536)
    requests = [Request("put", "wrong-md5.bin", data, refused=True, md5=md5(data[::-1])),
                Request("get", "wrong-md5.bin", refused=True)]
    return {**summed(len(requests), [conversation(address, requests, rng)]), "absent": ["wrong-md5.bin"]}


def traversal(address, rng):
    """Each name that is not a plain file name, up and down, on a connection of its own, up to the first
    that is not refused."""
    requests = [Request("put", name, rng.randbytes(10), refused=True) for name in BAD_PUTS]
    requests += [Request("get", name, refused=True) for name in BAD_GETS]
    results = []
    for request in requests:
        results.append(conversation(address, [request], rng))
        if results[-1]["requests"][-1]["verdict"] != "ok":
            break
    return summed(len(requests), results)


def missing_file(address, rng):
    """A get of a name never stored, refused; the connection goes on: a put and a get on it."""
    data = rng.randbytes(1000)
    requests = [Request("get", "never-stored.bin", refused=True), Request("put", "after-missing.bin", data),
                Request("get", "after-missing.bin", data)]
    return summed(len(requests), [conversation(address, requests, rng)])


def five_clients(address, rng, count=5):
    """count connections open at once, each putting and getting a file of its own (headers written whole),
    none closing before all are done: a server that serves one connection at a time leaves the others."""
    plans = [[Request("put", f"client-{n}.bin", data := rng.randbytes(rng.randrange(10_000, 100_000))),
              Request("get", f"client-{n}.bin", data)] for n in range(count)]
    rngs, barrier, results = [random.Random(rng.random()) for _ in plans], threading.Barrier(count), [None] * count

    def client(index):
        results[index] = conversation(address, plans[index], rngs[index], barrier)
        for outcome in results[index]["requests"]:
            outcome["client"] = index
    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(REPLY_S * 12)
    missing = {"requests": [{"cmd": "put", "verdict": "no-reply", "error": "the client never finished"}]}
    return {**summed(2 * count, [r or missing for r in results]),
            "clients_failed": sum(1 for r in results if not r or any(o["verdict"] != "ok" for o in r["requests"]))}


def vanished_upload(address, rng):
    """Half of a 128 KiB upload, held: another client's get of its name must be refused (no partial file
    under the final name); then the uploader resets, and a new client's get must be refused too."""
    data, name = rng.randbytes(131072), "vanished.bin"
    try:
        uploader = Client(address)
        uploader.send([(put_head(name, len(data), md5(data)) + data[:len(data) // 2], HELD_S)])
    except OSError as exc:
        return summed(2, [{"requests": [{**Request("put", name, data).facts(), "verdict": "refused",
                                         "error": str(exc)}]}])
    during = conversation(address, [Request("get", name, refused=True)], rng)
    uploader.vanish()
    time.sleep(0.5)
    after = conversation(address, [Request("get", name, refused=True)], rng)
    for result, when in ((during, "during"), (after, "after")):
        result["requests"][0]["when"] = when
    return {**summed(2, [during, after]), "sent": len(data) // 2, "absent": [name]}


class Blocks:
    """A large file made from the seed, 1 MiB blocks produced as they are needed: each a different window
    of one random buffer, so that a block lost, repeated or reordered changes the MD5."""

    def __init__(self, rng, mib):
        self.base, self.count = rng.randbytes(BLOCK + 4096), mib

    def __iter__(self):
        for index in range(self.count):
            at = index * 997 % 4096
            yield self.base[at:at + BLOCK]

    def md5(self):
        hashed = hashlib.md5()
        for block in self:
            hashed.update(block)
        return hashed.hexdigest()


def timed(work):
    """(work()'s verdict, [start, end] on the wall clock)."""
    started = round(time.time(), 3)
    verdict = work()
    return verdict, [started, round(time.time(), 3)]


def large_file(address, rng, mib):
    """mib MiB up on one connection, then down on another, streamed both ways."""
    blocks, name = Blocks(rng, mib), "large.bin"
    size, digest = mib * BLOCK, blocks.md5()
    facts = {"cmd": "put", "name": name, "size": size, "shape": "whole", "refused": False}

    def put():
        client = Client(address)
        client.send(itertools.chain([(put_head(name, size, digest), 0)], ((block, 0) for block in blocks)))
        verdict = judged(client.reply(STALL_S), refused=False)
        client.close()
        return verdict

    def get():
        client = Client(address)
        client.send([(frame({"cmd": "get", "filename": name}), 0)])
        verdict = fetched(client, size, digest, STALL_S)
        client.close()
        return verdict

    outcomes, spans = [], {}
    for cmd, work in (("put", put), ("get", get)):
        try:
            verdict, spans[cmd] = timed(work)
        except OSError as exc:
            verdict = {"verdict": "refused", "error": str(exc)}
        outcomes.append({**facts, "cmd": cmd, **verdict,
                         **({"seconds": round(spans[cmd][1] - spans[cmd][0], 2)} if cmd in spans else {})})
        if verdict["verdict"] != "ok":
            break
    return {**summed(2, [{"requests": outcomes}]), "size": size, "spans": spans}


def run(argv):
    parser = argparse.ArgumentParser(prog="nodes.checkers.file_transfer")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--large-mib", type=int, default=200)
    parser.add_argument("--cases", default=",".join(CASES))
    args = parser.parse_args(argv)
    chosen = args.cases.split(",")
    if unknown := set(chosen) - set(CASES):
        raise program.ProgramError(f"no such case: {', '.join(sorted(unknown))}; cases: {', '.join(CASES)}")
    address = (args.host, args.port)
    drive = {"small-files": small_files, "wrong-md5": wrong_md5, "traversal": traversal,
             "missing-file": missing_file, "vanished-upload": vanished_upload, "five-clients": five_clients,
             "large-file": lambda address, rng: large_file(address, rng, args.large_mib)}
    # each case's data from the seed and its own name: the same whichever cases run
    return run_cases({case: lambda case=case: drive[case](address, random.Random(f"{args.seed}:{case}"))
                      for case in CASES if case in chosen})


if __name__ == "__main__":
    program.main(run)
