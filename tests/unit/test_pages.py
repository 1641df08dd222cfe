"""The HTML report without a browser: a folder per run, a card per step with its picture and facts, the
list of runs newest first, `socklab report`, and escaping of whatever a program printed."""
import json
from html.parser import HTMLParser

from orchestrator import facts, pages, pictures, report
from orchestrator.result import Result, Step
from tests.unit.conftest import assert_one_line_error, run_cli

WIRE = {"nagle": {"send_calls": [40] * 5, "segments": [40, 160], "recv_chunks": [200]},
        "nodelay": {"send_calls": [40] * 5, "segments": [40] * 5, "recv_chunks": [120, 80]}}


class Cards(HTMLParser):
    """The step cards of a page: key, whether each has a picture (an SVG or an img) with alt text, whether its
    facts table is folded (in a <details>) or shown, and the table's rows as text."""

    def __init__(self):
        super().__init__()
        self.cards, self.links, self.scripts, self.open, self.cell = [], [], 0, [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.open.append(tag)
        if tag == "section" and "data-key" in attrs:
            self.cards.append({"key": attrs["data-key"], "svg": False, "alt": "", "facts": None, "folded": False,
                               "rows": []})
        elif tag == "svg" and self.cards:
            self.cards[-1]["svg"] = True
        elif tag == "div" and attrs.get("role") == "img" and self.cards:
            self.cards[-1]["alt"] = attrs.get("aria-label", "")
        elif tag == "table" and "facts" in attrs.get("class", "") and self.cards:
            self.cards[-1]["facts"], self.cards[-1]["folded"] = True, "details" in self.open
        elif tag == "tr" and self.cards and self.cards[-1]["facts"]:
            self.cards[-1]["rows"].append("")
        elif tag == "a":
            self.links.append(attrs.get("href"))
        elif tag == "script":
            self.scripts += 1

    def handle_endtag(self, tag):
        while self.open and self.open.pop() != tag:
            pass

    def handle_data(self, data):
        if self.cards and self.cards[-1]["rows"] and "tr" in self.open:
            self.cards[-1]["rows"][-1] += data + " "


def result(name="sticky", passed=True):
    steps = [Step("wire-view", "5 on the wire", passed, "e", "o", "w", WIRE),
             Step("odd", "6 <b>odd</b> & output", False, "e", "printed <script>alert(1)</script>", "w", {"n": 3},
                  files={"pcap": b"\xd4\xc3\xb2\xa1"})]
    return Result(name, {"count": 20}, steps, "2026-11-27T10:00:00+00:00", 2.5)


def test_a_run_is_a_folder_with_its_page_json_and_files(tmp_path):
    page = report.save_result(result(), tmp_path)
    folder = page.parent
    assert page.name == "index.html" and folder.parent == tmp_path
    assert {p.name for p in folder.iterdir()} == {"index.html", "result.json", "odd.pcap"}
    saved = json.loads((folder / "result.json").read_text())
    assert saved["kind"] == "scenario" and saved["scenario"] == saved["name"]
    assert saved["steps"][1]["artifacts"] == {"pcap": str(folder / "odd.pcap")} and "pcap" not in saved["steps"][1]["facts"]
    parser = Cards()
    parser.feed(page.read_text())
    assert [c["key"] for c in parser.cards] == ["wire-view", "odd"]
    drawn, plain = parser.cards
    assert drawn["svg"] and drawn["alt"] and drawn["facts"] and drawn["folded"], drawn
    assert not plain["svg"] and plain["facts"] and not plain["folded"], "no drawing: the facts, shown"
    assert parser.scripts == 0, "a program's output is escaped, never run"
    assert "odd.pcap" in parser.links and "result.json" in parser.links and "../index.html" in parser.links


def test_the_sticky_picture_is_the_three_rows():
    picture = pictures.for_step("sticky", result().steps[0])
    assert "<svg" in picture.data and "5 send() calls, 2 TCP segments, 1 recv() chunks" in picture.alt


ECHO = {"port": 9500, "messages": 20, "echoed": True, "seconds": 0.0412, "sent": b"".hex(),
        "record": {"signal": 9, "exit_code": None, "stderr": "Traceback …\nZeroDivisionError: division by zero"},
        "sizes": list(range(30)), "lost": [], "rate": {"mb_s": 1.5}}


def test_a_step_without_a_drawer_shows_its_facts_as_a_table_not_bars(tmp_path):
    step = Step("k", "a step", False, "e", "o", "w", ECHO)
    assert pictures.for_step("nope", step) is None, "no bars of a port beside seconds"
    rows = {row["key"]: (row["label"], row["value"]) for row in facts.rows(ECHO)}
    assert rows["port"] == ("", "9500") and rows["echoed"] == ("", "yes") and rows["seconds"] == ("", "0.0412")
    assert rows["record.signal"] == ("", "9") and rows["record.exit_code"] == ("exit code", "—")
    assert rows["record.stderr"][1].endswith("division by zero") and rows["rate.mb_s"][1] == "1.5"
    assert rows["sizes"][1] == "0, 1, 2, 3, 4, 5, 6, 7, 8, 9 … (30 in all)" and rows["lost"][1] == "none"
    parser = Cards()
    parser.feed(report.save_result(Result("nope", {}, [step]), tmp_path).read_text())
    card = parser.cards[0]
    assert not card["svg"] and card["facts"] and not card["folded"]
    assert any("exit code" in row and "record.exit_code" in row for row in card["rows"]), card["rows"]


def test_fact_labels_speak_the_language_of_the_run():
    from orchestrator import i18n
    with i18n.using("zh"):
        rows = {row["key"]: row for row in facts.rows({"record": {"exit_code": 1}})}
    assert rows["record.exit_code"]["label"] == "退出码"


def test_facts_of_another_shape_are_shown_and_the_failed_drawing_is_logged(caplog):
    with caplog.at_level("WARNING", logger="orchestrator.pictures"):
        picture = pictures.for_step("sticky", Step("wire-view", "w", True, "e", "o", "w", {"nagle": {}, "n": 1}))
    assert picture is None
    assert "wire-view" in caplog.text and "sticky" in caplog.text and "KeyError" in caplog.text


def test_a_failed_drawing_is_said_on_the_page_too(tmp_path):
    odd = Result("sticky", {}, [Step("wire-view", "w", True, "e", "o", "w", {"nagle": {}, "n": 1})])
    page = report.save_result(odd, tmp_path).read_text()
    assert 'class="problem"' in page and "could not be drawn from its facts (KeyError" in page


def test_a_drawer_module_that_fails_to_import_is_not_a_lesson_without_pictures(monkeypatch):
    import importlib

    import pytest

    def broken(name):
        raise ModuleNotFoundError("No module named 'seaborn'", name="seaborn")
    monkeypatch.setattr(importlib, "import_module", broken)
    with pytest.raises(ModuleNotFoundError):
        pictures.drawers("sticky")


def test_the_list_of_runs_is_newest_first(tmp_path):
    report.save_result(result("sticky"), tmp_path)
    later = result("ping", passed=False)
    later.started = "2026-11-27T11:00:00+00:00"
    later.kind = "check"
    report.save_result(later, tmp_path)
    runs = pages.runs(tmp_path)
    assert [(r["name"], r["kind"], r["passed"]) for r in runs] == [("ping", "check", False), ("sticky", "scenario", False)]
    assert "ping-" in (tmp_path / "index.html").read_text()


def test_socklab_report_prints_the_page(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(report, "REPORTS", tmp_path)
    code, _, err = run_cli(capsys, "report")
    assert_one_line_error(code, err, "no reports yet")
    page = report.save_result(result(), tmp_path)
    code, out, _ = run_cli(capsys, "report", page.parent.name)
    assert code == 0 and out.strip() == str(page)
    code, out, _ = run_cli(capsys, "report")
    assert code == 0 and out.strip() == str(tmp_path / "index.html")
    code, _, err = run_cli(capsys, "report", "nope-1")
    assert_one_line_error(code, err, "unknown run 'nope-1'")


def test_pictures_of_the_other_lessons_from_their_facts():
    def alt(name, key, facts):
        picture = pictures.for_step(name, Step(key, key, True, "e", "o", "w", facts))
        assert "<svg" in picture.data
        return picture.alt
    assert "with sleep as PID 1, 5 zombies left" in alt("processes", "pid1-reaps", {
        "orphans": 5, "zombies_with_init": 0, "zombies_without_init": 5,
        "pid1_with_init": "/sbin/docker-init -- python3 -m nodes.boot", "pid1_without_init": "sleep infinity"})
    runs = {"framed": {"p50_ms": 3.0, "p95_ms": 9.5}, "ssh": {"p50_ms": 11.6, "p95_ms": 21.3}, "runs": 4,
            "samples_ms": {"framed": [2.9, 3.0, 3.1, 9.5], "ssh": [11.0, 11.6, 12.0, 21.3]}}
    assert "every run drawn as a point" in alt("remote-exec", "framed-vs-ssh", {"true": runs})
    buyers = [{"pid": n, "bought": True, "wait": 0.0, "read": 0.01 * n, "decide": 0.1 + 0.01 * n,
               "write": 0.1 + 0.01 * n} for n in range(3)]
    assert "2 oversold (marked X)" in alt("lock", "local-oversold", {
        "timeline": buyers, "lock": False, "buyers": 3, "tickets": 1, "successful_buyers": 3, "oversold": 2})
    models = {m: {"seconds": 0.2, "requests": [[0, 200], [1, 201]]} for m in ("iterative", "threads")}
    assert "iterative: all answered after 0.2 s" in alt("concurrency", "io-bound-models", {"models": models})


def test_frames_over_reads_and_the_crash_timeline():
    picture = pictures.for_step("sticky", Step("framing-fix", "f", True, "e", "o", "w", {
        "wire_sizes": [100, 5000, 60], "reads": [50, 4000, 1110], "delivered_intact": 3,
        "link": {"delay_ms": 10, "loss_percent": 2}}))
    assert "3 frames (5160 bytes on the wire) against 3 reads" in picture.alt
    completed = [[0, "a/1", 0.1], [1, "b/2", 0.2], [2, "a/1", 0.3], [3, "a/1", 1.4]]
    picture = pictures.for_step("queue", Step("crash-leases-keep", "c", True, "e", "o", "w", {
        "killed": "worker2", "completed": completed, "survivors": [{"consumer": "a/1"}], "redelivered": 1,
        "checker": {"distinct_consumed": 4, "produced": 4, "lost": []}}))
    assert "worker2 killed after its last completion" in picture.alt and "redelivered 1" in picture.alt


def test_a_decoder_knows_each_frames_size_on_the_wire():
    from nodes.lib import framing
    data = framing.encode(b"x" * 300) + framing.encode(b"")
    decoder = framing.Decoder()
    frames = [f for i in range(0, len(data), 7) for f in decoder.feed(data[i:i + 7])]
    assert [f.wire for f in frames] == [len(framing.encode(b"x" * 300)), len(framing.encode(b""))]
    assert [f.wire for f in framing.Decoder().feed(data)] == [f.wire for f in frames]


def test_what_a_program_printed_is_text_everywhere(tmp_path):
    step = Step("odd", "odd", False, "e", r"got $\frac{1}{0}$ and [/x] and [b'\x00']", "w", {"left": {}})
    assert pictures.for_step("nope", step) is None
    from rich.console import Console
    console = Console(record=True, width=200)
    console.print(report.result_table(Result("x", {}, [step])))  # no markup from it either
    shown = console.export_text()
    assert "[/x]" in shown and "[b'\\x00']" in shown
    page = report.save_result(Result("x", {}, [step]), tmp_path).read_text()
    assert 'content: "✓ "' in page and "details > summary" in page, "the style is not escaped"


def test_an_empty_message_with_no_echo_has_no_picture_of_zero_bytes():
    failed = {"messages": 4, "echoed": 0, "failure": {"index": 0, "size": 0, "verdict": "closed"}}
    assert pictures.for_step("framing", Step("byte-writes", "b", False, "e", "o", "w", failed)) is None
    failed["failure"]["size"] = 5
    assert pictures.for_step("framing", Step("byte-writes", "b", False, "e", "o", "w", failed)) is not None


def test_a_run_on_a_swarm_says_each_nodes_machine(tmp_path):
    on_swarm = result()
    on_swarm.engine, on_swarm.machines = "swarm", {"server": "engine1", "client1": "engine2"}
    page = report.save_result(on_swarm, tmp_path)
    assert "on a swarm" in page.read_text() and "<code>client1</code> engine2" in page.read_text()
    assert json.loads((page.parent / "result.json").read_text())["machines"] == on_swarm.machines
    assert "on a swarm" not in report.save_result(result(), tmp_path / "compose").read_text()
