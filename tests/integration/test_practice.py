"""Practise in the lab: the workspace on every node, programs run live and detached, a real shell in tmux,
and the README's walk-through run as it is written."""
import os
import re
import tempfile
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from orchestrator.topology import workspace
from tests.integration.conftest import LEARNER_GID, LEARNER_UID, PROJECT

ROOT = Path(__file__).resolve().parents[2]
SOCKLAB = str(ROOT / ".venv/bin/socklab")
WORKSPACE = workspace()  # the session lab's: the repository's, or (as root) one of the learner uid's own


def socklab(*args, stdin=None, project=PROJECT, timeout=120):
    return subprocess.run([SOCKLAB, "--project", project, *map(str, args)], input=stdin, capture_output=True,
                          text=True, timeout=timeout)


def assert_one_line_error(done, text):
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and text in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


@pytest.fixture
def scratch_file():
    made = []
    yield lambda name: made.append(WORKSPACE / name) or WORKSPACE / name
    for path in made:
        path.unlink(missing_ok=True)


def test_a_file_written_on_a_node_is_the_host_users(lab, scratch_file):
    path = scratch_file("written-on-client1.txt")
    done = socklab("exec", "client1", "--", "sh", "-c", f"id -u; pwd; echo from client1 > {path.name}")
    assert done.returncode == 0 and done.stdout.split() == [LEARNER_UID, "/workspace"], done
    assert path.read_text() == "from client1\n"
    assert (path.stat().st_uid, path.stat().st_gid) == (int(LEARNER_UID), int(LEARNER_GID))
    seen = socklab("exec", "worker2", "--", "cat", path.name)
    assert seen.stdout == "from client1\n", "every node sees the same workspace"


def test_exec_streams_as_it_comes_passes_stdin_and_the_exit_code(lab):
    process = subprocess.Popen([SOCKLAB, "--project", PROJECT, "exec", "client2", "--", "sh", "-c",
                                "echo first; sleep 3; echo second; exit 3"], stdout=subprocess.PIPE, text=True)
    started = time.monotonic()
    assert process.stdout.readline() == "first\n"
    assert time.monotonic() - started < 2.5, "the first line came before the command ended"
    assert process.stdout.read() == "second\n" and process.wait(10) == 3
    piped = socklab("exec", "client2", "--", "tr", "a-z", "A-Z", stdin="hello through a pipe\n")
    assert (piped.returncode, piped.stdout) == (0, "HELLO THROUGH A PIPE\n")
    root = socklab("exec", "--root", "client2", "--", "id", "-u")
    assert root.stdout == "0\n"
    lab_programs = socklab("exec", "client2", "--", "python3", "-m", "nodes.programs", "list")
    assert lab_programs.returncode == 0, "the lab's own programs run from /workspace too: " + lab_programs.stderr


def test_detached_programs_logs_stop_and_their_errors(lab):
    started = socklab("exec", "-d", "worker1", "--", "sh", "-c", "echo up; exec sleep 300")
    assert started.returncode == 0 and "started program" in started.stderr, started.stderr
    listed = socklab("programs", "worker1", "--json")
    import json
    running = [p for p in json.loads(listed.stdout) if p["state"] == "running"]
    assert len(running) == 1 and running[0]["argv"][-1] == "echo up; exec sleep 300"
    number = running[0]["id"]
    logs = socklab("logs", "worker1", number)
    assert logs.stdout == "up\n" and "running" in logs.stderr
    stopped = socklab("stop", "worker1", number)
    assert stopped.returncode == 0 and f"stopped {number}" in stopped.stderr
    assert lab.node("worker1").leftovers("sleep 300") == []
    assert_one_line_error(socklab("stop", "worker1", number), f"program {number}")
    assert "already ended" in socklab("stop", "worker1", number).stderr
    ended = [p for p in json.loads(socklab("programs", "worker1", "--json").stdout) if p["id"] == number]
    assert ended[0]["state"] == "killed by signal 15"


def test_bad_input_is_one_line_each(lab, tmp_path):
    assert_one_line_error(socklab("exec", "client9", "--", "true"), "no node 'client9'")
    outside = Path(tempfile.mkdtemp()) / "outside.py"
    outside.write_text("print(1)\n")
    assert_one_line_error(socklab("run", "server", outside), "is not in the workspace")
    assert_one_line_error(socklab("run", "server", WORKSPACE / "no-such-file.py"), "no file")
    assert_one_line_error(socklab("exec", "server", "--", "true", project="socklabtest-nolab"), "the lab is down")
    assert_one_line_error(socklab("shell", "server"), "needs a terminal")


def tmux(*args):
    return subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=30)


def screen(session):
    return tmux("capture-pane", "-p", "-t", session).stdout


