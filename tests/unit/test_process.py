"""Process: its reader thread and condition, driven by a fake exec stream."""
import threading

import pytest

from orchestrator.errors import NotReady, ProgramFailed, TimedOut


def feed(process, *chunks):
    for chunk in chunks:
        process.node.engine.api.streams[process.exec_id].put(chunk)


def test_expect_returns_once_the_text_arrives_even_split_across_chunks(fake_node):
    process = fake_node.start("reqserver", "threads")
    later = threading.Timer(0.05, feed, (process, (None, b"lis"), (None, b"tening\n")))
    later.start()
    process.expect("listening", timeout=5)
    assert process.running and fake_node.lab.spawned == [process]
    assert process.argv == ["python3", "-m", "nodes.reqserver", "threads"]


def test_expect_on_a_program_that_died_raises_program_failed_with_its_last_line(fake_node):
    process = fake_node.start("reqserver", "bogus")
    fake_node.engine.api.exit_code = 2
    feed(process, (None, b"usage: ...\n"), (None, b"nodes.reqserver: error: invalid choice\n"), None)
    with pytest.raises(ProgramFailed) as caught:
        process.expect("listening", timeout=5)
    assert caught.value.exit_code == 2 and caught.value.stderr_tail == "nodes.reqserver: error: invalid choice"
    assert caught.value.node == "worker2"


def test_expect_on_a_silent_program_is_not_ready(fake_node):
    process = fake_node.start(["sleep", "9"])
    feed(process, (None, b"starting\n"))
    with pytest.raises(NotReady) as caught:
        process.expect("listening", timeout=0.1)
    assert caught.value.text == "listening" and caught.value.stderr_tail == "starting"


def test_line_finds_a_whole_line_by_its_prefix(fake_node):
    process = fake_node.start("procs", "zombie")
    feed(process, (None, b"noise\nready 12"), (None, b" 13\nmore\n"))
    assert process.line("ready ", timeout=5) == "ready 12 13"


def test_result_is_the_json_line_and_a_failure_is_typed(fake_node):
    process = fake_node.start("ping", "server")
    feed(process, (b'{"targets": ', None), (b"[]}\n", None), None)
    assert process.result(5) == {"targets": []}
    assert not process.running
    failing = fake_node.start("ping", "nowhere")
    fake_node.engine.api.exit_code = 2
    feed(failing, (None, b"nodes.ping: error: cannot resolve nowhere\n"), None)
    with pytest.raises(ProgramFailed) as caught:
        failing.result(5)
    assert caught.value.stderr_tail == "nodes.ping: error: cannot resolve nowhere"


def test_wait_times_out_while_the_stream_stays_open(fake_node):
    process = fake_node.start(["sleep", "9"])
    with pytest.raises(TimedOut) as caught:
        process.wait(0.05)
    assert (caught.value.node, caught.value.seconds) == ("worker2", 0.05)


def test_stdout_and_stderr_stay_apart_and_exact(fake_node):
    process = fake_node.start(["cat"])
    feed(process, (b"\xff\x00", None), (None, b"e\x80"), (b"x", b"y"), None)
    done = process.wait(5)
    assert (done.stdout, done.stderr, done.node) == (b"\xff\x00x", b"e\x80y", "worker2")


def test_serve_waits_for_readiness_then_stops_the_program_when_the_block_ends(fake_node, monkeypatch):
    from orchestrator.node import Process
    stopped = []
    monkeypatch.setattr(Process, "stop", lambda self: stopped.append(self))
    streams = fake_node.engine.api.streams
    threading.Timer(0.05, lambda: streams["exec0"].put((None, b"listening\n"))).start()
    with fake_node.serve("framed", "recv") as process:
        assert b"listening" in process.stderr and stopped == []
    assert stopped == [process]
