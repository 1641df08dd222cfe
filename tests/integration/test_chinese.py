"""socklab in Chinese on a real lab, as a learner with a Chinese locale meets it: the sticky lesson explains
粘包 with this run's numbers in its table, its JSON and its report; an exercise's hints come in Chinese."""
import json
import os
import re
import subprocess
from pathlib import Path

from tests.integration.conftest import PROJECT

ROOT = Path(__file__).resolve().parents[2]


def socklab(*args, env=None):
    environ = {key: value for key, value in os.environ.items() if key not in ("SOCKLAB_LANG", "LANGUAGE", "LC_ALL")}
    return subprocess.run([str(ROOT / ".venv/bin/socklab"), "--project", PROJECT, *map(str, args)],
                          capture_output=True, text=True, timeout=600, env={**environ, **(env or {})})


def saved(stderr):
    """The result.json and page of the run whose report path the CLI printed."""
    page = Path(re.search(r"报告：(\S+index\.html)", stderr).group(1))
    return json.loads((page.parent / "result.json").read_text()), page.read_text()


def test_a_chinese_locale_explains_sticky_packets_with_the_measured_numbers(lab):
    done = socklab("scenario", "sticky", env={"LANG": "zh_CN.UTF-8"})
    assert done.returncode == 0, done.stderr[-2000:]
    result, page = saved(done.stderr)
    assert result["lang"] == "zh" and result["passed"]
    merge = next(step for step in result["steps"] if step["key"] == "tcp-merge-nagle")
    segments = merge["facts"]["segments"]
    assert "粘包" in merge["name"] and "报文段" in merge["why"] and "缓冲区" in merge["why"]
    assert f"{len(segments)} 个报文段 {segments}" in merge["why"], merge["why"]  # this run's numbers, said in Chinese
    assert f"recv({result['params']['bufsize']})" in merge["why"]
    leftover = next(step for step in result["steps"] if step["key"] == "tcp-leftover")
    assert "粘包" in leftover["why"] and str(leftover["facts"]["leftover_in_second_read"]) in leftover["observed"]
    assert set(merge["facts"]) >= {"sends", "segments", "recvs"}  # facts keep their language-neutral keys
    for words in ("步骤", "预期", "实测", "原因", "粘包", "通过"):
        assert words in done.stdout, words
    assert '<html lang="zh-CN">' in page and "粘包" in page and "报文段" in page


def test_check_framing_gives_its_hints_in_chinese(lab):
    bug = ROOT / "exercises/framing/bugs/no_recv_loop.py"
    done = socklab("check", "framing", "--server", bug, "--lang", "zh")
    assert done.returncode == 1, done.stderr[-2000:]
    result, page = saved(done.stderr)
    sizes = next(step for step in result["steps"] if step["key"] == "sizes")
    assert result["lang"] == "zh" and not sizes["passed"]
    assert "粘包" in sizes["hint"] and "循环" in sizes["hint"] and "recv_exactly(conn, n)" in sizes["hint"]
    assert "提示" in done.stdout and "未通过" in done.stdout
    assert "提示：" in page and "缺了循环" in page
