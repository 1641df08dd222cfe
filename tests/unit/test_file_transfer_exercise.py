"""file-transfer without a lab: the checker on this host's loopback against the reference (every case passes)
and against each typical bug (the case that names it fails, with its hint); the checker against a server
that never answers; the steps fed facts; the picture of the large file."""
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from nodes.checkers import file_transfer as checker
from orchestrator.exercises import file_transfer as exercise
from orchestrator.pictures import for_step
from tests.unit.hostlab import ROOT, HostNode
from tests.unit.test_queues import free_port

HOME = ROOT / "exercises" / "file-transfer"
LARGE_MIB = 40  # the lab moves 200 MiB; a slurping server still passes the 64 MiB limit by far with 40


def usage_of(pid, samples, stop):
    """Sample the process's threads and resident memory every 10 ms, as the sandbox's --usage does."""
    while not stop.is_set():
        try:
            status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
        except (FileNotFoundError, ProcessLookupError):
            return
        samples.append([round(time.time(), 3), int(status["Threads"]), int(status["VmRSS"].split()[0]), 0.0])
        time.sleep(0.01)


def checked(program, tmp_path, *cases):
    """Serve `program` (`python3 FILE PORT DIR`) on a free port, run the checker's cases against it on the
    loopback, and judge them as the lab does: {step key: Step}, and the server's stderr."""
    base, port = tmp_path / "base", free_port()
    (base / "store").mkdir(parents=True)
    server = subprocess.Popen([sys.executable, str(program), str(port), str(base / "store")], cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    samples, stop = [], threading.Event()
    sampler = threading.Thread(target=usage_of, args=(server.pid, samples, stop))
    try:
        deadline = time.monotonic() + 5
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the server never listened"
                time.sleep(0.05)
        sampler.start()
        done = subprocess.run([sys.executable, "-m", "nodes.checkers.file_transfer", "127.0.0.1", str(port), "--seed",
                               "7", "--large-mib", str(LARGE_MIB), "--cases", ",".join(cases or checker.CASES)],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        got = checker_json(done.stdout)
        steps = exercise.steps_from(got, exercise.on_disk(HostNode(), str(base)), {"usage": samples})
    finally:
        stop.set()
        server.kill()
        err = server.communicate(timeout=10)[1]
        if sampler.is_alive():
            sampler.join(5)
    return {step.key: step for step in steps}, err


def checker_json(stdout):
    lines = stdout.strip().splitlines()
    assert len(lines) == 1, "one JSON result line"
    return json.loads(lines[0])


def test_the_reference_passes_every_case(tmp_path):
    steps, err = checked(HOME / "reference.py", tmp_path)
    assert list(steps) == [*exercise.IMPAIRED, "large-file"]
    failed = {key: (step.observed, step.hint) for key, step in steps.items() if not step.passed}
    assert not failed, err
    memory = steps["large-file"].facts["memory"]
    assert 0 < memory["peak_mib"] < exercise.MEMORY_MIB and memory["size_mib"] == LARGE_MIB
    assert sorted(memory["phases"]) == ["get", "put"]
    store = steps["wrong-md5"].facts["disk"]["store"]
    assert store["large.bin"] == LARGE_MIB << 20 and store["empty.bin"] == 0 and "wrong-md5.bin" not in store
    assert not [name for name in store if name.startswith(".upload-")], "no temporary file left behind"


# bug file: the cases it is run with, {step key that must fail: words its hint must hold}
BUGS = {
    "header_one_recv.py": (["small-files"], {"small-files": "the missing loop"}),
    "json_after_recv_1024.py": (["small-files"], {"small-files": "the header and the file's first bytes"}),
    "slurps_file.py": (["large-file"], {"large-file": "Stream, don't slurp"}),
    "trusts_name.py": (["traversal"], {"traversal": "Never trust a name from the network"}),
    "final_name_before_md5.py": (["vanished-upload", "wrong-md5"], {"vanished-upload": "temporary name"}),
}


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_each_bug_fails_the_step_that_names_it(tmp_path, bug):
    cases, failing = BUGS[bug]
    steps, err = checked(HOME / "bugs" / bug, tmp_path, *cases)
    for key, words in failing.items():
        assert not steps[key].passed, (steps[key].observed, err)
        assert words in steps[key].hint, steps[key].hint
    assert all(steps[key].passed for key in steps if key not in failing), "exactly its bug shows"


def test_every_bug_shipped_is_tested():
    assert {path.name for path in (HOME / "bugs").glob("*.py")} == set(BUGS)


def test_the_trusting_server_wrote_beside_dir(tmp_path):
    steps, _err = checked(HOME / "bugs" / "trusts_name.py", tmp_path, "traversal")
    facts = steps["traversal"].facts
    assert facts["disk"]["outside"] == {"escape.txt": 10}
    assert (facts["failure"]["name"], facts["failure"]["verdict"]) == ("../escape.txt", "said-yes")
    assert 'put "../escape.txt" (10 B): the server answered ok: true' in steps["traversal"].observed


def test_the_checker_gives_every_case_a_verdict_against_a_silent_server(monkeypatch):
    """A server that accepts and never answers: every read has a deadline, every case says what it saw."""
    monkeypatch.setattr(checker, "REPLY_S", 0.2)
    monkeypatch.setattr(checker, "SPLIT_S", 0.01)
    monkeypatch.setattr(checker, "HELD_S", 0.05)
    with socket.create_server(("127.0.0.1", 0)) as silent:
        address, rng = silent.getsockname(), random.Random(1)
        for case in (checker.small_files, checker.wrong_md5, checker.missing_file, checker.vanished_upload):
            outcome = case(address, rng)
            assert outcome["failure"]["verdict"] == "no-reply" and outcome["right"] == 0, case.__name__
    refused = checker.missing_file(("127.0.0.1", free_port()), rng)
    assert refused["failure"]["verdict"] == "refused"


def outcome(failure=None, right=1, planned=1, **more):
    return {"planned": planned, "right": right, "requests": [], "failure": failure, **more}


def request(verdict, cmd="put", shape="whole", refused=False, **more):
    return {"cmd": cmd, "name": "f.bin", "size": 10, "shape": shape, "refused": refused, "verdict": verdict, **more}


@pytest.mark.parametrize("case,failure,words", [
    ("small-files", request("said-no", shape="split", error="the header is not JSON"), "the missing loop"),
    ("small-files", request("closed", shape="stuck"), "粘包: the header and the file's first bytes"),
    ("small-files", request("mismatch", cmd="get", shape="split"), "every piece once"),
    ("wrong-md5", request("said-yes", refused=True), "hashlib.md5().update()"),
    ("wrong-md5", request("said-yes", cmd="get", refused=True, header_size=10), "temporary name"),
    ("vanished-upload", request("said-yes", cmd="get", refused=True, when="during"), "temporary name"),
    ("traversal", request("closed", refused=True), "Never trust a name"),
    ("missing-file", request("closed", cmd="get", refused=True), "FileNotFoundError"),
    ("five-clients", request("no-reply", client=3), "One client at a time"),
    ("vanished-upload", request("no-reply", cmd="get", refused=True, when="during"), "One client at a time"),
    ("small-files", request("closed", cmd="get", nth=1, got=0), "keep serving requests on a connection"),
    ("wrong-md5", request("closed", cmd="get", refused=True, nth=1, got=0), "after an {\"ok\": false} reply too"),
    ("small-files", request("said-no", shape="split-length", nth=4), "the missing loop"),
])
def test_each_failure_gets_the_hint_of_its_lesson(case, failure, words):
    step = exercise.case_step(case, outcome(failure, right=0))
    assert not step.passed and words in step.hint, step.hint
    assert step.observed.startswith("0/1 requests answered right; ")


def test_a_file_left_on_disk_fails_the_case_the_protocol_answers_passed():
    disk = {"store": {"vanished.bin": 65536}, "outside": {}}
    step = exercise.case_step("vanished-upload", outcome(absent=["vanished.bin"]), disk)
    assert not step.passed and "temporary name" in step.hint and "65536 B" in step.observed
    escaped = exercise.case_step("traversal", outcome(), {"store": {}, "outside": {"escape.txt": 10}})
    assert not escaped.passed and "escape.txt was written beside DIR" in escaped.observed
    assert exercise.case_step("wrong-md5", outcome(absent=["wrong-md5.bin"]), {"store": {}, "outside": {}}).passed


def large(peaks_kib, failure=None):
    """A large-file outcome over [100, 110] and usage samples at 99 (in force at the start), 103 and 112."""
    done = outcome(failure, right=2, planned=2, size=200 << 20, spans={"put": [100.5, 104.0], "get": [104.0, 109.5]})
    done["requests"] = [{"cmd": "put", "verdict": "ok", "seconds": 3.5}, {"cmd": "get", "verdict": "ok", "seconds": 5.5}]
    usage = [[at, 2, kib, 0.1] for at, kib in zip((99.0, 103.0, 112.0), peaks_kib)]
    return done, usage, [100.0, 110.0]


def test_the_large_file_is_held_to_the_memory_samples_within_its_span():
    step = exercise.large_step(*large([9000, 14000, 300_000]))
    assert step.passed and step.facts["memory"]["peak_mib"] == 13.7, "a sample after the span is not its"
    assert "up in 3.5 s, down in 5.5 s" in step.observed
    slurped = exercise.large_step(*large([9000, 420_000, 9000]))
    assert not slurped.passed and "Stream, don't slurp" in slurped.hint and "410.2 MiB" in slurped.hint
    done, _usage, span = large([0])
    assert not exercise.large_step(done, [], span).passed, "no sample is no evidence"


def test_the_disk_is_listed_by_where_each_file_is(tmp_path):
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "a b.bin").write_bytes(b"xyz")
    (tmp_path / "store" / ".partial").mkdir()
    (tmp_path / "store" / ".partial" / "a b.bin").write_bytes(b"x")  # the server's own business, inside DIR
    (tmp_path / "escape.txt").write_bytes(b"1234")
    assert exercise.on_disk(HostNode(), str(tmp_path)) == {"store": {"a b.bin": 3}, "outside": {"escape.txt": 4}}


def test_split_headers_are_cut_inside_the_length_or_inside_the_json():
    head, rng = checker.frame({"cmd": "get", "filename": "one-byte.bin"}), random.Random(7)
    for _ in range(200):
        inside_length = checker.writes(head, b"", "split-length", rng)[0][0]
        inside_json = checker.writes(head, b"", "split", rng)[0][0]
        assert 1 <= len(inside_length) < 4 and 4 < len(inside_json) < len(head)


def test_small_files_asks_twice_with_whole_headers_before_any_cut_one(monkeypatch):
    requests = []
    monkeypatch.setattr(checker, "conversation",
                        lambda address, planned, rng: requests.extend(planned) or {"requests": []})
    checker.small_files(("127.0.0.1", 1), random.Random(1))
    assert [(r.cmd, r.shape) for r in requests] == [("put", "whole"), ("get", "whole"), ("put", "stuck"),
                                                    ("put", "split"), ("get", "split-length"),
                                                    ("get", "split-length")]


def test_the_memory_picture_draws_with_its_limit():
    step = exercise.large_step(*large([9000, 14000, 9000]))
    picture = for_step("file-transfer", step)
    assert picture.data.startswith("<?xml") and "64 MiB" in picture.alt and "streamed" in picture.alt
    slurped = for_step("file-transfer", exercise.large_step(*large([9000, 420_000, 9000])))
    assert "not under it" in slurped.alt
    assert for_step("file-transfer", exercise.case_step("small-files", outcome())) is None


def test_the_shipped_files_parse_and_the_starter_says_both_languages():
    from orchestrator.learner import LearnerProgram
    for path in [HOME / "starter.py", HOME / "reference.py", *sorted((HOME / "bugs").glob("*.py"))]:
        LearnerProgram(path)
    starter = (HOME / "starter.py").read_text()
    assert "TODO" in starter and "TODO：" in starter and os.path.exists(HOME / "README.zh-CN.md")
