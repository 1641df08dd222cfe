"""A hostile peer: one connection per attack against a server, each the kind of input that kills naive
servers; then how the server took it.

    python3 -m nodes.hostile HOST PORT ATTACK... [--hold N] [--wait S] [--key FILE]

Attacks (see ATTACKS): raw bytes for any server (garbage, binary, vanish, reset, slowloris, half-close),
malformed frames for framed servers (oversize, zero-length, not-json, nested, sha256-number, …), bad lines
for line servers, and `authed-…` variants that first pass execd's challenge with --key. --hold N keeps N
connections open and silent for the whole run (a flood of unauthenticated peers).
Result: {"attacks": [{"attack", "outcome": closed|reset|replied|open, "reply", "seconds"}], "held": N}.
A server that survives answers with a close, a reset or an error reply, and keeps serving everyone else.
"""
import argparse
import json
import os
import socket
import struct
import sys
import time

from nodes.lib import execproto, framing, keys, program


def header(fields, body=b""):
    raw = json.dumps(fields).encode()
    return struct.pack("!I", len(raw)) + raw + body


FRAME = framing.encode(b"x" * 100)
ATTACKS = {
    # any server
    "garbage": b"GET / HTTP/1.0\r\nHost: x\r\n\r\n",
    "binary": os.urandom(64 * 1024),
    "vanish": b"",
    "reset": b"\x00\x00",                       # then an RST instead of a FIN
    "slowloris": b"\x00\x00\x00\x10{\"siz",     # a byte at a time, slower and slower
    "half-close": b"\x00\x00",                  # then shutdown(SHUT_WR), still reading
    # framed servers
    "oversize": struct.pack("!I", 0xFFFFFFFF) + b"x" * 64,
    "zero-length": struct.pack("!I", 0),
    "not-json": struct.pack("!I", 6) + b"\xff\xfe{}{}",
    "header-list": header([1, 2, 3]),
    "nested": struct.pack("!I", 20000) + b"[" * 20000,
    "sha256-number": header({"size": 2, "sha256": 5, "kind": "exec"}, b"no"),
    "kind-object": header({"size": 0, "sha256": None, "kind": {"a": 1}}),
    "negative-size": header({"size": -5, "sha256": None, "kind": "read"}),
    "huge-body": header({"size": 1 << 40, "sha256": None, "kind": "data"}),
    "truncated-body": FRAME[:-40],
    "stall-mid-frame": FRAME[:20],
    "bad-fields": header({"size": 0, "sha256": None, "kind": "exec", "command": ["ls"], "timeout": "nan"}),
    "bad-acquire": header({"size": 0, "sha256": None, "kind": "acquire", "timeout": [1]}),
    # line servers
    "long-line": b"io " + b"9" * 500,
    "bad-utf8": b"\xff\xfe\xfd\n",
    "huge-number": b"cpu 99999999999999999999\n",
    "half-line": b"io 5",
}
AUTHED = ("authed-garbage", "authed-oversize", "authed-nested", "authed-sha256-number", "authed-bad-fields",
          "authed-vanish")


def outcome(sock, wait):
    """closed, reset, replied (with what) or open, once the server has had `wait` seconds."""
    sock.settimeout(wait)
    started, got = time.monotonic(), b""
    try:
        while chunk := sock.recv(4096):
            got += chunk
            if len(got) > 4096:
                break
        state = "closed"
    except socket.timeout:
        state = "replied" if got else "open"
    except ConnectionResetError:
        state = "reset"
    return {"outcome": state, "reply": got[:120].decode(errors="replace"),
            "seconds": round(time.monotonic() - started, 3)}


def attack(host, port, name, wait, key):
    sock = socket.create_connection((host, port), timeout=10)
    with sock:
        if name.startswith("authed-"):
            execproto.client_handshake(sock, key)
            name = name[len("authed-"):]
        data = ATTACKS[name]
        if name == "slowloris":
            for i, byte in enumerate(data):
                sock.sendall(bytes([byte]))
                time.sleep(min(0.5, 0.05 * (i + 1)))
        elif data:
            sock.sendall(data)
        if name == "vanish":
            return {"outcome": "vanished", "reply": "", "seconds": 0}
        if name == "reset":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return {"outcome": "reset by us", "reply": "", "seconds": 0}
        if name == "half-close":
            sock.shutdown(socket.SHUT_WR)
        return outcome(sock, wait)


def run(argv):
    parser = argparse.ArgumentParser(prog="nodes.hostile")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("attacks", nargs="+", choices=[*ATTACKS, *AUTHED], metavar="ATTACK")
    parser.add_argument("--hold", type=int, default=0, help="connections to keep open and silent throughout")
    parser.add_argument("--wait", type=float, default=3.0, help="seconds to see how the server takes each")
    parser.add_argument("--key", default=keys.EXECD, help="execd's key, for the authed-… attacks")
    args = parser.parse_args(argv)
    key = execproto.load_key(args.key) if any(a.startswith("authed-") for a in args.attacks) else None
    held = [socket.create_connection((args.host, args.port), timeout=10) for _ in range(args.hold)]
    print("holding", len(held), file=sys.stderr, flush=True)
    results = []
    for name in args.attacks:
        try:
            results.append({"attack": name, **attack(args.host, args.port, name, args.wait, key)})
        except (OSError, program.ProgramError, framing.FramingError) as exc:
            results.append({"attack": name, "outcome": f"{type(exc).__name__}: {exc}", "reply": "", "seconds": 0})
    for sock in held:
        sock.close()
    return {"attacks": results, "held": len(held)}


if __name__ == "__main__":
    program.main(run)
