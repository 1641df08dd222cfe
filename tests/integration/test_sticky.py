"""The sticky scenario on the lab: every lesson must show, or this fails."""
import pytest

from orchestrator import scenarios
from tests.integration.conftest import assert_passed


@pytest.fixture(scope="module")
def sticky(lab):
    return scenarios.run("sticky", lab, {"frames": 25})


def test_every_step_passed(sticky):
    assert_passed(sticky)


def test_tcp_merges_with_and_without_nodelay(sticky):
    for key, nodelay in (("tcp-merge-nagle", False), ("tcp-merge-nodelay", True)):
        facts = sticky.step(key).facts
        assert facts["nodelay"] is nodelay and len(facts["sends"]) == 20
        assert facts["merged_reads"] > 0 and facts["reads"] < 20
        assert sum(facts["recvs"]) == sum(facts["sends"]) == sum(facts["segments"]) == 800
    nagle, nodelay = (sticky.step(key).facts for key in ("tcp-merge-nagle", "tcp-merge-nodelay"))
    assert len(nagle["segments"]) < len(nodelay["segments"]) <= 20, "Nagle merges on the wire, NODELAY less"
    alone = nodelay["first_segments_alone"]
    assert 1 <= alone < 20 and f"first {alone} writes" in sticky.step("tcp-merge-nodelay").why


def test_a_big_message_leaves_a_leftover_for_the_next_read(sticky):
    facts = sticky.step("tcp-leftover").facts
    assert facts["recvs"][0] == 1024 and facts["leftover_in_second_read"] == 1024
    assert [tuple(piece) for piece in facts["pieces"][1]] == [(0, 1024)], "all of message 0"
    assert facts["second_read_head"] == "41" * 8 != facts["message_1_head"], "the bytes read, not only sizes"


def test_udp_keeps_boundaries_truncates_and_loses(sticky):
    assert sticky.step("udp-boundaries").facts["reads"] == [40] * 20
    truncated = sticky.step("udp-truncation").facts
    assert truncated["datagrams"][1]["truncated"] and truncated["datagrams"][1]["length"] == 2048
    assert truncated["datagrams"][1]["received"] == 512 and truncated["datagrams"][2]["received"] == 40
    loss = sticky.step("udp-loss-tcp-intact").facts
    assert 0 < loss["udp"]["lost"] < loss["udp"]["sent"]
    assert loss["tcp"]["intact"] and loss["tcp"]["bytes_received"] == loss["tcp"]["bytes_sent"]
    assert loss["tcp"]["retransmitted_segments"] > 0, "TCP resent what the loss took"
    boundaries = sticky.step("udp-boundaries").facts
    assert sorted(boundaries["arrival_order"]) == list(range(20))


def test_udp_rcvbuf_charges_each_datagram_more_than_its_payload(sticky):
    facts = sticky.step("udp-rcvbuf").facts
    assert 0 < facts["fit"] < facts["sent"] and facts["dropped"] > 0
    # payload accounting would have held every one of them: the buffer counts whole skbs, and Linux doubled it
    assert facts["sent"] * facts["size"] < facts["rcvbuf"] and facts["bytes_per_datagram"] > 4 * facts["size"]
    assert facts["rcvbuf"] == 2 * facts["rcvbuf_set"]


def test_framing_delivers_everything_intact_over_an_impaired_link(sticky):
    facts = sticky.step("framing-fix").facts
    assert facts["frames"] == facts["delivered_intact"] == 25 and facts["errors"] == []
    assert facts["sizes"]["min"] == 0 and facts["sizes"]["max"] == 1 << 20


def test_wire_view_lists_differ_and_the_pcap_is_saved(sticky, tmp_path):
    from orchestrator import report
    result = sticky
    nagle = sticky.step("wire-view").facts["nagle"]
    assert nagle["send_calls"] != nagle["segments"] != nagle["recv_chunks"] != nagle["send_calls"]
    assert len(nagle["segments"]) < len(nagle["send_calls"]), "Nagle held small writes back on a 20 ms link"
    page = report.save_result(result, tmp_path)
    pcap = page.parent / "wire-view.pcap"
    assert sticky.step("wire-view").artifacts["pcap"] == str(pcap) and "pcap" not in sticky.step("wire-view").facts
    assert pcap.read_bytes()[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1")
    frame = sticky.step("frame-dissected").facts["frame"]
    assert frame["ethernet"]["type"] == "0x0800" and frame["ipv4"]["protocol"] == "TCP"
    assert frame["tcp"]["dst_port"] == 9000 and frame["payload"]["bytes"] > 0
    dissected = sticky.step("frame-dissected").facts
    # measured off the frame: the header before IP, and nothing after it (veth carries no FCS)
    assert frame["ethernet"]["header_bytes"] == 14 and frame["ethernet"]["trailer_bytes"] == 0
    assert frame["frame_bytes"] == 14 + frame["ipv4"]["total_length"]
    assert frame["tcp"]["header_bytes"] == 20 + dissected["option_bytes"]
    assert dissected["window_bytes"] == frame["tcp"]["window"] << dissected["window_scale"]


def test_unix_sockets_follow_their_type(sticky):
    facts = sticky.step("unix-sockets").facts
    assert facts["stream"]["merged_reads"] > 0 and facts["dgram"]["reads"] == [40] * 20
    # never lost nor reordered; 20 datagrams into a queue of fewer: the sender waited for the late reader
    assert facts["dgram"]["arrival_order"] == list(range(20))
    assert facts["dgram"]["max_dgram_qlen"] < 20 and facts["dgram"]["longest_send_ms"] >= 100
