"""The handshake lesson on the lab: client1 -> server across the bridge, captured on the server's interface;
every phenomenon must show in the facts, or this fails."""
import pytest

from nodes.lib import ports
from orchestrator import pictures, scenarios
from orchestrator.pictures.handshake import DRAW
from orchestrator.scenarios import handshake as lesson
from tests.integration.conftest import assert_passed

KEYS = ["three-way-handshake", "four-way-close", "half-close", "backlog-full", "struct-range", "nothing-left"]


@pytest.fixture(scope="module")
def steps(lab):
    """{step key: Step} of one run of the lesson with its defaults, every step passed."""
    result = assert_passed(scenarios.run("handshake", lab))
    assert [step.key for step in result.steps] == KEYS
    assert result.duration_s < 60, "the lesson must stay short"
    return {step.key: step for step in result.steps}


@pytest.fixture(scope="module")
def facts(steps):
    return {key: step.facts for key, step in steps.items()}


def test_the_handshake_crossed_the_bridge_between_two_nodes(facts, lab):
    seen = facts["three-way-handshake"]
    assert seen["client"].split(":")[0] == lab.node("client1").ip
    assert seen["server"] == f"{lab.node('server').ip}:{ports.HANDSHAKE}"
    segments = seen["segments"]
    assert [(s["from"], s["flags"]) for s in segments] == [("client", ["SYN"]), ("server", ["SYN", "ACK"]),
                                                           ("client", ["ACK"])]
    assert (segments[1]["ack"], segments[2]["seq"], segments[2]["ack"]) == (1, 1, 1)
    assert {"MSS", "window scale"} <= set(segments[0]["options"]) and seen["connect_s"] < 0.5


def test_the_client_sent_the_first_fin_and_alone_waits_in_time_wait(facts):
    closed = facts["four-way-close"]
    first, acked, fin, last = lesson.closing(closed["segments"])
    assert (first["from"], acked["from"], fin["from"], last["from"]) == ("client", "server", "server", "client")
    assert closed["segments"].index(acked) < closed["segments"].index(fin), "the server's ACK and FIN apart"
    assert closed["client_state"] == "TIME-WAIT" and closed["client_ss"].startswith("TIME-WAIT")
    assert closed["server_state"] == "gone" and closed["server_ss"] == ""


def test_the_server_replied_after_the_clients_fin_and_the_client_still_received(facts):
    half = facts["half-close"]
    assert half["received"] == half["sent"] and half["reply_after_shutdown"] == half["replied"] != ""
    fin = next(s for s in half["segments"] if "FIN" in s["flags"])
    reply = [s for s in half["segments"] if s["from"] == "server" and s["bytes"]]
    assert fin["from"] == "client" and reply and all(s["ms"] > fin["ms"] for s in reply)
    assert half["replied_after_eof_s"] >= lesson.PARAMS["reply_delay_ms"][0] / 1000


def test_a_full_accept_queue_dropped_the_late_syns_until_it_had_room(facts):
    backlog = facts["backlog-full"]
    short, later = backlog["runs"]
    for run in (short, later):
        assert (run["ss_lnt"]["recv_q"], run["ss_lnt"]["send_q"], run["accept_queue"]) == (3, 2, 3)
        assert run["half_open"] == 0, "the SYNs were dropped before they took a place in the SYN queue"
        assert all(q["seconds"] < lesson.AT_ONCE_S for q in run["queued"])
        assert all(late["syn_s"][1] >= lesson.FIRST_RESEND_S and late["syn_ack_s"] >= late["syn_s"][-1]
                   for late in run["late"])
        assert run["dropped"]["listen_overflows"] >= len(run["late"])
        assert run["sysctls"]["tcp_abort_on_overflow"] == 0 and run["sysctls"]["somaxconn"] >= 2
    assert all(lesson.FIRST_RESEND_S <= late["seconds"] < lesson.LATER_RESEND_S for late in short["late"])
    assert all(late["seconds"] >= lesson.LATER_RESEND_S for late in later["late"])
    linear = later["sysctls"]["tcp_syn_linear_timeouts"]
    resent = [0, 1, 2, 3] if linear and linear >= 2 else [0, 1, 3]  # 1 s apart, or each wait doubled
    assert all(late["syn_s"] == pytest.approx(resent, abs=0.3) for late in later["late"])


def test_struct_range_in_the_nodes_python(facts):
    measured = facts["struct-range"]
    assert measured["formats"]["i"]["one_more"] == \
        "struct.error: 'i' format requires -2147483648 <= number <= 2147483647"
    assert measured["file"]["packed"]["!I"].startswith("struct.error")
    assert measured["file"]["json_read_back"] == measured["file"]["bytes"] == 5 << 30


def test_every_picture_draws_from_the_labs_facts(steps):
    for key in DRAW:
        picture = pictures.for_step("handshake", steps[key])
        assert "<svg" in picture.data and picture.alt, key


def test_nothing_left(facts):
    assert facts["nothing-left"]["left"] == {}
