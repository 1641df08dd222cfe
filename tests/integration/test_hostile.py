"""Every node server under a hostile peer: while nodes.hostile (on client2) sends malformed input, stalls,
vanishes and resets, a well-behaved client (on client1) keeps getting exact answers; afterwards the server
is still up, said one whole log line per bad peer and no traceback, and left no zombie."""
import pytest

from nodes.lib import ports

ANY = ["garbage", "binary", "vanish", "reset", "slowloris", "half-close"]
FRAMED = ["oversize", "zero-length", "not-json", "header-list", "nested", "sha256-number", "kind-object",
          "negative-size", "huge-body", "truncated-body", "stall-mid-frame"]
LINES = ["long-line", "bad-utf8", "huge-number", "half-line"]
WAIT = 6  # longer than any server's stall limit below: every bad peer must have been dropped by then


def besieged(lab, server_argv, port, attacks, good, hold=0):
    """Serve server_argv on server; run the attacks from client2 while good(client1, i) runs again and again;
    return (hostile result, good answers, the server's Completed)."""
    server, client, attacker = lab.node("server"), lab.node("client1"), lab.node("client2")
    answers = []
    with server.serve(*server_argv) as process:
        hostile = attacker.start("hostile", "server", port, *attacks, "--hold", hold, "--wait", WAIT)
        hostile.line("holding", timeout=30)
        while hostile.running:
            answers.append(good(client, len(answers)))
        result = hostile.result(300)
        answers.append(good(client, len(answers)))
        assert process.running, "the server is still up"
    done = process.wait(10)
    assert server.leftovers(*server_argv[:1]) == [], "no zombie, nothing left running"
    log = done.stderr.decode(errors="replace")
    assert "Traceback" not in log, log
    return result, answers, log


def assert_every_bad_peer_dropped(result):
    kept = [a for a in result["attacks"] if a["outcome"] == "open"]
    assert kept == [], f"still open after {WAIT} s: {kept}"


def test_execd_serves_through_attacks_and_a_flood_of_unauthenticated_peers(lab):
    def good(client, i):
        done = client.run(["python3", "-m", "nodes.rexec", "server", "--", "echo", f"answer {i}"])
        assert (done.exit_code, done.stdout) == (0, f"answer {i}\n".encode()), done.stderr
        return i
    authed = ["authed-garbage", "authed-oversize", "authed-nested", "authed-sha256-number", "authed-bad-fields",
              "authed-vanish"]
    result, answers, log = besieged(lab, ["execd", "--grace", 2, "--idle", 2, "--timeout", 5], ports.EXECD_FRAMED,
                                    ANY + ["oversize", "nested", "sha256-number"] + authed, good, hold=100)
    assert result["held"] == 100 and len(answers) >= 2
    assert_every_bad_peer_dropped(result)
    bad_fields = next(a for a in result["attacks"] if a["attack"] == "authed-bad-fields")
    assert "error" in bad_fields["reply"], "an error reply; the session then ends only when idle"
    assert all(line.startswith("execd: ") for line in log.splitlines()[1:]), "whole lines, one per event"


def test_framed_receiver_keeps_every_good_frame(lab):
    sent = []

    def good(client, i):
        sent.append(client.program("framed", "send", "server", "--port", ports.FRAMED, "--count", 3, "--max-size",
                                   5000, "--seed", i))
        return i
    attacks = ANY + FRAMED
    server, attacker, client = lab.node("server"), lab.node("client2"), lab.node("client1")
    # the receiver ends once every connection has ended: one per attack and three good ones
    with server.serve("framed", "recv", "--port", ports.FRAMED, "--connections", len(attacks) + 3, "--stall", 2) \
            as receiver:
        hostile = attacker.start("hostile", "server", ports.FRAMED, *attacks, "--wait", WAIT)
        hostile.line("holding", timeout=30)
        good(client, 0)
        result = hostile.result(300)
        good(client, 1), good(client, 2)
        got = receiver.result(60)
    assert_every_bad_peer_dropped(result)
    received = {(f["seq"], f["size"], f["sha256"]) for f in got["frames"]}
    for run in sent:
        assert {(f["seq"], f["size"], f["sha256"]) for f in run["sent"]} <= received, "every good frame, intact"
    errors = [c["error"] for c in got["connections"] if c["error"]]
    assert len(errors) >= len(FRAMED), errors
    assert "Traceback" not in receiver.stderr.decode()


@pytest.mark.parametrize("model", ["iterative", "threads", "fork", "selectors"])
def test_reqserver_models_answer_good_clients_through_attacks(lab, model):
    def good(client, i):
        answer = client.program("reqclient", "server", "--clients", 1, "--request", "io 5", timeout=60)
        assert len(answer["latencies_ms"]) == 1
        return answer
    result, answers, log = besieged(lab, ["reqserver", model, "--idle", 2], ports.REQSERVER, ANY + LINES, good)
    assert_every_bad_peer_dropped(result)
    bad_utf8 = next(a for a in result["attacks"] if a["attack"] == "bad-utf8")
    assert bad_utf8["reply"].startswith("error"), bad_utf8
    assert all(line.startswith("reqserver: ") for line in log.splitlines()[1:]), log


def test_ticket_store_answers_exactly_through_attacks(lab):
    def good(client, i):
        assert client.program("tickets", "status", "server")["count"] == 0
        return i
    result, answers, log = besieged(lab, ["tickets", "serve"], ports.TICKETS, ANY + FRAMED + ["bad-acquire"], good,
                                    hold=20)
    assert_every_bad_peer_dropped(result)
    acquire = next(a for a in result["attacks"] if a["attack"] == "bad-acquire")
    assert "error" in acquire["reply"], acquire


def test_queue_broker_serves_through_attacks(lab):
    def good(client, i):
        produced = client.program("queues", "produce", "server", "--count", 3, "--start", 10 * i)
        assert produced["produced"] == {"start": 10 * i, "count": 3}
        return i
    result, answers, log = besieged(lab, ["queues", "broker", "--maxsize", 10_000, "--grace", 2], ports.QUEUES,
                                    ANY + ["oversize", "huge-body"], good, hold=20)
    assert_every_bad_peer_dropped(result)
    assert log.count("queues: ") >= len(ANY), log
