"""The framing library: round trips over any chunking, and a specific error for each kind of bad input."""
import hashlib
import json
import socket
import struct
import threading
import time

import pytest
from hypothesis import given, settings, strategies as st

from nodes.lib import framing
from nodes.framed import Receiver, sizes

bodies = st.lists(st.binary(max_size=3000), min_size=0, max_size=8)


def chunked(data, cuts):
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in zip(points, points[1:])]


def test_frame_layout_is_prefix_header_body():
    frame = framing.encode(b"hello", kind="greeting", seq=3)
    (length,) = struct.unpack("!I", frame[:4])
    header = json.loads(frame[4:4 + length])
    assert header == {"size": 5, "sha256": hashlib.sha256(b"hello").hexdigest(), "kind": "greeting", "seq": 3}
    assert frame[4 + length:] == b"hello"


@given(bodies, st.lists(st.integers(min_value=0), max_size=40))
def test_decoder_round_trips_over_any_chunking(messages, cuts):
    stream = b"".join(framing.encode(m, seq=i) for i, m in enumerate(messages))
    decoder = framing.Decoder()
    frames = [f for chunk in chunked(stream, cuts) for f in decoder.feed(chunk)]
    assert [f.body for f in frames] == messages and [f.header["seq"] for f in frames] == list(range(len(messages)))
    decoder.close()


@settings(max_examples=30, deadline=None)
@given(bodies, st.lists(st.integers(min_value=0), max_size=20))
def test_read_frame_round_trips_over_a_socket_in_any_chunking(messages, cuts):
    stream = b"".join(framing.encode(m) for m in messages)
    a, b = socket.socketpair()
    def write():
        for chunk in chunked(stream, cuts):
            a.sendall(chunk)
        a.close()
    writer = threading.Thread(target=write)
    writer.start()
    got = []
    while (frame := framing.read_frame(b, timeout=5)) is not None:
        got.append(frame.body)
    writer.join()
    b.close()
    assert got == messages


@given(st.binary(min_size=1, max_size=200), st.integers(min_value=1))
def test_nothing_partial_is_handed_up(body, cut):
    frame = framing.encode(body)
    cut = cut % len(frame)  # any strict prefix of the frame
    decoder = framing.Decoder()
    assert decoder.feed(frame[:cut]) == []
    if cut:
        with pytest.raises(framing.IncompleteFrame):
            decoder.close()


def header_frame(header, body=b""):
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("!I", len(raw)) + raw + body


@pytest.mark.parametrize("data, error, message", [
    (struct.pack("!I", framing.MAX_HEADER + 1), framing.FrameTooLarge, "header of 65537 bytes exceeds"),
    (struct.pack("!I", 0), framing.BadHeader, "header length is 0"),
    (header_frame(b"\xffnot json"), framing.BadHeader, "not JSON"),
    (header_frame([1, 2]), framing.BadHeader, "lacks size, sha256, kind"),
    (header_frame({"size": 1, "kind": "x"}), framing.BadHeader, "lacks sha256"),
    (header_frame({"size": -1, "sha256": "", "kind": "x"}), framing.BadHeader, "not a byte count"),
    (header_frame({"size": "7", "sha256": "", "kind": "x"}), framing.BadHeader, "not a byte count"),
    (header_frame({"size": 1 << 40, "sha256": "", "kind": "x"}), framing.FrameTooLarge, "exceeds the maximum"),
    (header_frame({"size": 2, "sha256": hashlib.sha256(b"ok").hexdigest(), "kind": "x"}, b"no"),
     framing.ChecksumMismatch, "does not match"),
    (header_frame({"size": 2, "sha256": 5, "kind": "x"}, b"no"), framing.BadHeader, "sha256 is not null"),
    (header_frame({"size": 0, "sha256": ["a"], "kind": "x"}), framing.BadHeader, "sha256 is not null"),
    (header_frame({"size": 0, "sha256": "abc", "kind": "x"}), framing.BadHeader, "sha256 is not null"),
    (header_frame({"size": 0, "sha256": None, "kind": {}}), framing.BadHeader, "kind is not text"),
    (struct.pack("!I", 20000) + b"[" * 20000, framing.BadHeader, "nested too deeply"),
])
def test_bad_input_raises_a_specific_error(data, error, message):
    with pytest.raises(error, match=message):
        framing.Decoder().feed(data)
    a, b = socket.socketpair()
    a.sendall(data)
    a.close()
    with pytest.raises(error, match=message):
        framing.read_frame(b, timeout=2)
    b.close()


