"""Which language socklab speaks, and that it speaks it everywhere: CLI help and errors, tables, pages."""
import io
import json
import os

import pytest
from rich.cells import cell_len
from rich.console import Console

from orchestrator import cli, i18n, report
from orchestrator.result import Result, Step
from tests.unit.conftest import chinese_result, run_cli


@pytest.mark.parametrize("environ,lang", [
    ({}, "en"), ({"LANG": "zh_CN.UTF-8"}, "zh"), ({"LANG": "en_US.UTF-8"}, "en"), ({"LANG": "C.UTF-8"}, "en"),
    ({"LC_ALL": "zh_TW.UTF-8", "LANG": "en_US.UTF-8"}, "zh"), ({"LC_ALL": "C", "LANG": "zh_CN.UTF-8"}, "en"),
    ({"LANGUAGE": "zh_CN:en", "LANG": "C"}, "zh"), ({"LANGUAGE": "en_GB:zh_CN", "LANG": "zh_CN.UTF-8"}, "en"),
    ({"SOCKLAB_LANG": "en", "LANG": "zh_CN.UTF-8"}, "en"), ({"SOCKLAB_LANG": "zh"}, "zh"),
    ({"SOCKLAB_LANG": "zh-CN.UTF-8"}, "zh")])
def test_the_language_comes_from_socklab_lang_then_the_locale(environ, lang):
    assert i18n.from_environment(environ) == lang


def chosen(*argv, environ=None):
    return cli.language(cli.parser().parse_args(list(argv)), environ or {})


def test_lang_goes_before_or_after_the_command_but_never_among_a_programs_arguments():
    assert chosen("--lang", "zh", "ps") == "zh"
    assert chosen("check", "framing", "--server", "x.py", "--lang=zh") == "zh"
    assert chosen("--lang", "en", "ps", environ={"LANG": "zh_CN.UTF-8"}) == "en"
    assert chosen("ps", environ={"LANG": "zh_CN.UTF-8"}) == "zh"
    assert chosen("exec", "server", "--", "python3", "x.py", "--lang", "zh") == "en"
    assert chosen("run", "server", "workspace/x.py", "--lang", "zh") == "en"  # the learner's program's argument
    assert chosen("--lang", "zh", "run", "server", "workspace/x.py", "--lang", "en") == "zh"
    assert cli.guessed_language(["--lang", "fr", "--lang", "zh", "ps"]) == "zh"
    assert cli.guessed_language(["exec", "server", "--", "x", "--lang", "zh"]) is None


def test_the_lang_option_is_never_abbreviated(capsys):
    code, _, err = run_cli(capsys, "--la", "zh", "ps")
    assert code == 2 and "--la" in err


def test_a_language_socklab_does_not_speak_is_one_line(capsys, monkeypatch):
    code, _, err = run_cli(capsys, "--lang", "fr", "ps")
    assert code == 2 and err.count("\n") == 1 and "'fr'" in err and "Traceback" not in err
    code, _, err = run_cli(capsys, "run", "server", "workspace/x.py", "--lang", "fr", "--lang=zz")
    assert "language" not in err  # a program's own arguments are not socklab's
    monkeypatch.setenv("SOCKLAB_LANG", "klingon")
    code, _, err = run_cli(capsys, "ps")
    assert code == 2 and err.count("\n") == 1 and "'klingon'" in err


def test_help_speaks_chinese_with_argparse_own_words(capsys):
    code, out, _ = run_cli(capsys, "--lang", "zh", "--help")
    assert code == 0
    assert out.startswith("用法：") and "选项" in out and "显示帮助信息并退出" in out and "构建缺少的镜像" in out
    code, out, _ = run_cli(capsys, "check", "--help", "--lang", "zh")
    assert code == 0 and "学员写的服务端程序" in out


def test_errors_speak_chinese_in_one_line(capsys):
    code, _, err = run_cli(capsys, "scenario", "sticky", "--set", "bufsize=0", "--lang", "zh")
    assert code == 2 and err.count("\n") == 1 and err.startswith("socklab：错误：")
    assert "1 到 65536 之间的整数" in err and "bufsize" in err
    code, _, err = run_cli(capsys, "--lang", "zh", "nosuchcommand")  # argparse's own errors too
    assert code == 2 and "错误" in err and "无效的选择" in err


