"""The CLI's promise: a failure is one line on stderr and a non-zero exit, never a traceback."""
import json

import docker
import docker.errors
import pytest

from orchestrator import cli, report
from orchestrator.result import Result, Step
from tests.unit.conftest import assert_one_line_error, run_cli


def test_unknown_scenario(capsys):
    code, _, err = run_cli(capsys, "scenario", "nope")
    assert_one_line_error(code, err, "unknown scenario 'nope'")


def test_bad_scenario_parameter_fails_before_any_lab(capsys, monkeypatch):
    monkeypatch.setattr(docker, "from_env", lambda **kw: pytest.fail("no lab for a bad parameter"))
    code, _, err = run_cli(capsys, "scenario", "ping", "--set", "count=lots")
    assert_one_line_error(code, err, "count takes a whole number")


def test_out_of_range_scenario_parameter_fails_before_any_lab(capsys, monkeypatch):
    monkeypatch.setattr(docker, "from_env", lambda **kw: pytest.fail("no lab for a bad parameter"))
    code, _, err = run_cli(capsys, "scenario", "sticky", "--set", "bufsize=0")
    assert_one_line_error(code, err, "bufsize takes a whole number from 1 to 65536, not 0")


def test_docker_daemon_not_running(capsys, monkeypatch):
    def refuse(**kwargs):
        raise docker.errors.DockerException("Error while fetching server API version: connection refused")
    monkeypatch.setattr(docker, "from_env", refuse)
    code, _, err = run_cli(capsys, "ps")
    assert_one_line_error(code, err, "cannot reach the Docker engine at this host")


def test_malformed_impair_value(capsys, monkeypatch):
    class Lab:
        def __init__(self, project, *args, **kwargs):
            pass

        def node(self, name):
            from orchestrator.node import Node
            return Node.__new__(Node)
    monkeypatch.setattr(cli, "Lab", Lab)
    code, _, err = run_cli(capsys, "impair", "server", "--loss", "150%")
    assert_one_line_error(code, err, "loss takes a percentage from 0 to 100, such as 10%, not '150%'")


