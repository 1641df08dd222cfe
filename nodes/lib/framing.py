"""Length-prefixed messages over a byte stream: the fix for "sticky packets".

A frame is a 4-byte network-order length (`struct` "!I") of a JSON header, the header, then the body:

    !I header length | {"size": body bytes, "sha256": hex, "kind": ..., "name": ...} | body

TCP delivers bytes, not messages: one recv() may hold several sends, or part of one. A reader therefore
loops until it has exactly the bytes the prefix and the header announce, and hands up only whole, verified
frames. Two readers are here: Decoder, fed whatever chunks arrive (for servers that multiplex many
connections), and read_frame() on a blocking socket, with a deadline so that a stalled peer cannot hold it.
"""
import hashlib
import json
import re
import socket
import struct
import time
from dataclasses import dataclass

PREFIX = struct.Struct("!I")
MAX_HEADER = 64 * 1024
MAX_BODY = 64 * 1024 * 1024
LARGE = 64 * 1024  # bodies from this size are sent and received without an extra copy
REQUIRED = ("size", "sha256", "kind")
HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


class FramingError(Exception):
    """The stream does not hold a valid frame; the connection is unusable after it."""


class IncompleteFrame(FramingError):
    """The peer closed the connection in the middle of a frame."""


class FrameTooLarge(FramingError):
    """A length above the reader's maximum: refused before reading (or allocating) it."""


class BadHeader(FramingError):
    """The header is not a JSON object with the required fields."""


class ChecksumMismatch(FramingError):
    """The body's sha256 is not the one its header announced."""


class PeerStalled(FramingError):
    """The peer did not complete a frame within the deadline."""


@dataclass(frozen=True)
class Frame:
    header: dict
    body: bytearray  # the buffer the body was read into: no second copy
    wire: int = 0    # bytes it took on the wire: prefix, header and body (known to a Decoder)

    @property
    def kind(self):
        return self.header["kind"]


def encode_header(body, kind="data", checksum=True, **fields):
    """A frame's prefix and header for body.

    checksum=False sends "sha256": null, and the reader skips the check: framing without integrity.
    """
    digest = hashlib.sha256(body).hexdigest() if checksum else None
    header = json.dumps({"size": len(body), "sha256": digest, "kind": kind, **fields}, separators=(",", ":")).encode()
    return PREFIX.pack(len(header)) + header


def encode(body=b"", kind="data", checksum=True, **fields):
    """One frame: prefix, header (size, sha256, kind and any other fields), body."""
    return encode_header(body, kind, checksum, **fields) + body


def parse_header(raw, max_body=MAX_BODY):
    """The header dict from its bytes, checked for its fields and its body size."""
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadHeader(f"header is not JSON: {exc}") from None
    except RecursionError:  # thousands of nested [ or {
        raise BadHeader("header is JSON nested too deeply") from None
    if not isinstance(header, dict) or not all(field in header for field in REQUIRED):
        raise BadHeader(f"header lacks {', '.join(f for f in REQUIRED if not isinstance(header, dict) or f not in header)}")
    size = header["size"]
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise BadHeader(f"header size {size!r} is not a byte count")
    if size > max_body:
        raise FrameTooLarge(f"body of {size} bytes exceeds the maximum of {max_body}")
    digest = header["sha256"]
    if digest is not None and not (isinstance(digest, str) and HEX_DIGEST.fullmatch(digest)):
        raise BadHeader(f"header sha256 is not null or 64 hex digits (a {type(digest).__name__})")
    if not isinstance(header["kind"], str):
        raise BadHeader(f"header kind is not text (a {type(header['kind']).__name__})")
    return header


def check_header_length(length, max_header=MAX_HEADER):
    if length > max_header:
        raise FrameTooLarge(f"header of {length} bytes exceeds the maximum of {max_header}")
    if length == 0:
        raise BadHeader("header length is 0")
    return length


def verified(header, body, wire=0):
    if header["sha256"] is not None and hashlib.sha256(body).hexdigest() != header["sha256"]:
        raise ChecksumMismatch(f"body of {len(body)} bytes does not match its sha256 {header['sha256'][:12]}…")
    return Frame(header, body, wire)


