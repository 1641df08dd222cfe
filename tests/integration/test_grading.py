"""A class graded on labs side by side: each exercise's reference and bug variants, laid out as a class,
grade to what the BUGS table predicts; --labs 1 and --labs 3 give the same verdicts and, with one seed, the
same steps; one submission's traces never reach the next on the same lab; Ctrl-C keeps what was graded and
leaves no lab, and --only-changed goes on from there; the CLI's exit codes."""
import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from orchestrator import exercises, grading
from orchestrator.learner import WRITABLE, LearnerProgram, scrub
from nodes.lib.layout import SANDBOX_UID
from tests.integration.conftest import CLASSES, PROJECT
from tests.integration.test_exercises import BUGS, HOME, ROOT

SIMILAR = ROOT / "tests" / "unit" / "classes" / "similar"  # three framing servers written apart, and a copy
SEED = 20261203


def grade_labs(docker_engine):
    """The names of the grading labs' containers still there."""
    return [c.name for c in docker_engine.containers.list(all=True)
            if c.labels.get("com.docker.compose.project", "").startswith(f"{PROJECT}-grade")]


def class_of(name, folder):
    """The exercise's reference and bugs, one student each: ref.py and bug files named after the bug."""
    folder.mkdir()
    shutil.copy(HOME / name / "reference.py", folder / "reference.py")
    for bug in BUGS[name]:
        shutil.copy(HOME / name / "bugs" / bug, folder / bug)
    return folder


def graded(name, folder, labs, seed=SEED, out=None, only_changed=False):
    run = grading.Grading(grading.Plan(name, str(folder), labs=labs, seed=seed, out=out, project=PROJECT,
                                       only_changed=only_changed))
    run.run()
    data, folder = run.write()
    CLASSES.append(folder)
    return {s["student"]: s for s in data["students"]}, run


def assert_as_the_bugs_table(name, students):
    assert students["reference"]["passed"], students["reference"]
    for bug, expected in BUGS[name].items():
        student = students[Path(bug).stem]
        assert not student["passed"] and not student.get("error"), student
        for key, words in expected.items():
            assert key in student["failed_steps"], (bug, key, student["failed_steps"])
            assert any(words in hint for hint in student["hints"]), (bug, words, student["hints"])


@pytest.mark.parametrize("name", sorted(set(BUGS) - {"framing"}))
def test_each_exercise_class_grades_as_the_bugs_table(docker_engine, tmp_path, name):
    students, run = graded(name, class_of(name, tmp_path / "class"), labs=3)
    assert_as_the_bugs_table(name, students)
    assert not grade_labs(docker_engine), "every grading lab is down at the end"


