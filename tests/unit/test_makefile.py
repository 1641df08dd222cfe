"""The Makefile's promises to a fresh host, run against stand-ins for dpkg, id and sudo."""
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def host(tmp_path, uid, sudo_works):
    """`make host` where no package is installed, as uid, with or without a working sudo."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    scripts = {"dpkg": "exit 1", "id": f"echo {uid}", "sudo": "exit 0" if sudo_works else "exit 1",
               "apt-get": f"echo apt-get \"$@\" >> {tmp_path}/apt.log"}
    for name, body in scripts.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    return subprocess.run(["make", "--no-print-directory", "-s", "host"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


def test_without_root_or_sudo_host_says_what_to_install_in_one_line_and_fails(tmp_path):
    done = host(tmp_path, 1000, sudo_works=False)
    ours = [line for line in done.stderr.splitlines() if not line.startswith("make: ***")]  # make adds its own
    assert done.returncode != 0 and len(ours) == 1, done.stderr
    assert "chromium" in done.stderr and "tmux" in done.stderr and "fonts-noto-cjk" in done.stderr
    assert not (tmp_path / "apt.log").exists(), "nothing was tried"


def test_as_root_host_installs_what_is_missing(tmp_path):
    done = host(tmp_path, 0, sudo_works=False)
    assert done.returncode == 0, done.stderr
    installed = (tmp_path / "apt.log").read_text()
    assert "install" in installed and "chromium" in installed and "fonts-noto-cjk" in installed


def test_make_test_runs_host_before_any_test():
    plan = subprocess.run(["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True).stdout
    assert plan.index("dpkg -s") < plan.index("pytest")
