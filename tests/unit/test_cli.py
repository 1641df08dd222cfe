"""The CLI's promise: a failure is one line on stderr and a non-zero exit, never a traceback."""
import json

import docker
import docker.errors
import pytest

from orchestrator import cli, report
from orchestrator.result import Result, Step


def run_cli(capsys, *argv):
    with pytest.raises(SystemExit) as exit_:
        cli.main(list(argv))
    captured = capsys.readouterr()
    return exit_.value.code, captured.out, captured.err


def assert_one_line_error(code, err, text):
    assert code == 2
    assert err.startswith("socklab: error: ") and err.count("\n") == 1 and text in err
    assert "Traceback" not in err


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
    assert_one_line_error(code, err, "cannot reach the Docker daemon")


def test_malformed_impair_value(capsys, monkeypatch):
    class Lab:
        def __init__(self, project):
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