def test_an_oversize_length_is_refused_before_its_body_arrives():
    decoder = framing.Decoder(max_body=1000)
    with pytest.raises(framing.FrameTooLarge):
        decoder.feed(header_frame({"size": 1001, "sha256": "", "kind": "x"}))  # no body bytes sent at all


@pytest.mark.parametrize("cut, what", [(2, "after 1 of 3 bytes"), (10, "after"), (-3, "after")])
def test_connection_closed_mid_frame(cut, what):
    a, b = socket.socketpair()
    a.sendall(framing.encode(b"0123456789")[:cut])
    a.close()
    with pytest.raises(framing.IncompleteFrame, match=what):
        framing.read_frame(b, timeout=2)
    b.close()


def test_clean_close_between_frames_is_not_an_error():
    a, b = socket.socketpair()
    a.sendall(framing.encode(b"x"))
    a.close()
    assert framing.read_frame(b).body == b"x" and framing.read_frame(b) is None


def test_a_peer_sending_one_byte_a_second_is_a_stalled_peer():
    a, b = socket.socketpair()
    frame = framing.encode(b"slow")
    def trickle():
        for i in range(len(frame)):
            try:
                a.send(frame[i:i + 1])
            except OSError:
                return
            time.sleep(0.1)
    threading.Thread(target=trickle, daemon=True).start()
    started = time.monotonic()
    with pytest.raises(framing.PeerStalled, match="before the deadline"):
        framing.read_frame(b, timeout=0.35)
    assert time.monotonic() - started < 1.5
    a.close()
    b.close()


def test_receiver_keeps_serving_good_connections_beside_bad_ones():
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    receiver = Receiver(listener, connections=5, stall=0.5)
    outcome = []
    serving = threading.Thread(target=lambda: outcome.append(receiver.serve()))
    serving.start()
    garbage = socket.create_connection(("127.0.0.1", port))
    garbage.sendall(b"GET / HTTP/1.0\r\n\r\n")
    oversize = socket.create_connection(("127.0.0.1", port))
    oversize.sendall(struct.pack("!I", 1 << 30))
    silent = socket.create_connection(("127.0.0.1", port))  # half-open: never sends, never closes
    halfway = socket.create_connection(("127.0.0.1", port))
    halfway.sendall(framing.encode(b"abcdef")[:-2])
    halfway.close()
    good = socket.create_connection(("127.0.0.1", port))
    for i in range(20):
        good.sendall(framing.encode(bytes([i]) * i, seq=i))
    good.close()
    serving.join(timeout=10)
    listener.close()
    garbage.close(), oversize.close(), silent.close()
    result = outcome[0]
    errors = sorted(c["error"].split(":")[0] for c in result["connections"] if c["error"])
    assert errors == ["FrameTooLarge", "FrameTooLarge", "IncompleteFrame", "PeerStalled"]
    assert [f["seq"] for f in result["frames"]] == list(range(20))


def test_sizes_cover_the_edges_and_are_reproducible():
    drawn = sizes(50, 1 << 20, seed=7)
    assert drawn[:3] == [0, 1, 1 << 20] and len(drawn) == 50 and all(0 <= s <= 1 << 20 for s in drawn)
    assert drawn == sizes(50, 1 << 20, seed=7) and drawn != sizes(50, 1 << 20, seed=8)


def test_recv_from_reads_large_bodies_in_place_and_round_trips():
    bodies = [b"", b"x" * 10, bytes(range(256)) * 256, b"y" * ((1 << 20) + 3)]
    a, b = socket.socketpair()
    writer = threading.Thread(target=lambda: ([framing.send_frame(a, body, seq=i) for i, body in enumerate(bodies)],
                                              a.close()))
    writer.start()
    decoder, got, closed = framing.Decoder(), [], False
    while not closed:
        frames, closed = decoder.recv_from(b)
        got += frames
    writer.join()
    decoder.close()
    assert [bytes(f.body) for f in got] == bodies and [f.header["seq"] for f in got] == [0, 1, 2, 3]


def test_recv_from_reports_a_close_mid_body():
    a, b = socket.socketpair()
    a.sendall(framing.encode(b"z" * 200_000)[:100_000])
    a.close()
    decoder, closed = framing.Decoder(), False
    while not closed:
        _, closed = decoder.recv_from(b)
    with pytest.raises(framing.IncompleteFrame, match="body"):
        decoder.close()
