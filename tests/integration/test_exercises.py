"""The exercises' graders held to their own references and to the course's typical bugs: each reference
passes every step on repeated runs; each bug fails the step that names it, with that hint (graded as a class,
in test_grading: BUGS is the matrix a class of them must come to); learners' code that hangs, floods,
crashes or forks without end is one failed step, and nothing of it is left running.
"""
import json
import subprocess
from pathlib import Path

import pytest

from orchestrator import exercises
from orchestrator.learner import LearnerProgram, leftovers
from tests.integration.conftest import PROJECT, assert_passed

ROOT = Path(__file__).resolve().parents[2]
HOME = ROOT / "exercises"

# exercise: {bug file: {step key that must fail: words its hint must hold}}
BUGS = {
    "framing": {
        "no_recv_loop.py": {"sizes": "the missing loop"},
        "native_struct.py": {"empty-then-small": "byte order"},
        "header_no_loop.py": {"byte-writes": "recv(4)", "paused-prefix": "recv(4)"},
        "recv_is_a_message.py": {"batched": "one recv() is not one message"},
        "one_client_at_a_time.py": {"five-clients": "One client at a time"},
    },
    "remote-shell": {
        "sticky_reply.py": {"unicode-then-next": "粘包 in the replies"},
        "stdout_then_stderr.py": {"stderr-first": "stdout-then-stderr deadlock"},
        "lost_exit_status.py": {"exit-status": "exit status was lost"},
        "recv_1024.py": {"long-command": "single recv(1024)", "back-to-back": "粘包 on the way in"},
    },
    "concurrent-server": {
        "blocking_accept_loop.py": {"crowd": "One client at a time"},
        "dies_on_half_line.py": {"half-line-vanish": "half a line", "survives": "per connection"},
    },
    "thread-pool-server": {
        "thread_per_connection.py": {"pool-threads": "a thread per connection"},
        "pool_per_connection.py": {"pool-threads": "a new pool made for each connection"},
        "one_at_a_time.py": {"crowd": "One client at a time"},
        "worker_dies.py": {"vanished-workers": "each worker died with its client"},
    },
    "file-transfer": {
        "header_one_recv.py": {"small-files": "the missing loop"},
        "json_after_recv_1024.py": {"small-files": "the header and the file's first bytes"},
        "slurps_file.py": {"large-file": "Stream, don't slurp"},
        "trusts_name.py": {"traversal": "Never trust a name from the network"},
        "final_name_before_md5.py": {"vanished-upload": "temporary name"},
    },
    "event-loop": {
        "blocking_sendall.py": {"slow-reader": "blocking sendall()"},
        "thread_per_connection.py": {"one-thread": "a thread per connection", "idle-crowd": "can't start new thread"},
        "plain_select.py": {"idle-crowd": "below 1,024"},
        "busy_loop.py": {"cpu": "busy loop"},
    },
    "udp-pinger": {
        "no_timeout.py": {"finishes": "No timeout"},
        "late_reply_counted.py": {"timeouts": "late"},
        "wrong_loss.py": {"summary": "(sent − received) / sent"},
    },
    "tickets": {
        "no_lock.py": {"run-1": "No lock"},
        "lock_search_only.py": {"run-1": "does not cover the buy"},
        "lock_never_released.py": {"run-1": "never released"},
    },
    "producer-consumer": {
        "no_poison_pill.py": {"ends": "never told to stop"},
        "one_pill.py": {"ends": "never told to stop"},
        "no_join.py": {"each-once": "Items were lost"},
        "pills_too_early.py": {"ends": "too early"},
    },
    "daemon": {
        "not_daemon.py": {"ends": "not a daemon"},
        "no_join.py": {"order": "join()"},
        "daemon_with_child.py": {"no-grandchild": "daemonic processes are not allowed to have children"},
    },
    "reliable-consumer": {
        "ack_before_work.py": {"nothing-lost": "Acknowledging before the work is done"},
        "never_ack.py": {"consumers-end": "Never acknowledging"},
        "exits_on_first_empty.py": {"nothing-lost": "exits on the first empty get"},
    },
}
NODE = {"udp-pinger": "client1", "tickets": "worker1", "producer-consumer": "worker1", "daemon": "worker1",
        "reliable-consumer": "worker1"}  # where the learner's program runs (else: server)


def check(lab, name, path):
    result = exercises.run(name, lab, LearnerProgram(path))
    assert leftovers(lab.node(NODE.get(name, "server"))) == [], "the learner's processes were all killed"
    return result


@pytest.mark.parametrize("round_", [1, 2])  # and once more in its class (test_grading), once on the swarm
@pytest.mark.parametrize("name", sorted(BUGS))
def test_reference_passes(lab, name, round_):
    result = assert_passed(check(lab, name, HOME / name / "reference.py"))
    assert result.duration_s <= 30, "a passing solution's check takes at most 30 s"


def test_every_bug_variant_is_tested():
    shipped = {n: {p.name for p in (HOME / n / "bugs").glob("*.py")} for n in BUGS}
    assert shipped == {n: set(b) for n, b in BUGS.items()}
    assert set(BUGS) == set(exercises.available())


HOSTILE = {
    "hangs.py": "import time\ntime.sleep(3600)\n",
    "crashes.py": "import sys\nraise SystemExit('cannot start: ' + sys.argv[1])\n",
    "floods.py": "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n",
    "forks.py": ("import os, socket, sys, time\ns = socket.create_server(('', int(sys.argv[1])))\n"
                 "while True:\n    try:\n        os.fork()\n    except OSError:\n        time.sleep(0.01)\n"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_untrusted_program_is_one_failed_step_and_leaves_nothing(lab, tmp_path, name):
    path = tmp_path / name
    path.write_text(HOSTILE[name])
    result = check(lab, "framing", path)
    assert not result.passed and result.step("nothing-left").passed
    failed = [s for s in result.steps if not s.passed]
    if name == "forks.py":  # it binds the port, then forks until the process limit stops it
        assert result.step("starts").passed and result.duration_s < 120
    else:
        assert [s.key for s in failed] == ["starts"]
        reason = {"hangs.py": "not bound", "crashes.py": "cannot start: 95", "floods.py": "stopped: printed"}[name]
        assert reason in failed[0].observed, failed[0].observed


def socklab(*args):
    return subprocess.run([str(ROOT / ".venv/bin/socklab"), "--project", PROJECT, *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def test_cli_check_gradescope_and_exit_codes(lab, tmp_path):
    out = tmp_path / "results.json"
    done = socklab("check", "udp-pinger", "--client", HOME / "udp-pinger/bugs/wrong_loss.py", "--gradescope", out)
    assert done.returncode == 1, done.stderr
    results = json.loads(out.read_text())
    assert results["score"] < len(results["tests"]) and "hint:" in results["tests"][-2]["output"]
    bad = socklab("check", "framing", "--server", tmp_path / "missing.py")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "no such file" in bad.stderr
