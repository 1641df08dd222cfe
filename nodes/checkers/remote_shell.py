"""Drive a learner's remote shell server (request: `!I` length + command; reply: `!I` header length, a JSON
header {"stdout": N, "stderr": M, "exit_code": K}, N bytes of stdout, M bytes of stderr).

    python3 -m nodes.checkers.remote_shell HOST PORT

Each case reports, per command, the reply as it came (lengths, exit code, whether stdout/stderr match what
the command prints) or why none came: `no-reply`, `closed`, `bad-header` (with the first bytes, which may
belong to an earlier reply), `refused`.
"""
import argparse
import json
import struct
import threading
import time

from nodes.lib.wire import Reader, connect, run_cases
from nodes.lib import program

REPLY_S = 3.0
MAX_OUTPUT = 64 << 20  # no command here prints more: a larger count is a broken header
SEQ = "".join(f"{i}\n" for i in range(1, 20001)).encode()
LONG = "x" * 2000


def request(command):
    data = command.encode()
    return struct.pack("!I", len(data)) + data


def read_reply(reader, seconds=REPLY_S):
    """One reply: {"verdict": "ok", "stdout", "stderr", "exit_code"} or what went wrong."""
    head, why = reader.read(4, seconds)
    if why:
        return {"verdict": "no-reply" if why == "timeout" else "closed", "got": head.hex()}
    length = struct.unpack("!I", head)[0]
    if length > 65536:
        start = head + reader.extra(0.3)[:36]
        return {"verdict": "bad-header", "length": length, "got": start.hex(), "text": start.decode(errors="replace")}
    raw, why = reader.read(length, seconds)
    try:
        header = json.loads(raw)
        counts = [header["stdout"], header["stderr"], header["exit_code"]]
        if not all(isinstance(n, int) for n in counts) or min(counts[:2]) < 0:
            raise ValueError("not whole numbers")
        if max(counts[:2]) > MAX_OUTPUT:
            raise ValueError(f"a count over {MAX_OUTPUT} bytes")
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        return {"verdict": "bad-header", "length": length, "got": (head + raw[:36]).hex(),
                "text": (head + raw[:36]).decode(errors="replace"), "error": str(exc)[:100]}
    stdout, why_out = reader.read(header["stdout"], seconds)
    stderr, why_err = reader.read(header["stderr"], seconds) if not why_out else (b"", why_out)
    if why_out or why_err:
        return {"verdict": "short", "header": header, "stdout_got": len(stdout), "stderr_got": len(stderr)}
    return {"verdict": "ok", "stdout": stdout, "stderr": stderr, "exit_code": header["exit_code"]}


def leftover(reply, previous):
    """How many bytes at the start of a bad reply are the end of the previous command's output (0: none)."""
    got = bytes.fromhex(reply.get("got", ""))
    return next((k for k in range(len(previous), 0, -1) if got.startswith(previous[-k:])), 0) if previous else 0


def judged(reply, want):
    """The reply against what the command prints: JSON-safe, with match flags and byte counts."""
    if reply["verdict"] != "ok":
        return reply
    out = {"verdict": "ok", "exit_code": reply["exit_code"], "stdout_bytes": len(reply["stdout"]),
           "stderr_bytes": len(reply["stderr"]), "stdout_ok": reply["stdout"] == want.get("stdout", b""),
           "stderr_ok": reply["stderr"] == want.get("stderr", b""),
           "exit_ok": reply["exit_code"] == want.get("exit_code", 0),
           "stdout_head": reply["stdout"][:40].decode(errors="replace")}
    if not (out["stdout_ok"] and out["stderr_ok"] and out["exit_ok"]):
        out["verdict"] = "wrong"
    return out


def session(address, commands, together=False, seconds=REPLY_S):
    """Send commands on one connection (each after the previous reply, or all in one write) and judge
    each reply; stops at the first that is missing or unreadable."""
    try:
        sock = connect(*address)
    except OSError as exc:
        return [{"verdict": "refused", "error": str(exc)}]
    replies, reader = [], Reader(sock)
    with sock:
        try:
            if together:
                sock.sendall(b"".join(request(c) for c, _ in commands))
            for command, want in commands:
                if not together:
                    sock.sendall(request(command))
                reply = judged(read_reply(reader, seconds), want)
                if reply["verdict"] == "bad-header" and replies:
                    reply["previous_output_bytes"] = leftover(reply, commands[len(replies) - 1][1].get("stdout", b""))
                replies.append({"command": command[:60], **reply})
                if replies[-1]["verdict"] not in ("ok", "wrong"):
                    break
        except OSError as exc:
            replies.append({"command": command[:60], "verdict": "closed", "error": str(exc)})
    return replies


def concurrent(address):
    """A 5-second command on one connection; meanwhile a second client must be answered at once."""
    slow = {}
    thread = threading.Thread(target=lambda: slow.update(r=session(address, [("sleep 5; echo slow",
                                                                            {"stdout": b"slow\n"})], seconds=9)))
    thread.start()
    time.sleep(0.5)
    started = time.monotonic()
    fast = session(address, [("echo fast", {"stdout": b"fast\n"})], seconds=2.5)
    fast[0]["seconds"] = round(time.monotonic() - started, 2)
    thread.join(12)
    return fast + slow.get("r", [{"verdict": "no-reply"}])


def vanish(address):
    """A client reads 100 bytes of a 2 MB reply and closes; then a new client must be served."""
    try:
        with connect(*address) as sock:
            sock.sendall(request("seq 1 300000"))
            Reader(sock).read(100, REPLY_S)
    except OSError:
        pass
    time.sleep(0.3)
    return session(address, [("echo alive", {"stdout": b"alive\n"})])


def run(argv):
    parser = argparse.ArgumentParser(prog="nodes.checkers.remote_shell")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    args = parser.parse_args(argv)
    address = (args.host, args.port)
    cases = {
        "big-output": lambda: session(address, [("seq 1 20000", {"stdout": SEQ})]),
        "stderr-only": lambda: session(address, [("echo oops >&2", {"stderr": b"oops\n"})]),
        "exit-status": lambda: session(address, [("exit 3", {"exit_code": 3}), ("true", {})]),
        "binary": lambda: session(address, [(r"printf '\000\001\377\376\n'", {"stdout": b"\x00\x01\xff\xfe\n"})]),
        "unicode-then-next": lambda: session(address, [("echo 粘包", {"stdout": "粘包\n".encode()}),
                                                       ("echo next", {"stdout": b"next\n"})]),
        "back-to-back": lambda: session(address, [(f"echo {i}", {"stdout": f"{i}\n".encode()}) for i in range(20)],
                                        together=True),
        "long-command": lambda: session(address, [(f"echo {LONG}", {"stdout": f"{LONG}\n".encode()})]),
        "stderr-first": lambda: session(address, [("head -c 1000000 /dev/zero | tr '\\000' e >&2; echo out",
                                                   {"stdout": b"out\n", "stderr": b"e" * 1_000_000})], seconds=8),
        "slow-and-second": lambda: concurrent(address),
        "vanish-mid-reply": lambda: vanish(address),
    }
    return run_cases(cases)


if __name__ == "__main__":
    program.main(run)