def test_a_framing_class_on_3_labs_and_on_1_gives_the_same_steps(docker_engine, tmp_path):
    folder = class_of("framing", tmp_path / "class")
    for program in SIMILAR.glob("*.py"):
        shutil.copy(program, folder / program.name)
    out = tmp_path / "three"
    done = subprocess.run([str(ROOT / ".venv/bin/socklab"), "--project", PROJECT, "grade", "framing", folder,
                           "--labs", "3", "--seed", str(SEED), "--out", out, "--csv", tmp_path / "class.csv",
                           "--json", "--similarity"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    CLASSES.append(out)
    three = json.loads(done.stdout)
    assert three["seed"] == SEED and "on 3 labs" in done.stderr
    students = {s["student"]: s for s in three["students"]}
    assert_as_the_bugs_table("framing", students)
    assert all(students[s]["passed"] for s in ("alice", "bob", "carol", "dave")), "correct servers written apart"
    assert ("alice", "carol") in {(p["a"], p["b"]) for p in three["similar"]}
    assert (tmp_path / "class.csv").read_text().startswith("student,score,max_score,passed,starts,")
    assert (out / "index.html").exists() and (out / "gradescope" / "reference.json").exists()
    results = json.loads((out / "students" / "no_recv_loop" / "result.json").read_text())
    assert results["params"]["seed"] == SEED and {"image", "exercise_version", "socklab"} <= set(results["params"])
    one, run = graded("framing", folder, labs=1, out=tmp_path / "one")
    kept = {o.submission.student: o.result.to_dict()["steps"] for o in run.outcomes}
    for student, steps in kept.items():  # graded again on 1 lab with the seed: the same verdicts, the same steps
        again = json.loads((out / "students" / student / "result.json").read_text())["steps"]
        assert [(s["key"], s["passed"], s.get("hint")) for s in steps] == \
            [(s["key"], s["passed"], s.get("hint")) for s in again], student
    assert {s: (v["passed"], v["failed_steps"]) for s, v in one.items()} == \
        {s: (v["passed"], v["failed_steps"]) for s, v in students.items()}
    assert not grade_labs(docker_engine)


TRACES = '''import os, socket, subprocess, sys, time
for place in ("/tmp", "/var/tmp", "/dev/shm"):
    open(os.path.join(place, "left-by-a"), "w").write("a was here")
port = int(sys.argv[1])  # a connection this side closes first: its port held in TIME_WAIT for a minute
with socket.create_server(("", port)) as probe:
    peer = socket.create_connection(("127.0.0.1", port))
    accepted, _ = probe.accept()
    accepted.close()
    time.sleep(0.1)
    peer.close()
if os.fork() == 0:  # a child that outlives this program, listening
    os.setsid()
    listener = socket.create_server(("", 9999))
    time.sleep(3600)
'''
LOOKS = '''import os, socket, sys
seen = []
try:  # as a server without SO_REUSEADDR would
    socket.socket().bind(("", int(sys.argv[1])))
except OSError as exc:
    seen.append(f"port {sys.argv[1]} held ({exc.strerror})")
for place in ("/tmp", "/var/tmp", "/dev/shm"):
    for name in os.listdir(place):
        path = os.path.join(place, name)
        if os.stat(path).st_uid == os.getuid() and not os.getcwd().startswith(path):
            seen.append(path)
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        if int(pid) != os.getpid() and os.stat(f"/proc/{pid}").st_uid == os.getuid():
            seen.append(f"process {pid}")
    except OSError:
        pass
try:
    socket.create_connection(("127.0.0.1", 9999), timeout=1).close()
    seen.append("a listener on 9999")
except OSError:
    pass
if seen:
    sys.exit("saw what an earlier program left: " + ", ".join(seen))
'''


def test_a_submission_never_sees_what_the_one_before_left(lab, tmp_path):
    reference = (HOME / "framing" / "reference.py").read_text()
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "a_leaves_traces.py").write_text(TRACES + reference)
    (folder / "b_looks_for_them.py").write_text(LOOKS + reference)
    students, run = graded("framing", folder, labs=1)
    assert students["b_looks_for_them"]["passed"], students["b_looks_for_them"]
    # the control: what b looks for, left on a lab that was not scrubbed, is seen
    server = lab.node("server")
    writable = server.run(["sh", "-c", "find / -xdev \\( -path /proc -o -path /sys \\) -prune -o -type d -perm -0002 "
                                       "-print; find /dev /run -type d -perm -0002"]).stdout.decode().split()
    assert set(writable) <= set(WRITABLE), "scrub() looks in every folder anyone may write"
    scrub(server)  # what the session's earlier checks left on this lab (their install folders)
    server.run(["sh", "-c", f"echo a > /tmp/left-by-a && chown {SANDBOX_UID} /tmp/left-by-a"])
    seen = exercises.run("framing", lab, LearnerProgram(folder / "b_looks_for_them.py"))
    assert not seen.step("starts").passed and "/tmp/left-by-a" in seen.step("starts").observed
    assert scrub(server) >= 2, "the file, and the program's own folder"
    assert exercises.run("framing", lab, LearnerProgram(folder / "b_looks_for_them.py")).passed


def test_ctrl_c_keeps_what_was_graded_leaves_no_lab_and_only_what_changed_is_graded_again(docker_engine, tmp_path):
    folder = class_of("framing", tmp_path / "class")
    seed = int(time.time())  # nothing kept from an earlier run
    grade = subprocess.Popen([str(ROOT / ".venv/bin/socklab"), "--project", PROJECT, "grade", "framing", folder,
                              "--labs", "2", "--seed", str(seed), "--out", tmp_path / "out"],
                             stderr=subprocess.PIPE, text=True)
    lines = []
    for line in grade.stderr:
        lines.append(line)
        if line.startswith("2/"):
            break
    grade.send_signal(signal.SIGINT)
    grade.wait(120)
    lines += grade.stderr.readlines()
    assert grade.returncode == 130, lines
    assert not grade_labs(docker_engine), "every lab is taken down"
    done = [line.split()[1].rstrip(":") for line in lines if line[:1].isdigit() and "/" in line.split()[0]]
    changed = done[0]
    program = folder / f"{changed}.py"
    program.write_text(program.read_text() + "\n# changed after the first run\n")
    students, run = graded("framing", folder, labs=1, seed=None, only_changed=True)
    assert run.seed == seed, "--only-changed takes the last run's seed"
    assert {s for s, v in students.items() if v["cached"]} == set(done) - {changed}, \
        "what was graded before Ctrl-C is kept, except what changed since"
    assert all(not v.get("error") for v in students.values())


def test_cli_bad_usage_is_one_line(tmp_path):
    for args in (["grade", "framing", tmp_path / "missing"], ["grade", "nosuch", tmp_path],
                 ["grade", "framing", tmp_path, "--labs", "0"]):
        done = subprocess.run([str(ROOT / ".venv/bin/socklab"), *map(str, args)], capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 2 and done.stderr.count("\n") == 1, (args, done.stderr)
