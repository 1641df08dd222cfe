"""The Makefile's promises to a fresh host, run with a PATH of stand-ins: what is missing is looked for by
what it does (a chromium, a tmux, a Chinese font), installed with Debian's apt as root, else said in a line."""
import os
import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAKE = shutil.which("make")


def host(tmp_path, uid, sudo_works=False, apt=True, tools=()):
    """`make host` where only `tools` (names) exist and no Chinese font, as uid, with or without sudo or apt."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    scripts = {"id": f"echo {uid}", "sudo": "exit 0" if sudo_works else "exit 1",
               **({"apt-get": f"echo apt-get \"$@\" >> {tmp_path}/apt.log"} if apt else {}),
               **{tool: "exit 0" for tool in tools}}
    for name, body in scripts.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    (bin_dir / "find").symlink_to(shutil.which("find"))
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("MAKE")}, "PATH": str(bin_dir)}
    return subprocess.run([MAKE, "--no-print-directory", "-s", "host", f"FONT_DIRS={tmp_path}/fonts"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)


def ours(stderr):
    return [line for line in stderr.splitlines() if not re.match(r"make(\[\d+\])?: \*\*\*", line)]  # make's own


def test_without_root_or_sudo_host_says_what_to_install_in_one_line_and_fails(tmp_path):
    done = host(tmp_path, 1000)
    assert done.returncode != 0 and len(ours(done.stderr)) == 1, done.stderr
    assert "chromium" in done.stderr and "tmux" in done.stderr and "fonts-noto-cjk" in done.stderr
    assert not (tmp_path / "apt.log").exists(), "nothing was tried"


def test_as_root_host_installs_only_what_is_missing(tmp_path):
    done = host(tmp_path, 0, tools=["chromium-browser"])  # Ubuntu's name: it is there
    assert done.returncode == 0, done.stderr
    installed = (tmp_path / "apt.log").read_text()
    assert "install" in installed and "tmux" in installed and "fonts-noto-cjk" in installed
    assert "chromium" not in installed


def test_a_host_without_apt_that_has_everything_passes_and_one_that_lacks_says_so(tmp_path):
    fonts = tmp_path / "fonts" / "opentype"
    fonts.mkdir(parents=True)
    (fonts / "NotoSansCJK-Regular.ttc").write_bytes(b"")
    assert host(tmp_path, 1000, apt=False, tools=["chromium", "tmux", "docker-registry"]).returncode == 0
    (fonts / "NotoSansCJK-Regular.ttc").unlink()
    (tmp_path / "bin").rename(tmp_path / "bin-before")
    done = host(tmp_path, 0, apt=False, tools=["chromium", "tmux", "docker-registry"])
    assert done.returncode != 0 and ours(done.stderr) == [
        "host: the tests need fonts-noto-cjk (Debian's names): install them with your package manager, then run "
        "make test again"]


def test_make_test_runs_host_before_any_test():
    plan = subprocess.run([MAKE, "-n", "test"], cwd=ROOT, capture_output=True, text=True).stdout
    assert plan.index("command -v chromium") < plan.index("pytest")
