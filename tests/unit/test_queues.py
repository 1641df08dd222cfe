"""nodes.queues and nodes.queuebase on this host's loopback: the connections, the consumer's report and the
bookkeeping that rides on every task."""
import json
import os
import socket
import subprocess
import sys
import time

import pytest

from nodes import queues


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def key(tmp_path):
    path = tmp_path / "queue.key"
    path.write_bytes(os.urandom(16).hex().encode())
    return str(path)


def program(module, *argv, key):
    return subprocess.Popen([sys.executable, "-m", f"nodes.{module}", *map(str, argv), "--key", key],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def said(process, text):
    """Read the process's stderr until a line holds text."""
    for line in process.stderr:
        if text in line:
            return
    raise AssertionError(f"{process.args} ended without saying {text!r}")


@pytest.fixture(params=["queues", "queuebase"])
def broker(request, key):
    port = free_port()
    process = program(request.param, "broker", "--port", port, key=key)
    said(process, "listening")
    yield request.param, port
    process.terminate()
    process.wait(10)


def test_a_clients_connections_send_at_once(key):
    """A client's handshake ends with two writes in a row: with Nagle on, the second waited for the broker's
    delayed ACK (40 ms) on every connection a proxy opened."""
    port = free_port()
    process = program("queues", "broker", "--port", port, key=key)
    try:
        said(process, "listening")
        q = queues.connect("127.0.0.1", port, key).plain()
        assert q.qsize() == 0
        with socket.socket(fileno=os.dup(q._tls.connection.fileno())) as sock:
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        process.terminate()
        process.wait(10)


def test_each_consumer_times_its_work_from_its_first_item_to_its_last(broker, key):
    """The bench's clock for the pair: busy_s, which leaves out the programs' start and end."""
    module, port = broker
    pill = ["--pills", 1] if module == "queues" else []
    consumer = program(module, "consume", "127.0.0.1", "--port", port, key=key)
    said(consumer, "consuming")
    time.sleep(0.3)  # idle before the first item: the consumer's clock must not count it
    produced = program(module, "produce", "127.0.0.1", "--count", 200, "--port", port, *pill, key=key)
    assert produced.wait(30) == 0
    out, __ = consumer.communicate(timeout=30)
    result = json.loads(out)
    assert result.get("processed", result.get("consumed")) == 200
    assert 0 < result["busy_s"] < result["seconds"] - 0.25


@pytest.mark.parametrize("mode", ["plain", "reliable"])
def test_a_consumer_that_stops_idle_leaves_its_wait_out_of_busy_s(key, mode):
    port = free_port()
    broker = program("queues", "broker", "--port", port, key=key)
    try:
        said(broker, "listening")
        produced = program("queues", "produce", "127.0.0.1", "--port", port, "--mode", mode, "--count", 8, key=key)
        assert produced.wait(30) == 0
        consumer = program("queues", "consume", "127.0.0.1", "--port", port, "--mode", mode, "--idle", 1, key=key)
        result = json.loads(consumer.communicate(timeout=30)[0])
    finally:
        broker.terminate()
        broker.wait(10)
    assert result["processed"] == 8 and result["exit"] == "idle 1.0 s"
    assert result["seconds"] > 1 and 0 <= result["busy_s"] < 0.5


def test_said_says_every_item_once_in_order(capsys):
    say = queues.Said(every=0.01)
    for item in range(5000):
        say.note(item)
    say.flush()
    assert capsys.readouterr().err.splitlines() == [f"done {item}" for item in range(5000)]


def test_the_depth_curve_notes_every_put_and_get():
    q = queues.DepthQueue(3)
    for item in "abc":
        q.put(item)
    q.get()
    curve = q.curve(list(q.depths))
    assert [depth for __, depth in curve] == [1, 2, 3, 2]
    times = [t for t, __ in curve]
    assert times == sorted(times) and all(t == round(t, 4) for t in times)
