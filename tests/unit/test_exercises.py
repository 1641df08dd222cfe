"""The exercises without a lab: the learner's file checked on the host, the CLI's one-line errors, each
grader's diagnosis from a checker's outcome, the checkers' classification of replies, Gradescope's format."""
import io
import socket
import struct
import tarfile

import docker
import pytest

from nodes.checkers import framing as framing_checker
from nodes.checkers import remote_shell as shell_checker
from nodes.lib.wire import Reader
from nodes.lib.layout import SANDBOX_UID
from orchestrator import exercises, gradescope
from orchestrator.errors import BadParameter, BadProgram
from orchestrator.exercises import (_procs, _source, concurrent_server, daemon, framing, producer_consumer,
                                    reliable_consumer, remote_shell, thread_pool_server, tickets, udp_pinger)
from orchestrator.learner import LearnerProgram
from orchestrator.result import Result, Step
from tests.unit.conftest import assert_one_line_error, run_cli


def test_the_eleven_exercises_and_their_roles():
    found = {name: module.ROLE for name, module in exercises.available().items()}
    assert found == {"framing": "server", "remote-shell": "server", "udp-pinger": "client",
                     "concurrent-server": "server", "thread-pool-server": "server", "file-transfer": "server",
                     "event-loop": "server", "tickets": "program", "producer-consumer": "program",
                     "daemon": "program", "reliable-consumer": "consumer"}
    for name in found:
        folder = exercises.HOME / name
        assert {"README.md", "starter.py", "reference.py"} <= {p.name for p in folder.iterdir()}
        LearnerProgram(folder / "starter.py")  # every file shipped parses


@pytest.mark.parametrize("content,reason", [(None, "no such file"), ("def f(:\n", "not Python that parses"),
                                            (b"\x00print(1)", "null bytes")])
def test_a_file_that_cannot_be_checked_is_one_line(tmp_path, content, reason):
    path = tmp_path / "mine.py"
    if content is not None:
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    with pytest.raises(BadProgram, match=reason):
        LearnerProgram(path)
    with pytest.raises(BadProgram, match="not a file"):
        LearnerProgram(tmp_path)


def test_the_file_must_come_under_the_exercises_role(tmp_path):
    path = tmp_path / "ok.py"
    path.write_text("print(1)\n")
    with pytest.raises(BadParameter, match="--server FILE"):
        exercises.program(exercises.get("framing"), {"client": path, "server": None})
    assert exercises.program(exercises.get("framing"), {"server": path}).path == path