def test_english_output_is_english(capsys):
    code, out, _ = run_cli(capsys, "--help")
    assert code == 0 and out.startswith("usage: ") and "build what is missing and start the lab" in out


def test_a_result_records_its_language():
    assert chinese_result().to_dict()["lang"] == "zh"
    assert Result("ping", {}, [Step("k", "n", True, "e", "o", "w")]).to_dict()["lang"] == "en"


@pytest.mark.parametrize("width", [80, 100, 140])
def test_tables_stay_aligned_with_chinese_text(width):
    console = Console(file=io.StringIO(), width=width, record=True, color_system=None)
    with i18n.using("zh"):
        console.print(report.result_table(chinese_result()))
    lines = [line for line in console.export_text().splitlines() if line.strip()]
    framed = [line for line in lines if line[:1] in "┏┃┡│├└"]
    assert len(framed) > 6 and {cell_len(line) for line in framed} == {width}, lines
    text = "\n".join(lines)
    assert "步骤" in text and "预期" in text and "实测" in text and "原因" in text and "提示" in text
    assert "粘包" in text and "未通过" in text


def test_a_chinese_result_gives_a_chinese_page_and_json(tmp_path):
    page = report.save_result(chinese_result(), tmp_path)
    html = page.read_text()
    assert '<html lang="zh-CN">' in html and "预期" in html and "实测" in html and "未通过" in html and "粘包" in html
    assert json.loads((page.parent / "result.json").read_text())["lang"] == "zh"
    index = (tmp_path / "index.html").read_text()
    assert '<html lang="en">' in index and "every run" in index  # the list speaks the language in use


def wire_step():
    return Step("tcp-merge-nagle", "1 TCP 粘包", True, "e", "o", "w",
                {"sends": [40] * 4, "segments": [40, 120], "recvs": [160], "reads": 1, "messages": 4})


def test_pictures_draw_chinese_in_a_cjk_font(monkeypatch):
    import warnings

    from orchestrator import pictures
    from orchestrator.pictures import _draw
    font = _draw.cjk_font()
    if font is None:
        assert os.environ.get("CI") != "true", "CI installs fonts-noto-cjk (make host)"
        pytest.skip("no CJK font on this host: `make host` installs fonts-noto-cjk")
    with i18n.using("zh"), warnings.catch_warnings():
        warnings.simplefilter("error")  # a glyph missing from every font is a warning: here, a failure
        picture = pictures.for_step("sticky", wire_step())
        assert pictures.font_notice() == ""
    assert font in picture.data and "报文段" in picture.data and "报文段" in picture.alt


def test_without_a_cjk_font_pictures_fall_back_to_english_with_a_notice(monkeypatch, tmp_path):
    from orchestrator import pictures
    from orchestrator.pictures import _draw
    monkeypatch.setattr(_draw, "cjk_font", lambda: None)
    with i18n.using("zh"):
        picture = pictures.for_step("sticky", wire_step())
        notice = pictures.font_notice()
        assert i18n.current() == "zh"  # only the picture spoke English
    assert "fonts-noto-cjk" in notice and "英文" in notice and notice.count("\n") == 0
    assert "segments" in picture.alt and not any("\u4e00" <= char <= "\u9fff" for char in picture.data), picture.alt
    page = report.save_result(chinese_result(), tmp_path).read_text()
    assert notice in page
    with i18n.using("en"):
        assert pictures.font_notice() == ""


def test_english_pictures_keep_their_fonts():
    from orchestrator import pictures
    picture = pictures.for_step("sticky", wire_step())
    assert "CJK" not in picture.data and "DejaVu Sans" in picture.data and "sans-serif" in picture.data


def test_the_cli_says_once_when_pictures_fall_back_to_english(capsys, monkeypatch):
    from orchestrator.pictures import _draw
    monkeypatch.setattr(_draw, "cjk_font", lambda: None)
    with i18n.using("zh"):
        cli.tell_report("reports/x/index.html")
    err = capsys.readouterr().err
    assert err.startswith("报告：reports/x/index.html") and err.count("\n") == 2 and "fonts-noto-cjk" in err
    cli.tell_report("reports/x/index.html")  # English: nothing to fall back from
    assert capsys.readouterr().err.count("\n") == 1
