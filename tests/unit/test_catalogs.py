"""The Chinese catalog is complete and current: every message of the source has a translation whose
placeholders are the English ones, the compiled .mo is the .po compiled, and the glossary's checked terms
are followed: one thing has one Chinese name. A missing, stale or broken translation fails here (run
`make i18n`, then translate)."""
import argparse
import io
import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from orchestrator import i18n

ROOT = Path(__file__).resolve().parents[2]
PO = i18n.LOCALE / "zh_CN" / "LC_MESSAGES" / "socklab.po"
MO = PO.with_suffix(".mo")


def catalog():
    with PO.open("rb") as file:
        return read_po(file)


def extracted():
    """{msgid: [where]} of every message marked in the source, as `make i18n` extracts them."""
    method_map, options_map = parse_mapping_cfg(io.StringIO((ROOT / "babel.cfg").read_text()))
    found = {}
    for path, line, message, _comments, _context in extract_from_dir(ROOT / "orchestrator", method_map,
                                                                      options_map):
        found.setdefault(message, []).append(f"{path}:{line}")
    return found


def placeholders(text):
    """The named `{field:spec}` and `%(name)s`/`%s` placeholders of a message, sorted."""
    braces = sorted(f"{name}:{spec}" for _literal, name, spec, _conv in string.Formatter().parse(text)
                    if name is not None)
    return braces, sorted(re.findall(r"%(?:\(\w+\))?[sdrf]", text))


def test_catalog_holds_exactly_the_messages_of_the_source():
    source = extracted()
    translated = {message.id for message in catalog() if message.id}
    missing = sorted(set(source) - translated)
    stale = sorted(translated - set(source))
    assert not missing, f"{len(missing)} messages are not in the catalog (run `make i18n`): " \
                        f"{[(m, source[m][0]) for m in missing[:5]]}"
    assert not stale, f"{len(stale)} messages of the catalog are no longer in the source (run `make i18n`): {stale[:5]}"


def test_every_message_has_a_chinese_translation():
    untranslated = [message.id for message in catalog() if message.id and (not message.string or message.fuzzy)]
    assert not untranslated, f"{len(untranslated)} messages lack a Chinese translation: {untranslated[:5]}"


def test_source_messages_use_named_placeholders_only():
    positional = [m for m in extracted() if any(name == "" or name.isdigit()
                                                for _l, name, _s, _c in string.Formatter().parse(m) if name is not None)]
    assert not positional, f"positional placeholders cannot be reordered by a translation: {positional[:5]}"


def test_translations_keep_the_placeholders():
    broken = [(m.id, m.string) for m in catalog() if m.id and m.string and placeholders(m.id) != placeholders(m.string)]
    assert not broken, f"{len(broken)} translations change the placeholders: {broken[:3]}"


def test_the_compiled_catalog_is_the_catalog():
    compiled = io.BytesIO()
    write_mo(compiled, catalog())
    assert MO.read_bytes() == compiled.getvalue(), "orchestrator/locale: the .mo is not the .po compiled: make i18n"


def glossary_rows(path=None):
    """The rows marked ✔ of the glossary's tables, as {"english": [words], "chinese": term, "not": [renderings]}.
    Each table is read by its header: the columns English, 中文, not… and checked, wherever they are."""
    rows, header = [], None
    for line in (path or ROOT / "docs" / "glossary.md").read_text().splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if header is None:
            header = {name.split(" ")[0]: index for index, name in enumerate(cells)}
            continue
        if len(cells) != len(header) or "checked" not in header or cells[header["checked"]] != "✔":
            continue
        rows.append({"english": [word.split(" (")[0].strip() for word in cells[header["English"]].split(",")],
                     "chinese": cells[header["中文"]].split(" (")[0],
                     "not": [word.strip() for word in cells[header["not"]].split(",") if word.strip()]
                            if "not" in header else []})
    return rows


def glossary():
    """[(English terms, Chinese term)] of the glossary's rows marked ✔."""
    return [(row["english"], row["chinese"]) for row in glossary_rows()]


def without_code(text):
    """text without its placeholders (`{name}`, `%(name)s`) and its `code` spans: code stays code."""
    return re.sub(r"`[^`]*`", "", re.sub(r"\{[^{}]*\}|%\(\w+\)\w", "", text))


CHINESE_DOCUMENTS = [ROOT / "README.zh-CN.md", ROOT / "workspace" / "README.zh-CN.md",
                     *sorted((ROOT / "exercises").glob("*/README.zh-CN.md"))]


@pytest.mark.parametrize("english,chinese", glossary(), ids=lambda value: str(value))
def test_translations_follow_the_glossary(english, chinese):
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, english)) + r")\b", re.IGNORECASE)
    using = [m for m in catalog() if m.id and pattern.search(without_code(m.id))]
    astray = [(m.id, m.string) for m in using  # an untranslated one fails the test of missing translations
              if m.string and chinese not in m.string]
    assert using, f"no message says '{english[0]}': a glossary check that checks nothing"
    assert not astray, f"{len(astray)} translations of '{english[0]}' do not say {chinese}: {astray[:3]}"