def wait_for(session, pattern, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = screen(session).rstrip()
        if re.search(pattern, text):
            return text
        time.sleep(0.1)
    raise AssertionError(f"{pattern!r} not on the screen after {timeout} s:\n{screen(session)}")


@pytest.fixture
def terminal():
    if not shutil.which("tmux"):
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true needs tmux (.ci/run installs it) to drive a real terminal", pytrace=False)
        pytest.skip("tmux is not installed")
    session = f"socklab-shell-{os.getpid()}"
    yield session
    tmux("kill-session", "-t", session)


def test_a_real_shell_on_a_node(lab, terminal, scratch_file):
    path = scratch_file("typed-in-a-shell.txt")
    tmux("new-session", "-d", "-s", terminal, "-x", "100", "-y", "30", f"{SOCKLAB} --project {PROJECT} shell client1")
    prompt = r"\w+@client1:(~|/workspace)\$"  # ~ is /workspace: it is the learner's home
    wait_for(terminal, prompt + r"\s*$")
    tmux("send-keys", "-t", terminal, "tput cols", "Enter")
    wait_for(terminal, r"(^|\n)100\n")
    tmux("resize-window", "-t", terminal, "-x", "120", "-y", "30")
    tmux("send-keys", "-t", terminal, "clear; tput cols", "Enter")
    wait_for(terminal, r"(^|\n)120\n")
    tmux("send-keys", "-t", terminal, "clear; sleep 300", "Enter")
    time.sleep(0.5)
    tmux("send-keys", "-t", terminal, "C-c")
    wait_for(terminal, r"\^C\s*\n" + prompt + r"\s*$", timeout=5)
    assert lab.node("client1").leftovers("sleep 300") == [], "Ctrl-C stopped the program in front"
    tmux("send-keys", "-t", terminal, f"echo $((6 * 7)) > {path.name}", "Enter")
    deadline = time.monotonic() + 10
    while not (path.exists() and path.read_text()) and time.monotonic() < deadline:  # `>` creates it, then echo
        time.sleep(0.1)
    assert path.read_text() == "42\n" and path.stat().st_uid == int(LEARNER_UID)
    tmux("send-keys", "-t", terminal, "C-d")
    deadline = time.monotonic() + 10
    while tmux("has-session", "-t", terminal).returncode == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert tmux("has-session", "-t", terminal).returncode != 0, "Ctrl-D left the shell, and socklab with it"


def walkthrough():
    """The README's walk-through: the shell block after the sentence that says the tests run it."""
    text = (ROOT / "README.md").read_text()
    block = text.split("are run as they are by the tests", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def test_the_readme_walkthrough_runs_as_written(lab):
    lines = walkthrough()
    assert lines[0] == "make up" and lines[-1] == "make down" and len(lines) >= 10
    script = "set -e\n" + "".join(f"echo '::: {i}'; echo '::: {i}' >&2\n{line}\n" for i, line in enumerate(lines))
    repo_workspace = ROOT / "workspace"
    before = sorted(p.name for p in repo_workspace.iterdir())
    env = {k: v for k, v in os.environ.items() if k != "SOCKLAB_WORKSPACE"}  # the README's own workspace/
    env["COMPOSE_PROJECT_NAME"] = f"{PROJECT}-walk"
    done = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    out = dict(zip(range(len(lines)), done.stdout.split("::: ")[1:]))
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])
    said = {line: out[i].split("\n", 1)[1] for i, line in enumerate(lines)}
    errors = dict(zip(range(len(lines)), done.stderr.split("::: ")[1:]))
    told = {line: errors[i].split("\n", 1)[1] for i, line in enumerate(lines)}
    echo = next(v for k, v in said.items() if "tcp_echo_client.py server 9100 hello" in k)
    assert re.match(r"HELLO \([\d.]+ ms\)\nLAB \(", echo), echo
    ssh = next(v for k, v in said.items() if "ssh_client.py" in k)
    pwd_reply = ssh.split("$ pwd\n", 1)[1]
    assert "/workspace" not in pwd_reply and re.match(r"\d+\n", pwd_reply), "the reply to pwd is seq's leftover"
    slower = next(v for k, v in said.items() if "server 9100 slower" in k)
    assert float(re.search(r"\(([\d.]+) ms\)", slower)[1]) >= 45, slower
    # the course's ssh server outlives a client that leaves with replies unread: stop finds both programs
    assert re.search(r"stopped \d+, \d+ on server", told["socklab stop server"]), told["socklab stop server"]
    logs = next(v for k, v in said.items() if k == "socklab logs server")
    assert "connected" in logs and "got: b'hello'" in logs
    assert sorted(p.name for p in repo_workspace.iterdir()) == before, "make down leaves the workspace as it was"