class Decoder:
    """Frames from a stream fed in arbitrary chunks; only whole, verified frames come out.

    Prefix and header bytes gather in a small buffer; a body is copied once, straight into a buffer of the
    size its header announced (after that size was checked against the maximum).
    """

    def __init__(self, max_body=MAX_BODY, max_header=MAX_HEADER):
        self.max_body, self.max_header = max_body, max_header
        self.buffer = bytearray()  # prefix, then header, of the current frame
        self.length = None         # the header's length, once the prefix is in
        self.header = None         # the current frame's header, once parsed
        self.body, self.filled = None, 0

    def feed(self, data):
        """Add bytes; return the frames they complete (possibly none). Raises FramingError on bad input."""
        frames, view = [], memoryview(data)
        while True:
            if self.header is not None:
                take = min(len(view), len(self.body) - self.filled)
                self.body[self.filled:self.filled + take] = view[:take]
                self.filled += take
                view = view[take:]
                if self.filled < len(self.body):
                    return frames
                frames.append(verified(self.header, self.body, PREFIX.size + self.length + len(self.body)))
                self.header = self.body = self.length = None
                continue
            if not view:
                return frames
            if not self.buffer and len(view) >= PREFIX.size:  # fast path: prefix and header in this chunk
                length = check_header_length(PREFIX.unpack_from(view)[0], self.max_header)
                if len(view) >= PREFIX.size + length:
                    self.header = parse_header(bytes(view[PREFIX.size:PREFIX.size + length]), self.max_body)
                    self.length = length
                    self.body, self.filled = bytearray(self.header["size"]), 0
                    view = view[PREFIX.size + length:]
                    continue
            want = PREFIX.size if self.length is None else PREFIX.size + self.length
            take = min(len(view), want - len(self.buffer))
            self.buffer += view[:take]
            view = view[take:]
            if len(self.buffer) < want:
                return frames
            if self.length is None:
                self.length = check_header_length(PREFIX.unpack(self.buffer)[0], self.max_header)
                continue
            self.header = parse_header(bytes(self.buffer[PREFIX.size:]), self.max_body)
            self.buffer.clear()
            self.body, self.filled = bytearray(self.header["size"]), 0

    def recv_from(self, sock, chunk=256 * 1024):
        """One read from sock: a large body's bytes go straight into its buffer. Returns (frames, closed)."""
        if self.header is not None and len(self.body) - self.filled >= LARGE:
            with memoryview(self.body) as view:
                count = sock.recv_into(view[self.filled:])
            if count == 0:
                return [], True
            self.filled += count
            return self.feed(b""), False
        data = sock.recv(chunk)
        return (self.feed(data), False) if data else ([], True)

    @property
    def pending(self):
        """True while part of a frame is buffered."""
        return self.header is not None or bool(self.buffer)

    def close(self):
        """The peer closed: an error if it left part of a frame behind."""
        if self.pending:
            what = f"body ({self.filled} of {len(self.body)} bytes)" if self.header is not None \
                else f"header ({len(self.buffer)} bytes)"
            raise IncompleteFrame(f"connection closed in the middle of a frame's {what}")


def recv_exactly(sock, n, deadline=None, allow_eof=False):
    """Exactly n bytes from a blocking socket, looping over short reads.

    A close before the first byte gives b"" if allow_eof, else IncompleteFrame, as does a close after it.
    """
    buffer = bytearray(n)
    view, got = memoryview(buffer), 0
    while got < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise PeerStalled(f"peer sent {got} of {n} bytes before the deadline")
            sock.settimeout(left)
        try:
            count = sock.recv_into(view[got:], n - got)
        except socket.timeout:
            raise PeerStalled(f"peer sent {got} of {n} bytes before the deadline") from None
        if count == 0:
            if got == 0 and allow_eof:
                return b""
            raise IncompleteFrame(f"connection closed after {got} of {n} bytes")
        got += count
    return buffer


def read_frame(sock, max_body=MAX_BODY, max_header=MAX_HEADER, timeout=None):
    """The next frame from a blocking socket, or None if the peer closed cleanly between frames.

    The first byte is awaited as long as the socket's own timeout allows; from there, timeout (seconds)
    bounds the whole frame, so that a peer that trickles bytes (one a second, say) raises PeerStalled
    instead of holding the reader.
    """
    previous = sock.gettimeout()
    try:
        first = recv_exactly(sock, 1, allow_eof=True)
        if not first:
            return None
        deadline = time.monotonic() + timeout if timeout else None
        prefix = first + recv_exactly(sock, PREFIX.size - 1, deadline)
        length = check_header_length(PREFIX.unpack(prefix)[0], max_header)
        header = parse_header(bytes(recv_exactly(sock, length, deadline)), max_body)
        return verified(header, recv_exactly(sock, header["size"], deadline))
    finally:
        sock.settimeout(previous)


def send_frame(sock, body=b"", kind="data", checksum=True, **fields):
    """Send one frame; a large body goes out as it is, not copied behind its header."""
    head = encode_header(body, kind, checksum, **fields)
    if len(body) < LARGE:
        sock.sendall(head + body)
    else:
        sock.sendall(head)
        sock.sendall(body)