@pytest.mark.parametrize("row", [row for row in glossary_rows() if row["not"]], ids=lambda row: row["english"][0])
def test_a_checked_term_has_one_chinese_name(row):
    """A checked term is said one way: no translation and no Chinese document says a rendering the glossary
    rules out (the row's `not` column), so two names for one thing fail here, not in a learner's head."""
    assert row["chinese"] not in row["not"]
    astray = [(m.id, m.string, word) for m in catalog() if m.id and m.string for word in row["not"]
              if word in without_code(m.string)]
    assert not astray, f"{len(astray)} translations say {sorted({a[2] for a in astray})} " \
                       f"for '{row['english'][0]}', not {row['chinese']}: {astray[:3]}"
    for document in CHINESE_DOCUMENTS:
        if document.exists():
            text = without_code(document.read_text())
            said = [word for word in row["not"] if word in text]
            assert not said, f"{document.relative_to(ROOT)} says {said} for '{row['english'][0]}', not {row['chinese']}"


CJK = "\u3400-\u9fff\uff00-\uffef\u3000-\u303f"


def test_chinese_text_uses_full_width_colons():
    """In Chinese text a colon is full-width (：): a half-width one next to Chinese (outside code) is a slip."""
    half = re.compile(f"[{CJK}] *:|:[ ]*[{CJK}]")
    astray = [(m.id, m.string) for m in catalog() if m.id and m.string
              and half.search(re.sub(r"`[^`]*`", "", m.string))]
    assert not astray, f"{len(astray)} translations have ': ' in Chinese text, not '：': {astray[:3]}"


def test_check_and_scenario_explain_every_argument_in_chinese():
    """`socklab check --help` and `scenario --help` say what each argument is; in Chinese the learner is 学员
    and a --server / --client file is the learner's 服务端 / 客户端 program, not an English word in the prose."""
    from orchestrator import cli
    with i18n.using("zh"):
        commands = next(action for action in cli.parser()._actions
                        if isinstance(action, argparse._SubParsersAction)).choices
        for name in ("check", "scenario"):
            silent = [action.dest for action in commands[name]._actions if not action.help]
            assert not silent, f"socklab {name} --help says nothing about {silent}"
        roles = {action.dest: action.help for action in commands["check"]._actions if action.metavar == "FILE"}
    assert {"server", "client"} <= set(roles)
    assert "服务端" in roles["server"] and "客户端" in roles["client"]
    for text in roles.values():
        assert "学员" in text and "学习者" not in text and not re.search(r"server|client|learner", text), text


def test_usage_errors_read_naturally_in_chinese():
    """An unknown parameter says whose parameter it is (not 'unknown scenario'); a check without its file says
    which option takes it and that none was given."""
    from orchestrator import exercises
    from orchestrator.errors import LabError, UnknownName
    from orchestrator.i18n import N_
    with i18n.using("zh"):
        unknown = str(UnknownName(N_("parameter of scenario {scenario}"), "cont", ["count", "size"], scenario="sticky"))
        with pytest.raises(LabError) as raised:
            exercises.program(exercises.get("framing"), {role: None for role in exercises.ROLES})
        missing = str(raised.value)
    assert unknown == "场景 sticky 的参数 'cont' 不存在；可用的有：count, size", unknown
    assert missing == "check framing 需要 --server FILE（学员写的服务端程序），但没有给出文件", missing


def test_a_chinese_page_title_uses_a_full_width_colon(tmp_path):
    from orchestrator import report
    from tests.unit.conftest import chinese_result
    page = report.save_result(chinese_result(), tmp_path).read_text()
    title = re.search(r"<title>(.*?)</title>", page).group(1)
    assert "：" in title and ": " not in title, title


def code_blocks(path):
    """[[(code, comment)] per line] of the fenced code blocks of a Markdown file; comment is '' if none."""
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", path.read_text(), re.S | re.M)
    return [[tuple(part.rstrip() for part in (re.split(r"(?:^|\s)#\s", line, maxsplit=1) + [""])[:2])
             for line in block.splitlines()] for block in blocks]


@pytest.mark.parametrize("folder", sorted(p.parent.name for p in (ROOT / "exercises").glob("*/README.zh-CN.md")))
def test_chinese_readmes_keep_the_code_and_translate_its_comments(folder):
    """An exercise's Chinese README has the English README's code blocks, byte for byte but for the comments,
    and those comments are in Chinese (not left in English and explained in a paragraph after)."""
    english = code_blocks(ROOT / "exercises" / folder / "README.md")
    chinese = code_blocks(ROOT / "exercises" / folder / "README.zh-CN.md")
    assert [[code for code, _comment in block] for block in chinese] == \
           [[code for code, _comment in block] for block in english]
    for block_en, block_zh in zip(english, chinese):
        for (code, comment_en), (_code, comment_zh) in zip(block_en, block_zh):
            assert bool(comment_zh) == bool(comment_en), code
            assert not comment_zh or re.search(f"[{CJK}]", comment_zh), f"an English comment: {comment_zh}"


def test_the_glossary_has_the_course_terms():
    terms = {chinese for _english, chinese in glossary()}
    text = (ROOT / "docs" / "glossary.md").read_text()
    for term in ("粘包", "报头", "套接字", "五层协议", "僵尸进程", "孤儿进程", "守护进程", "互斥锁", "队列",
                 "生产者消费者模型", "并发", "并行", "多道技术"):
        assert term in text, term
    assert {"粘包", "僵尸进程", "孤儿进程", "守护进程"} <= terms
    assert {"网络分区", "竞态条件", "带报头", "加报头", "购票者", "退出码", "终止状态", "学员"} <= terms