def test_a_bug_is_one_line_and_its_traceback_is_kept(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(report, "REPORTS", tmp_path)
    monkeypatch.setattr(cli, "cmd_ps", lambda args: {}["boom"])
    code, _, err = run_cli(capsys, "ps")
    assert code == 2 and err.count("\n") == 1 and "internal error: KeyError" in err
    saved = list(tmp_path.glob("error-*.txt"))
    assert len(saved) == 1 and "Traceback" in saved[0].read_text()


def test_report_saves_json_and_renders_a_table(tmp_path):
    result = Result("demo", {"n": 1}, [Step("s", "step s", True, "e", "o", "w", {"k": 2})], "2026-01-01T00:00:00", 1.5)
    path = report.save("demo", result.to_dict(), tmp_path)
    assert json.loads(path.read_text())["steps"][0]["facts"] == {"k": 2}
    assert report.result_table(result).row_count == 1


def test_the_installed_command_works_from_any_directory(tmp_path):
    import subprocess
    import sys
    from pathlib import Path
    socklab = Path(sys.executable).with_name("socklab")
    if not socklab.exists():
        pytest.skip("socklab is not installed in this interpreter's environment (make venv installs it)")
    done = subprocess.run([str(socklab), "scenario", "--list"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0 and "sticky" in done.stdout, done.stderr


def test_shell_without_a_terminal_is_one_line(capsys, monkeypatch):
    monkeypatch.setattr(docker, "from_env", lambda **kw: pytest.fail("no engine needed to refuse"))
    monkeypatch.setattr(cli.sys.stdin, "isatty", lambda: False, raising=False)
    code, _, err = run_cli(capsys, "shell", "client1")
    assert_one_line_error(code, err, "needs a terminal")


def test_run_refuses_a_file_outside_the_workspace(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(docker, "from_env", lambda **kw: pytest.fail("no engine needed to refuse"))
    monkeypatch.setenv("SOCKLAB_WORKSPACE", str(tmp_path / "workspace"))
    (tmp_path / "workspace").mkdir()
    (tmp_path / "elsewhere.py").write_text("print(1)\n")
    code, _, err = run_cli(capsys, "run", "server", str(tmp_path / "elsewhere.py"))
    assert_one_line_error(code, err, "is not in the workspace")
    code, _, err = run_cli(capsys, "run", "server", str(tmp_path / "workspace" / "missing.py"))
    assert_one_line_error(code, err, "no file")


def test_the_result_table_loses_nothing_of_long_or_cjk_text():
    from rich.console import Console
    why = "粘包 goes both ways: the client's two send() calls are bytes in one stream"
    observed = "second read began with " + "41" * 40
    result = Result("x", {}, [Step("k", "two quick commands", True, "e", observed, why)])
    console = Console(width=140, record=True)
    console.print(report.result_table(result))
    rows = [line.split("│") for line in console.export_text().splitlines() if line.startswith("│")]
    column = lambda i: "".join("".join(cells[i].split()) for cells in rows)  # a cell's lines, joined
    assert "…" not in console.export_text()
    assert column(4) == "".join(observed.split()) and column(5) == "".join(why.split())


class Marked:
    """A catalog that marks every message it translates: ⟦…⟧ in the output shows a sentence went through _()."""

    def gettext(self, message):
        return f"⟦{message}⟧"


def fake_lab(monkeypatch, **node_methods):
    """cli.Lab replaced by a lab whose every node has the given methods."""
    class Node:
        name = "server"
    for name, method in node_methods.items():
        setattr(Node, name, staticmethod(method))

    class Lab:
        def __init__(self, project, *args, **kwargs):
            pass

        def node(self, name):
            Node.name = name
            return Node()
    monkeypatch.setattr(cli, "Lab", Lab)


def test_run_finds_a_file_relative_to_the_workspace_as_the_nodes_shell_would(capsys, monkeypatch, tmp_path):
    home = tmp_path / "workspace"
    (home / "lesson").mkdir(parents=True)
    (home / "tcp_echo_client.py").write_text("print(1)\n")
    (home / "lesson" / "client.py").write_text("print(2)\n")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.setenv("SOCKLAB_WORKSPACE", str(home))
    monkeypatch.chdir(tmp_path / "elsewhere")
    fake_lab(monkeypatch)
    ran = []
    monkeypatch.setattr(cli, "live", lambda node, argv, detach, root: ran.append(argv) or 0)
    for given, inside in [("tcp_echo_client.py", "/workspace/tcp_echo_client.py"),
                          ("lesson/client.py", "/workspace/lesson/client.py"),
                          ("/workspace/tcp_echo_client.py", "/workspace/tcp_echo_client.py"),
                          (str(home / "lesson" / "client.py"), "/workspace/lesson/client.py")]:
        code, _, err = run_cli(capsys, "run", "client1", given, "server", "9100")
        assert code == 0, err
        assert ran.pop() == ["python3", "-u", inside, "server", "9100"]
    (tmp_path / "elsewhere" / "tcp_echo_client.py").write_text("print(3)\n")  # here first, as any path is
    code, _, err = run_cli(capsys, "run", "client1", "tcp_echo_client.py")
    assert_one_line_error(code, err, "is not in the workspace")
    code, _, err = run_cli(capsys, "run", "client1", "no_such.py")
    assert_one_line_error(code, err, "no file no_such.py, neither here nor in the workspace")
    code, _, err = run_cli(capsys, "run", "client1", "/workspace/no_such.py")
    assert_one_line_error(code, err, "no file /workspace/no_such.py in the workspace")


def test_clear_says_what_it_lifted_in_words(capsys, monkeypatch):
    lifted = [{"fault": "impair", "delay_ms": 50, "jitter_ms": 5, "loss": 10.0, "rate_kbit": 0, "passed": 1200,
               "dropped": 130}]
    fake_lab(monkeypatch, clear=lambda: lifted)
    code, _, err = run_cli(capsys, "clear", "server")
    assert code == 0 and err == ("server: cleared delay 50 ms, jitter ±5 ms, loss 10% (1200 packets let through, "
                                 "130 dropped)\n")
    lifted[:] = [{"fault": "impair", "delay_ms": 0, "jitter_ms": 0, "loss": 0.0, "rate_kbit": 1000, "passed": 0,
                  "dropped": 0}]
    assert run_cli(capsys, "clear", "server")[2] == "server: cleared rate 1000 kbit/s\n"
    lifted[:] = []
    assert run_cli(capsys, "clear", "server")[2] == "server: nothing to clear\n"
    lifted[:] = [{"fault": "impair", "delay_ms": 50, "loss": 0.5, "passed": 9, "dropped": 0}]
    monkeypatch.setattr(cli.i18n, "translation", lambda lang: Marked())
    err = run_cli(capsys, "clear", "server")[2]
    assert err == "⟦server: cleared ⟦⟦delay 50 ms⟧⟦, ⟧⟦loss 0.5%⟧ (9 packets let through, 0 dropped)⟧⟧\n", err


def test_stop_says_why_it_stopped_nothing_in_the_users_language(capsys, monkeypatch):
    ended = {"id": 3, "argv": ["python3", "-u", "/workspace/x.py"], "pid": 41, "state": "exited 1", "exit_code": 1}
    answers = {("3",): {"stopped": [], "refused": "ended", "program": ended},
               ("7",): {"stopped": [], "refused": "unknown", "id": 7, "known": [1, 3]}, (): {"stopped": [1, 3]}}
    fake_lab(monkeypatch, program=lambda name, *args, **kw: answers[tuple(map(str, args[1:]))])
    code, _, err = run_cli(capsys, "stop", "worker1", "3")
    assert_one_line_error(code, err, "program 3 (python3 -u /workspace/x.py) on worker1 has already ended (exited 1); "
                                     "`socklab logs worker1 3` shows its output")
    code, _, err = run_cli(capsys, "stop", "worker1", "7")
    assert_one_line_error(code, err, "no program 7 on worker1; there are 1, 3")
    assert run_cli(capsys, "stop", "worker1")[2] == "stopped 1, 3 on worker1\n"
    monkeypatch.setattr(cli.i18n, "translation", lambda lang: Marked())
    err = run_cli(capsys, "stop", "worker1", "3")[2]
    assert "⟦program 3 (python3 -u /workspace/x.py) on worker1" in err and "(⟦exited 1⟧)" in err and "NODE" not in err


def test_the_node_program_says_why_in_fields_not_in_english(monkeypatch, tmp_path):
    import argparse

    from nodes import programs
    monkeypatch.setattr(programs, "PROGRAMS", str(tmp_path))
    (tmp_path / "1").mkdir()
    (tmp_path / "1" / "argv.json").write_text('["sleep", "1"]')
    (tmp_path / "1" / "exit").write_text("-15")
    assert programs.stop(argparse.Namespace(id=1)) == {
        "stopped": [], "refused": "ended", "program": programs.describe(tmp_path / "1")}
    assert programs.stop(argparse.Namespace(id=2)) == {"stopped": [], "refused": "unknown", "id": 2, "known": [1]}
    assert programs.stop(argparse.Namespace(id=None)) == {"stopped": []}


def test_tables_follow_columns_with_a_minimum_even_off_a_terminal():
    import io
    assert cli.width(io.StringIO(), {"COLUMNS": "90"}) == 90
    assert cli.width(io.StringIO(), {"COLUMNS": "20"}) == cli.MIN_WIDTH
    assert cli.width(io.StringIO(), {}) == cli.PIPE_WIDTH


def test_columns_90_gives_a_table_at_most_90_wide(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from rich.cells import cell_len
    script = ("from orchestrator import cli, report\nfrom orchestrator.result import Result, Step\n"
              "why = 'the client\\'s two send() calls are bytes in one stream: UdpRcvbufErrors ' * 4\n"
              "cli.out.print(report.result_table(Result('x', {}, [Step('k', 'two quick commands', False, 'e', "
              "'o' * 300, why)])))\n")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=root,
                          env={**os.environ, "COLUMNS": "90", "PYTHONPATH": str(root)})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) > 5 and max(cell_len(line) for line in lines) <= 90, done.stdout
