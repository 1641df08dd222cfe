"""The property nodes.lib.framing must hold for any bytes in any chunking, as a plain function.

`check(stream, cuts)`: the Decoder fed `stream` cut at `cuts`, the Decoder fed it whole, and read_frame
over a socket that returns it in those pieces each either hand up only whole, verified frames or raise a
FramingError subclass, and all three agree. Anything else (TypeError, RecursionError, …) is a bug.
The fuzzer (fuzz_framing.py) and the corpus replay (tests/unit/test_framing_corpus.py) both call it.
"""
import hashlib

from nodes.lib import framing

MAX_BODY = 1 << 16  # small, so that the fuzzer spends its time on parsing, not on allocating


class PieceSocket:
    """What read_frame needs of a socket: bytes handed out in the given pieces, then end of stream."""

    def __init__(self, pieces):
        self.pieces = [bytearray(p) for p in pieces if p]

    def recv_into(self, view, n):
        if not self.pieces:
            return 0
        piece = self.pieces[0]
        count = min(n, len(piece), len(view))
        view[:count] = piece[:count]
        del piece[:count]
        if not piece:
            self.pieces.pop(0)
        return count

    def settimeout(self, seconds):
        pass

    def gettimeout(self):
        return None


def pieces(stream, cuts):
    """stream cut into consecutive pieces of the sizes in cuts (repeated), the last one taking the rest."""
    out, at, i = [], 0, 0
    while at < len(stream):
        size = cuts[i % len(cuts)] if cuts else len(stream)
        out.append(stream[at:at + size])
        at, i = at + size, i + 1
    return out


def valid(frame):
    digest = frame.header["sha256"]
    assert len(frame.body) == frame.header["size"], "a frame's body has the size its header announced"
    assert digest is None or hashlib.sha256(frame.body).hexdigest() == digest, "a frame handed up is verified"
    return frame.header, bytes(frame.body)


def decoded(chunks):
    """(frames, error class) from a Decoder fed chunks, then closed."""
    decoder, frames = framing.Decoder(max_body=MAX_BODY), []
    try:
        for chunk in chunks:
            frames += [valid(f) for f in decoder.feed(chunk)]
        decoder.close()
    except framing.FramingError as exc:
        return frames, type(exc)
    return frames, None


def read(chunks):
    """(frames, error class) from read_frame over a socket giving chunks."""
    sock, frames = PieceSocket(chunks), []
    try:
        while (frame := framing.read_frame(sock, max_body=MAX_BODY)) is not None:
            frames.append(valid(frame))
    except framing.FramingError as exc:
        return frames, type(exc)
    return frames, None


def check(stream, cuts):
    chunked, whole, over_socket = decoded(pieces(stream, cuts)), decoded([stream]), read(pieces(stream, cuts))
    assert chunked == whole, "the chunking does not change what is decoded"
    assert over_socket[0] == whole[0] and (over_socket[1] is None) == (whole[1] is None), \
        "read_frame hands up the same frames and fails where the Decoder fails"
