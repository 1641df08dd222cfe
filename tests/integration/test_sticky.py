"""The sticky scenario on the lab: every lesson must show, or this fails."""
import pytest

from orchestrator import scenarios


@pytest.fixture(scope="module")
def sticky(lab):
    result = scenarios.run("sticky", lab, ["frames=25"])
    return result, {step.name.split(":")[0]: step for step in result.steps}


def test_every_step_passed(sticky):
    result, _ = sticky
    assert result.passed, [(s.name, s.observed) for s in result.steps if not s.passed]


def test_tcp_merges_with_and_without_nodelay(sticky):
    _, steps = sticky
    for name, nodelay in (("1 TCP merge, Nagle on", False), ("1 TCP merge, TCP_NODELAY", True)):
        facts = steps[name].facts
        assert facts["nodelay"] is nodelay and len(facts["sends"]) == 20
        assert facts["merged_reads"] > 0 and facts["reads"] < 20
        assert sum(facts["recvs"]) == sum(facts["sends"]) == 800


def test_a_big_message_leaves_a_leftover_for_the_next_read(sticky):
    _, steps = sticky
    facts = steps["2 TCP leftover"].facts
    assert facts["recvs"][0] == 1024 and facts["leftover_in_second_read"] == 1024
    assert [tuple(piece) for piece in facts["pieces"][1]] == [(0, 1024)], "all of message 0"


def test_udp_keeps_boundaries_truncates_and_loses(sticky):
    _, steps = sticky
    assert steps["3 UDP keeps boundaries"].facts["reads"] == [40] * 20
    truncated = steps["3 UDP truncates a datagram larger than the buffer"].facts
    assert truncated["datagrams"][1]["truncated"] and truncated["datagrams"][1]["length"] == 2048
    assert truncated["datagrams"][1]["received"] == 512 and truncated["datagrams"][2]["index"] == 2
    loss = steps["3 20% loss"].facts
    assert 0 < loss["udp"]["lost"] < loss["udp"]["sent"]
    assert loss["tcp"]["intact"] and loss["tcp"]["bytes_received"] == loss["tcp"]["bytes_sent"]


def test_framing_delivers_everything_intact_over_an_impaired_link(sticky):
    _, steps = sticky
    facts = steps["4 the fix"].facts
    assert facts["frames"] == facts["delivered_intact"] == 25 and facts["errors"] == []
    assert facts["sizes"]["min"] == 0 and facts["sizes"]["max"] == 1 << 20


def test_wire_view_lists_differ_and_the_pcap_is_saved(sticky, tmp_path):
    from orchestrator import report
    result, steps = sticky
    nagle = steps["5 wire view"].facts["nagle"]
    assert nagle["send_calls"] != nagle["segments"] != nagle["recv_chunks"] != nagle["send_calls"]
    assert len(nagle["segments"]) < len(nagle["send_calls"]), "Nagle held small writes back on a 20 ms link"
    path = report.save_result(result, tmp_path)
    pcap = tmp_path / path.with_suffix(".pcap").name
    assert pcap.read_bytes()[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1")
    frame = steps["5 one frame, layer by layer (AF_PACKET raw socket)"].facts["frame"]
    assert frame["ethernet"]["type"] == "0x0800" and frame["ipv4"]["protocol"] == "TCP"
    assert frame["tcp"]["dst_port"] == 9000 and frame["payload"]["bytes"] > 0


def test_unix_sockets_follow_their_type(sticky):
    _, steps = sticky
    facts = steps["6 AF_UNIX"].facts
    assert facts["stream"]["merged_reads"] > 0 and facts["dgram"]["reads"] == [40] * 20
