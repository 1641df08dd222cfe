"""The event-loop exercise without Docker: its checker on this host's loopback, at a small scale, against the
reference (every case passes) and each typical bug (its own step fails, with the hint that names it), the
server sampled from /proc as the sandbox samples it; the steps from facts; the pictures."""
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from nodes import sandbox
from orchestrator import pictures
from orchestrator.exercises import event_loop
from tests.unit.test_queues import free_port

HOME = Path(__file__).resolve().parents[2] / "exercises" / "event-loop"
SCALE = ("--idle", 20, "--active", 5, "--active-s", 1.2, "--slow-s", 1, "--after-s", 0.5, "--quiet-s", 1.5)
FILL = 1010  # descriptors the server is started with, so that a few connections take it past 1,024


def checker(*args):
    return subprocess.Popen([sys.executable, "-m", "nodes.checkers.event_loop", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def more_files():
    """In the server's child: room for FILL descriptors and the crowd (the sandbox gives it 4,096)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, event_loop.NOFILE), hard))


def sample(child, record, stop):
    """The sandbox's usage and watch of the child every 10 ms until it ends or is stopped, and when it ended."""
    used, watch = sandbox.Usage(True), sandbox.Watch(True, time.monotonic())
    while not stop.is_set() and child.poll() is None:
        used.sample()
        watch.sample()
        time.sleep(0.01)
    record.update(usage=used.samples, watch=watch.snapshots, ended_at=None if stop.is_set() else round(time.time(), 3))


@contextmanager
def serving(path, monkeypatch, fill=0):
    """The program serving on a free port here: (port, the record the sandbox would keep of it)."""
    port, fds = free_port(), [os.open(os.devnull, os.O_RDONLY) for __ in range(fill)]
    child = subprocess.Popen([sys.executable, str(path), str(port)], stderr=subprocess.PIPE, text=True,
                             pass_fds=fds, preexec_fn=more_files)
    for fd in fds:
        os.close(fd)
    monkeypatch.setattr(sandbox, "sandbox_pids", lambda zombies=True: [child.pid])
    record, stop = {}, threading.Event()
    sampler = threading.Thread(target=sample, args=(child, record, stop))
    sampler.start()
    try:
        for __ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield port, record
    finally:
        stop.set()
        sampler.join()
        code = child.poll()
        child.kill()
        record.update(stderr=child.communicate(timeout=10)[1], exit_code=code, stopped=code is None, signal=None,
                      timed_out=False, flooded=False)


def checked(path, monkeypatch, fill=0, held=20):
    """({step key: step} of the cases, hold's result, drive's result): the program checked here as the
    exercise checks it, at a small scale."""
    with serving(HOME / path, monkeypatch, fill) as (port, record):
        hold = checker("hold", "127.0.0.1", port, "--count", held)
        try:
            assert hold.stderr.readline().startswith("ready")
            got = json.loads(checker("drive", "127.0.0.1", port, *SCALE).communicate(timeout=60)[0])
            hold.send_signal(signal.SIGTERM)
            held = json.loads(hold.communicate(timeout=20)[0])
        finally:
            hold.kill()
            hold.communicate()
    return {step.key: step for step in event_loop.cases(held, got, record)}, held, got


@pytest.fixture(scope="module")
def run():
    """checked(path), once per program for the whole module."""
    done = {}
    with pytest.MonkeyPatch.context() as patch:
        yield lambda path, fill=0: done.get(path) or done.setdefault(path, checked(path, patch, fill))


@pytest.fixture(scope="module")
def reference(run):
    return run("reference.py")


def test_the_reference_passes_every_case(reference):
    steps, held, got = reference
    assert [key for key, step in steps.items() if not step.passed] == [], {k: s.observed for k, s in steps.items()}
    assert held["stopped"] == "SIGTERM" and held["probe"]["right"] == held["count"] == 20
    assert got["latency"]["slow"]["count"] > 0 and got["slow"]["connected"]
    assert steps["one-thread"].facts["max_threads"] == 1 and steps["cpu"].facts["cpu_share"] < 0.1


@pytest.mark.parametrize("bug,key,words,fill", [
    ("blocking_sendall.py", "slow-reader", "blocking sendall()", 0),
    ("thread_per_connection.py", "one-thread", "a thread per connection", 0),
    ("busy_loop.py", "cpu", "busy loop", 0),
    ("plain_select.py", "idle-crowd", "below 1,024", FILL),
])
def test_each_bug_fails_its_step_with_its_hint(run, bug, key, words, fill):
    if fill and resource.getrlimit(resource.RLIMIT_NOFILE)[1] < fill + 100:
        pytest.skip("this host's open-file limit keeps a server under 1,024 descriptors")
    steps, __, __ = run(f"bugs/{bug}", fill)
    assert not steps[key].passed and words in steps[key].hint, (steps[key].observed, steps[key].hint)
    assert steps["active-latency"].passed or bug == "plain_select.py", "the bug is its own step's, not the others'"


def test_the_slow_reader_stalls_a_blocking_sendall_and_it_recovers_after(run):
    steps, __, got = run("bugs/blocking_sendall.py")
    stay_ms = 1000 * (got["timing"]["slow"][0][1] - got["timing"]["slow"][0][0])
    assert got["latency"]["slow"]["p95_ms"] > stay_ms / 2, "held up for most of the slow reader's stay"
    assert got["latency"]["after"]["p95_ms"] < event_loop.P95_MS, "its reset frees the loop"
    assert steps["idle-crowd"].passed and steps["cpu"].passed and steps["one-thread"].passed


def crowd(count, right, **more):
    return {"count": count, "opened": count, "failed": {}, "end": {"open": right}, "probe": {"right": right, **more},
            "timing": {"open": [[0, 1]], "probe": [[20, 21]]}}


def test_idle_crowd_names_select_threads_or_the_dropped_connections():
    full, half = crowd(550, 550), crowd(550, 300)
    assert event_loop.idle_step(full, full, "").passed
    said = {"ValueError: filedescriptor out of range in select()": "1,024", "RuntimeError: can't start new thread":
            "can't start new thread", "": "keep it registered"}
    for stderr, words in said.items():
        step = event_loop.idle_step(full, half, stderr)
        assert not step.passed and words in step.hint and "850 probe lines" in step.observed
    assert "upper-cased" in event_loop.idle_step(full, crowd(550, 549, wrong=1), "").hint


def drive_facts(clients, slow_ms=1.0, sent=16 << 20):
    timing = {"idle": [[0, 1]], "active": [[1, 4]], "slow": [[4, 8]], "after": [[8, 9.5]], "quiet": [[9.5, 12.5]],
              "probe": [[12.5, 13]]}
    stats = {"count": 60, "p50_ms": 0.5, "p95_ms": 1.0, "max_ms": 2.0}
    return {"idle": crowd(550, 550), "active": clients, "pause_ms": 50, "timing": timing,
            "slow": {"connected": True, "sent_bytes": sent, "limit_bytes": 16 << 20, "stalled_at": None, "error": None},
            "latency": {"active": stats, "slow": {**stats, "p95_ms": slow_ms, "max_ms": slow_ms}, "after": stats}}


def client(index, times, failure=None):
    return {"index": index, "latencies": [[t, 0.5] for t in times], "right": len(times), "failure": failure}


def test_slow_reader_fails_on_late_replies_or_clients_lost_and_blames_an_earlier_failure():
    went_on = [client(1, [2, 5, 9]), client(2, [2, 6, 9.2])]
    assert event_loop.slow_step(drive_facts(went_on), []).passed
    late = event_loop.slow_step(drive_facts(went_on, slow_ms=3900), [])
    assert not late.passed and "blocking sendall()" in late.hint and "p95 3900 ms" in late.observed
    stuck = [client(1, [2], {"verdict": "no-reply", "line": 1, "at": 4.1}), client(2, [2, 6, 9.2])]
    step = event_loop.slow_step(drive_facts(stuck), [])
    assert not step.passed and step.facts["went_on"] == 1 and "client 1, line 2: no reply" in step.observed
    refused = [client(n, [], {"verdict": "refused", "line": 0, "at": 1.0}) for n in (1, 2)]
    assert "step before" in event_loop.slow_step(drive_facts(refused), []).hint
    assert not event_loop.active_step(drive_facts(refused)).passed


def test_the_server_keeps_one_thread_and_sleeps_when_idle():
    cases = {"cpu": [[10, 13]]}
    one = {"usage": [[9.0, 1, 9000, 0.5], [10.2, 1, 9000, 0.6], [12.8, 1, 9000, 0.62]],
           "watch": [[0.0, [[40, 1, "S", "python3 s.py 9510"]]]]}
    assert event_loop.one_thread_step(one, cases).passed and event_loop.cpu_step(one, cases).passed
    busy = {**one, "usage": [[10.1, 1, 9000, 1.0], [12.9, 1, 9000, 3.7]]}
    step = event_loop.cpu_step(busy, cases)
    assert not step.passed and "busy loop" in step.hint and "96 %" in step.observed
    threads = {**one, "usage": [[9.0, 1, 9000, 0.5], [10.0, 129, 90000, 0.6]]}
    assert "a thread per connection" in event_loop.one_thread_step(threads, cases).hint
    helper = {**one, "usage": [[9.0, 2, 9000, 0.5], [10.0, 2, 9000, 0.6]]}
    assert "'0.0.0.0'" in event_loop.one_thread_step(helper, cases).hint
    forked = {**one, "watch": one["watch"] + [[1.0, [[40, 1, "S", "python3 s.py"], [41, 40, "S", "python3 s.py"]]]]}
    step = event_loop.one_thread_step(forked, cases)
    assert not step.passed and "other processes" in step.hint
    assert not event_loop.cpu_step({"usage": []}, cases).passed, "no sample is no evidence"
    ended = {"usage": [[10.1, 0, 0, 0.0], [12.9, 0, 0, 0.0]]}
    assert not event_loop.cpu_step(ended, cases).passed, "a program that has ended is not an idle one"


def test_a_server_that_ended_is_blamed_in_the_step_it_ended_in(reference):
    __, held, got = reference
    record = {"usage": [], "watch": [], "stderr": "ValueError: filedescriptor out of range in select()",
              "ended_at": got["timing"]["idle"][0][0], "exit_code": 1, "timed_out": False, "flooded": False,
              "stopped": False, "signal": None}
    dead = {**got, "idle": crowd(20, 0), "active": [client(1, [], {"verdict": "refused", "line": 0,
                                                                   "at": got["timing"]["active"][0][0]})]}
    steps = {step.key: step for step in event_loop.cases(held, dead, record)}
    assert "1,024" in steps["idle-crowd"].hint and "ended during this step" in steps["idle-crowd"].hint
    assert "already ended" in steps["active-latency"].hint and "already ended" in steps["cpu"].hint


def test_the_pictures_draw_from_the_reference_and_from_a_stall(reference):
    steps, __, __ = reference
    for key in ("slow-reader", "one-thread", "cpu"):
        picture = pictures.for_step("event-loop", steps[key])
        assert picture.data.startswith("<?xml") and picture.alt, key
    stall = event_loop.slow_step(drive_facts([client(1, [2, 5], {"verdict": "no-reply", "line": 2, "at": 5.1})],
                                             slow_ms=3900), [])
    assert "1 line(s) never answered" in pictures.for_step("event-loop", stall).alt