def test_cli_check_errors_fail_before_any_lab(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(docker, "from_env", lambda **kw: pytest.fail("no lab for a bad check"))
    code, _, err = run_cli(capsys, "check", "framing", "--server", str(tmp_path / "nope.py"))
    assert_one_line_error(code, err, "no such file")
    code, _, err = run_cli(capsys, "check", "nope", "--server", "x.py")
    assert_one_line_error(code, err, "unknown exercise 'nope'")
    code, out, _ = run_cli(capsys, "check", "--list")
    assert code == 0 and "udp-pinger" in out and "--client" in out


def test_install_gives_the_sandbox_user_its_directory(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text("print('hi')\n")

    class Container:
        def put_archive(self, where, data):
            self.where, self.data = where, data

    class Node:
        container = Container()
    directory = LearnerProgram(path).install(Node(), extra={"db.json": b"{}"})
    with tarfile.open(fileobj=io.BytesIO(Node.container.data)) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert set(members) == {directory[1:], f"{directory[1:]}/mine.py", f"{directory[1:]}/db.json"}
    assert all(m.uid == SANDBOX_UID for m in members.values()) and members[directory[1:]].isdir()


# The framing checker's verdicts, over a real socket pair
def verdict(reply, message):
    a, b = socket.socketpair()
    with a, b:
        a.sendall(reply)
        return framing_checker.expect_echo(Reader(b), message)


@pytest.mark.parametrize("reply,want", [
    (struct.pack("!I", 5) + b"hello", "ok"),
    (struct.pack("<I", 5) + b"hello", "swapped"),
    (struct.pack("!I", 3) + b"hel", "short"),
    (struct.pack("!I", 9) + b"hello" + b"more", "merged"),
    (struct.pack("!I", 5) + b"jello", "mismatch"),
])
def test_framing_checker_classifies_each_echo(reply, want):
    assert verdict(reply, b"hello")["verdict"] == want


def test_framing_checker_says_short_when_the_body_stops(monkeypatch):
    monkeypatch.setattr(framing_checker, "REPLY_S", 0.2)
    got = verdict(struct.pack("!I", 5) + b"he", b"hello")
    assert got["verdict"] == "short" and got["received"] == 2


def outcome(verdict, index=0, **facts):
    return {"messages": 2, "echoed": index, "failure": {"index": index, "verdict": verdict, **facts}}


def test_framing_hints_name_the_lesson():
    cases = {case: {"failure": None} for case in framing.CASES}
    cases["empty-then-small"] = outcome("no-reply", index=1)
    cases["batched"] = outcome("no-reply", index=1)  # the first of five answered: not byte order
    assert not framing.native_order(cases)
    assert "one recv() is not one message" in framing.hint("batched", cases["batched"]["failure"])
    assert "one recv() is not one message" in framing.hint("empty-then-small", cases["empty-then-small"]["failure"])
    cases["batched"] = outcome("no-reply", index=0)  # not even the first: its length read as 83,886,080
    assert framing.native_order(cases)
    assert "byte order" in framing.hint("sizes", {"verdict": "no-reply", "index": 0}, native=True)
    assert "missing loop" in framing.hint("sizes", {"verdict": "short", "index": 1})
    assert "recv(4)" in framing.hint("paused-prefix", {"verdict": "closed", "index": 0})
    assert "One client at a time" in framing.hint("five-clients", {"verdict": "no-reply", "index": 0})
    step = framing.case_step("batched", outcome("merged", sent=20, header=44), native=False)
    assert not step.passed and "one recv() is not one message" in step.hint and "said 44 B" in step.observed


def test_remote_shell_sees_the_previous_reply_in_a_bad_header():
    bad = {"verdict": "bad-header", "got": "包\n\x00\x00".encode().hex()}
    assert shell_checker.leftover(bad, "粘包\n".encode()) == 4
    assert shell_checker.leftover(bad, b"other\n") == 0
    assert "粘包 in the replies" in remote_shell.hint("unicode-then-next", {**bad, "previous_output_bytes": 4})
    wrong_exit = {"verdict": "wrong", "stdout_ok": True, "stderr_ok": True, "exit_ok": False}
    assert "exit status was lost" in remote_shell.hint("stderr-first", wrong_exit)
    assert "deadlock" in remote_shell.hint("stderr-first", {"verdict": "no-reply"})
    wrong_output = {"verdict": "wrong", "stdout_ok": False, "stderr_ok": True, "exit_ok": True}
    assert "exit status was lost" in remote_shell.hint("exit-status", wrong_output)  # a case without a hint of its own


def pings(*rtts):
    return "\n".join(f"seq {n}: {'timeout' if r is None else f'{r:.2f} ms'}" for n, r in enumerate(rtts, 1))


def test_udp_pinger_is_held_to_the_servers_record():
    record = [{"fate": "echoed", "delay_ms": 20.0}, {"fate": "dropped", "delay_ms": 30.0},
              {"fate": "late", "delay_ms": 1300.0}, {"fate": "echoed", "delay_ms": 40.0}]
    lines, _ = udp_pinger.parse(pings(21.0, None, None, 41.0))
    assert udp_pinger.timeouts_step(lines, record).passed and udp_pinger.rtts_step(lines, record).passed
    stale, _ = udp_pinger.parse(pings(21.0, None, None, 0.3))  # the late echo taken for ping 4's
    assert "late" in udp_pinger.rtts_step(stale, record).hint
    counted, _ = udp_pinger.parse(pings(21.0, None, 300.0, 41.0))
    assert not udp_pinger.timeouts_step(counted, record).passed


def test_udp_pinger_summary_within_rounding(monkeypatch):
    monkeypatch.setattr(udp_pinger, "COUNT", 4)
    text = pings(10.0, None, 20.0, 30.0)
    lines, summary = udp_pinger.parse(text + "\n4 sent, 3 received, 25% loss, rtt min/avg/max = 10.00/20.00/30.00 ms")
    assert udp_pinger.summary_step(lines, summary).passed
    lines, summary = udp_pinger.parse(text + "\n4 sent, 3 received, 33% loss, rtt min/avg/max = 10.00/20.00/30.00 ms")
    assert "(sent − received) / sent" in udp_pinger.summary_step(lines, summary).hint


def test_concurrent_server_crowd_is_held_to_one_client_alone():
    client = {"right": 50, "lines": 50, "failure": None, "seconds": 1.0}
    crowd = {"clients": [client] * 8, "seconds": 1.2, "alone_seconds": 1.0}
    assert concurrent_server.crowd_step(crowd).passed
    slow = concurrent_server.crowd_step({**crowd, "seconds": 1.6})
    assert not slow.passed and "One client at a time" in slow.hint


def served(start, first, done, failure=None):
    return {"right": 20, "lines": 20, "failure": failure, "seconds": done - start, "span": [start, first, done]}


def test_thread_pool_crowd_counts_the_clients_served_at_once():
    rounds = [served(0, 1 + r, 2 + r) for r in range(3) for _ in range(4)]  # 4 at a time, back to back
    crowd = {"clients": rounds, "seconds": 3.1, "alone_seconds": 1.0}
    step = thread_pool_server.crowd_step(crowd)
    assert step.passed and step.facts["served_at_once"] == 4 and step.hint == ""
    serial = [served(0, 1 + n, 2 + n) for n in range(4)] + [served(0, None, 5, {"verdict": "no-reply", "line": 0})] * 8
    step = thread_pool_server.crowd_step({"clients": serial, "seconds": 5.0, "alone_seconds": 1.0})
    assert not step.passed and step.facts["served_at_once"] == 1 and "One client at a time" in step.hint
    two = [served(0, 1 + r, 2 + r) for r in range(6) for _ in range(2)]
    step = thread_pool_server.crowd_step({"clients": two, "seconds": 6.1, "alone_seconds": 1.0})
    assert not step.passed and "Fewer clients" in step.hint
    missing = thread_pool_server.crowd_step({**crowd, "clients": rounds[:11] + [None]})
    assert not missing.passed, "a client that never reported was not answered"


def test_thread_pool_crowd_hints_follow_what_was_seen():
    four = [served(0, 1 + r, 2 + r) for r in range(3) for _ in range(4)]
    slow = thread_pool_server.crowd_step({"clients": four, "seconds": 4.5, "alone_seconds": 1.0})
    assert not slow.passed and "served 4 at a time, yet took longer" in slow.hint, "the pool was fine; time was not"
    closed = four[:11] + [served(0, 1, 1.5, {"verdict": "closed", "line": 3})]
    step = thread_pool_server.crowd_step({"clients": closed, "seconds": 3.1, "alone_seconds": 1.0})
    assert not step.passed and "closed the connection" in step.hint


def test_thread_pool_threads_are_judged_over_the_whole_check_and_within_the_crowd():
    timing = {"alone": [[0.2, 1], [4, 5]], "crowd": [[1, 4]], "vanished-workers": [[5, 7]]}
    pool = {"usage": [[0.0, 1, 9000, 0.1], [0.5, 5, 9500, 0.1], [6.0, 5, 9500, 0.2]]}
    step = thread_pool_server.threads_step(pool, timing, crowd_served=True)
    assert step.passed and step.facts["max_threads_in_crowd"] == 5, "the count in force when the crowd began"
    assert not thread_pool_server.threads_step(pool, timing, crowd_served=False).passed, "nobody served, no pool"
    grown = {"usage": [[0.0, 1, 9000, 0.1], [0.5, 2, 9000, 0.1], [1.2, 13, 9900, 0.2], [3.9, 2, 9000, 0.3]]}
    step = thread_pool_server.threads_step(grown, timing, crowd_served=True)
    assert not step.passed and step.facts["max_threads_in_crowd"] == 13 and "a thread per connection" in step.hint
    library = {"usage": [[0.0, 8, 9000, 0.1], [6.0, 8, 9500, 0.2]]}  # multiprocessing.pool.ThreadPool(4)
    step = thread_pool_server.threads_step(library, timing, crowd_served=True)
    assert not step.passed and step.facts["threads_before_clients"] == 8 and "before any client" in step.hint
    assert not thread_pool_server.threads_step({"usage": []}, timing, True).passed, "no sample is no evidence"


def test_thread_pool_later_clients_must_be_served_by_every_worker():
    vanish = {"vanished": 6, "half_line": "half a li", "seconds": 5.0,
              "later": [served(0, None, 5, {"verdict": "no-reply", "line": 0})] * 4}
    step = thread_pool_server.vanish_step(vanish)
    assert not step.passed and "each worker died with its client" in step.hint
    assert thread_pool_server.vanish_step({**vanish, "later": [served(0, 1, 2)] * 4}).passed
    one_left = [served(0, 1 + n, 2 + n) for n in range(4)]  # one worker survived: served one after another
    assert not thread_pool_server.vanish_step({**vanish, "later": one_left}).passed
    assert not thread_pool_server.vanish_step({**vanish, "vanished": 0, "later": [served(0, 1, 2)] * 4}).passed


# Gradescope's documented results.json: top-level and per-test keys, with their types
TOP = {"score": float, "execution_time": int, "output": str, "visibility": str, "tests": list}
TEST = {"name": str, "number": str, "score": float, "max_score": float, "status": str, "output": str,
        "visibility": str}
VISIBILITY = {"visible", "hidden", "after_due_date", "after_published"}


def test_gradescope_results_follow_the_documented_format():
    steps = [Step("a", "1 a", True, "e", "o", "w"), Step("b", "2 b", False, "e", "o", "w", hint="loop")]
    results = gradescope.results(Result("framing", {}, steps, duration_s=3.4))
    assert set(results) <= set(TOP) and all(isinstance(results[k], t) for k, t in TOP.items())
    for test in results["tests"]:
        assert set(test) <= set(TEST) and all(isinstance(test[k], t) for k, t in TEST.items())
        assert test["visibility"] in VISIBILITY and test["status"] in ("passed", "failed")
    assert results["score"] == sum(t["score"] for t in results["tests"]) == 1.0
    assert "hint: loop" in results["tests"][1]["output"]


# The process exercises: the sandbox's watch read back, and each diagnosis from an outcome
WATCH = [[0.0, [[10, 1, "S", "python3 main.py"]]],
         [0.1, [[10, 1, "S", "python3 main.py"], [11, 10, "S", "python3 main.py"], [12, 10, "S", "python3 main.py"]]],
         [0.5, [[10, 1, "S", "python3 main.py"], [11, 10, "Z", ""], [12, 10, "S", "python3 main.py"]]],
         [1.6, [[10, 1, "S", "python3 main.py"], [11, 10, "Z", ""], [13, 12, "S", "python3 main.py"]]],
         [1.8, []]]


def test_the_watch_tells_parent_strangers_zombies_and_the_end():
    assert _procs.root(WATCH) == 10
    assert _procs.strangers(WATCH, 10) == {13: [12, "python3 main.py"]}
    assert _procs.lasting_zombies(WATCH) == {11: 1.1}
    assert _procs.gone_at(WATCH, 1.0) == 1.8 and _procs.alive_until(WATCH, 12) == 0.5
    assert _procs.first_line([[0.2, "tick"], [1.1, "done"], [1.2, "main: end"]], "main: end") == 1.2


def test_the_source_tells_whether_a_lock_is_taken():
    assert _source.uses_a_lock("import multiprocessing as mp\nlock = mp.Lock()\n")
    assert _source.uses_a_lock("from multiprocessing import RLock\nl = RLock()\n")
    assert not _source.uses_a_lock("import json\nprint(json.dumps({}))\n")


def record(stdout="", **fields):
    return {"stdout": stdout, "stderr": "", "exit_code": 0, "signal": None, "timed_out": False, "flooded": False,
            "stopped": False, "seconds": 1.2, "outlived": 0, **fields}


def test_tickets_diagnoses_oversold_unlocked_hung_and_right():
    lines = lambda bought: "\n".join(f"buyer {k}: {'bought' if k <= bought else 'sold out'}" for k in range(1, 11))
    right = tickets.outcome(record(lines(1)), 0)
    assert tickets.diagnosis(right, locked=True) == ""
    oversold = tickets.outcome(record(lines(10)), 0)
    assert "No lock" in tickets.diagnosis(oversold, locked=False)
    assert "does not cover the buy" in tickets.diagnosis(oversold, locked=True)
    assert "10 tickets sold for 1" in tickets.run_step("run-1", "1", oversold, False, "exited").observed
    hung = tickets.outcome(record("buyer 1: bought", timed_out=True, exit_code=None, signal=9), 0)
    assert "never released" in tickets.diagnosis(hung, locked=True)


def test_producer_consumer_counts_from_zero_or_one():
    got = [(p, i) for p in range(3) for i in range(30)]
    assert producer_consumer.expected_items(got) == set(got)
    assert len(producer_consumer.expected_items([(1, 1)])) == 90


def test_reliable_consumer_reads_only_done_lines():
    assert reliable_consumer.done_items("done 1\ndone 22\nworking on 3\ndone x\n") == [1, 22]


def test_every_exercise_names_its_role_in_the_cli(capsys):
    code, out, _ = run_cli(capsys, "check", "--list")
    for module in (daemon, producer_consumer, reliable_consumer, tickets):
        assert module.NAME in out and f"--{module.ROLE}" in out


def test_lines_that_share_a_line_still_count():
    interleaved = record("consumed 1-1consumed 2-1\n\nconsumed 1-2\n", watch=[], lines=[])
    assert producer_consumer.judged(interleaved)["facts"]["consumed"] == 3
    assert reliable_consumer.done_items("done 5done 6\n\ndone 7\n") == [5, 6, 7]
    assert tickets.outcome(record("buyer 1: boughtbuyer 2: sold out\n\n"), 0)["buyers"] == [1, 2]


def test_a_server_that_died_at_once_is_judged_not_divided_by_zero():
    failed = {"right": 0, "lines": 50, "failure": {"line": 0, "verdict": "refused"}, "seconds": 0.0}
    step = concurrent_server.crowd_step({"clients": [failed] * 8, "seconds": 0.0, "alone_seconds": 0.0})
    assert not step.passed and step.facts["ratio"] is None


def test_a_later_step_blames_the_ending_not_its_own_case():
    """A server that died of BrokenPipeError during five-clients: mid-frame-close failed after it, so its
    hint says the server had already ended, quoting the error, and guesses no cause of its own."""
    from orchestrator.exercises import _steps
    from orchestrator.result import Step
    steps = [Step("starts", "the server starts", True, "", "", ""), Step("batched", "batched", True, "", "", ""),
             Step("five-clients", "five clients at once", False, "", "", "", hint="One client at a time"),
             Step("mid-frame-close", "a client vanishes", False, "", "", "", hint="A client that closes mid-message")]
    timing = {"batched": [[10.0, 11.0]], "five-clients": [[11.0, 14.0]], "mid-frame-close": [[14.0, 15.0]]}
    record = {"ended_at": 12.5, "timed_out": False, "flooded": False, "stopped": False, "signal": None,
              "exit_code": 1, "stderr": "Traceback...\nBrokenPipeError: [Errno 32] Broken pipe\n"}
    _steps.after_the_end(steps, timing, record)
    assert steps[2].hint.startswith("One client at a time") and "BrokenPipeError" in steps[2].hint
    assert "mid-message" not in steps[3].hint and "already ended" in steps[3].hint
    assert "BrokenPipeError" in steps[3].hint and "“2 five clients at once”" in steps[3].hint
    assert steps[1].hint == ""


def test_hints_stay_the_cases_own_while_the_server_lives():
    from orchestrator.exercises import _steps
    from orchestrator.result import Step
    steps = [Step("batched", "batched", False, "", "", "", hint="one recv() is not one message")]
    _steps.after_the_end(steps, {"batched": [[1.0, 2.0]]}, None)
    assert steps[0].hint == "one recv() is not one message"


def test_a_step_of_two_spans_is_the_one_the_server_ended_in():
    """concurrent-server's `alone` runs before the crowd and again after it: an end in its second run is its."""
    from orchestrator.exercises import _steps
    from orchestrator.result import Step
    steps = [Step("alone", "one client alone", False, "", "", "", hint="own"),
             Step("crowd", "clients at once", True, "", "", ""),
             Step("half-line-vanish", "a client vanishes", False, "", "", "", hint="own")]
    timing = {"alone": [[1.0, 2.0], [5.0, 6.0]], "crowd": [[2.0, 5.0]], "half-line-vanish": [[6.0, 7.0]]}
    record = {"ended_at": 5.5, "timed_out": False, "flooded": False, "stopped": False, "signal": 9,
              "exit_code": None, "stderr": ""}
    _steps.after_the_end(steps, timing, record)
    assert "ended during this step" in steps[0].hint and "“1 one client alone”" in steps[2].hint
