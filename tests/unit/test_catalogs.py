"""The Chinese catalog is complete and current: every message of the source has a translation whose
placeholders are the English ones, the compiled .mo is the .po compiled, and the glossary's checked terms
are followed. A missing, stale or broken translation fails here (run `make i18n`, then translate)."""
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


def glossary():
    """[(English terms, Chinese term)] of the glossary's rows marked ✔."""
    rows = []
    for line in (ROOT / "docs" / "glossary.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[3] == "✔":
            rows.append(([term.strip() for term in cells[0].split(",")], cells[1].split(" (")[0]))
    return rows


@pytest.mark.parametrize("english,chinese", glossary(), ids=lambda value: str(value))
def test_translations_follow_the_glossary(english, chinese):
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, english)) + r")\b", re.IGNORECASE)
    using = [m for m in catalog() if m.id and pattern.search(re.sub(r"\{[^{}]*\}|%\(\w+\)\w", "", m.id))]
    astray = [(m.id, m.string) for m in using if chinese not in m.string]
    assert using, f"no message says '{english[0]}': a glossary check that checks nothing"
    assert not astray, f"{len(astray)} translations of '{english[0]}' do not say {chinese}: {astray[:3]}"


def test_the_glossary_has_the_course_terms():
    terms = {chinese for _english, chinese in glossary()}
    text = (ROOT / "docs" / "glossary.md").read_text()
    for term in ("粘包", "报头", "套接字", "五层协议", "僵尸进程", "孤儿进程", "守护进程", "互斥锁", "队列",
                 "生产者消费者模型", "并发", "并行", "多道技术"):
        assert term in text, term
    assert {"粘包", "僵尸进程", "孤儿进程", "守护进程"} <= terms
