"""What execd and rexec share: the lab key and the HMAC challenge-response that opens every session.

Framed port: server → {"kind": "challenge", "nonce"}; client → {"kind": "auth", "mac"}; server →
{"kind": "welcome"} or {"kind": "refused", "reason"}, then requests {"kind": "exec", "command", "timeout",
"runner"} each answered by {"kind": "result", "exit_code", "stdout_size", "stderr_size", "duration",
"timed_out", "truncated", "stdout_sha256", "stderr_sha256"} whose body is stdout then stderr.
Naive port: the same challenge as 32 raw bytes, the MAC as 32 raw bytes, b"OK" or b"NO"; then the course's
protocol: a command in one recv(1024), its output sent back raw.

mac = HMAC-SHA256(key, nonce): the key never crosses the network, and a recorded answer is useless
against another nonce.
"""
import hashlib
import hmac
import os
import time

from nodes.lib import framing, keys, ports, program

FRAMED_PORT, NAIVE_PORT = ports.EXECD_FRAMED, ports.EXECD_NAIVE
NONCE_BYTES = 32


class AuthError(program.ProgramError):
    """The peer did not prove it holds the lab key (or refused ours)."""


def load_key(path=keys.EXECD):
    return keys.load(path, AuthError)


def mac(key, nonce):
    return hmac.new(key, nonce, hashlib.sha256).digest()


REFUSED = "authentication failed: wrong or missing lab key"


def server_handshake(sock, key, timeout=5, admit=lambda: None):
    """Challenge the client; None if it answered with the right MAC and admit() has no objection, else the
    reason it was refused. The client is told either way."""
    nonce = os.urandom(NONCE_BYTES)
    framing.send_frame(sock, kind="challenge", nonce=nonce.hex())
    answer = framing.read_frame(sock, max_body=0, max_header=1024, timeout=timeout)
    good = (answer is not None and answer.kind == "auth" and isinstance(answer.header.get("mac"), str)
            and hmac.compare_digest(answer.header["mac"], mac(key, nonce).hex()))
    refused = admit() if good else REFUSED
    framing.send_frame(sock, kind="welcome" if refused is None else "refused",
                       **({} if refused is None else {"reason": refused}))
    return refused


def client_handshake(sock, key, timeout=5):
    challenge = framing.read_frame(sock, max_body=0, max_header=1024, timeout=timeout)
    if challenge is None or challenge.kind != "challenge":
        raise AuthError("the server did not send a challenge")
    framing.send_frame(sock, kind="auth", mac=mac(key, bytes.fromhex(challenge.header["nonce"])).hex())
    verdict = framing.read_frame(sock, max_body=0, max_header=1024, timeout=timeout)
    if verdict is None or verdict.kind != "welcome":
        raise AuthError(verdict.header.get("reason", "refused") if verdict else "the server closed the connection")


def naive_server_handshake(sock, key, timeout=5, admit=lambda: None):
    """The same challenge in raw bytes: b"OK" or b"NO"; returns None or the reason for refusing."""
    nonce = os.urandom(NONCE_BYTES)
    sock.sendall(nonce)
    answer = framing.recv_exactly(sock, NONCE_BYTES, time.monotonic() + timeout, allow_eof=True)
    good = len(answer) == NONCE_BYTES and hmac.compare_digest(bytes(answer), mac(key, nonce))
    refused = admit() if good else REFUSED
    sock.sendall(b"OK" if refused is None else b"NO")
    return refused


def naive_client_handshake(sock, key):
    nonce = framing.recv_exactly(sock, NONCE_BYTES)
    sock.sendall(mac(key, bytes(nonce)))
    if framing.recv_exactly(sock, 2) != b"OK":
        raise AuthError("authentication failed: wrong or missing lab key")
