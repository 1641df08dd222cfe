import socket
import struct

import pytest
from hypothesis import given, strategies as st

from nodes.lib import nfqueue


def packet_message(packet_id, extra_attrs=b""):
    hdr = nfqueue.attribute(nfqueue.ATTR_PACKET_HDR, struct.pack("!IHB", packet_id, 0x0800, 3))
    return nfqueue.message(nfqueue.MSG_PACKET, 0, 0, extra_attrs, hdr)


def test_attribute_is_padded_to_four_bytes():
    assert nfqueue.attribute(2, b"abcde") == struct.pack("=HH", 9, 2) + b"abcde\0\0\0"


def test_message_header_counts_its_whole_length():
    msg = nfqueue.message(nfqueue.MSG_CONFIG, 5, 7, nfqueue.attribute(1, b"\1\0\0\0"))
    length, kind, flags = struct.unpack_from("=IHH", msg)
    assert (length, kind, flags) == (len(msg), nfqueue.MSG_CONFIG, 5)
    assert struct.unpack_from("=BBH", msg, 16) == (socket.AF_UNSPEC, 0, socket.htons(7))


@given(st.lists(st.integers(min_value=0, max_value=2**32 - 1), min_size=1, max_size=20),
       st.binary(max_size=13))
def test_packet_ids_survive_batching_and_other_attributes(ids, junk):
    other = nfqueue.attribute(9, junk)
    datagram = b"".join(packet_message(i, other) for i in ids)
    assert [nfqueue.packet_id(p) for _, p in nfqueue.messages(datagram)] == ids


def test_packet_without_header_is_an_error():
    payload = nfqueue.message(nfqueue.MSG_PACKET, 0, 0, nfqueue.attribute(9, b"x"))[16:]
    with pytest.raises(ValueError, match="without a packet header"):
        nfqueue.packet_id(payload)


def test_truncated_length_is_an_error():
    with pytest.raises(ValueError, match="shorter than its header"):
        list(nfqueue.messages(struct.pack("=IHHII", 4, 0, 0, 0, 0)))
