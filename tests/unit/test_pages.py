"""The HTML report without a browser: a folder per run, a card per step with its picture and facts, the
list of runs newest first, `socklab report`, and escaping of whatever a program printed."""
import json
from html.parser import HTMLParser

from orchestrator import pages, pictures, report
from orchestrator.result import Result, Step
from tests.unit.test_cli import assert_one_line_error, run_cli

WIRE = {"nagle": {"send_calls": [40] * 5, "segments": [40, 160], "recv_chunks": [200]},
        "nodelay": {"send_calls": [40] * 5, "segments": [40] * 5, "recv_chunks": [120, 80]}}


class Cards(HTMLParser):
    """The step cards of a page: key, and whether each has a picture (an SVG or an img) with alt text."""

    def __init__(self):
        super().__init__()
        self.cards, self.links, self.scripts = [], [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section" and "data-key" in attrs:
            self.cards.append({"key": attrs["data-key"], "svg": False, "alt": ""})
        elif tag == "svg" and self.cards:
            self.cards[-1]["svg"] = True
        elif tag == "div" and attrs.get("role") == "img" and self.cards:
            self.cards[-1]["alt"] = attrs.get("aria-label", "")
        elif tag == "a":
            self.links.append(attrs.get("href"))
        elif tag == "script":
            self.scripts += 1


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
    assert saved["kind"] == "scenario" and saved["steps"][1]["facts"]["pcap"] == str(folder / "odd.pcap")
    parser = Cards()
    parser.feed(page.read_text())
    assert [c["key"] for c in parser.cards] == ["wire-view", "odd"]
    assert all(c["svg"] and c["alt"] for c in parser.cards), parser.cards
    assert parser.scripts == 0, "a program's output is escaped, never run"
    assert "odd.pcap" in parser.links and "result.json" in parser.links and "../index.html" in parser.links


def test_the_sticky_picture_is_the_three_rows():
    picture = pictures.for_step("sticky", result().steps[0])
    assert picture.kind == "svg" and "5 send() calls, 2 TCP segments, 1 recv() chunks" in picture.alt


def test_a_step_without_a_drawer_shows_its_numbers():
    picture = pictures.for_step("nope", Step("k", "a step", True, "e", "o", "w", {"lost": 3, "rate": {"mb_s": 1.5}}))
    assert picture.kind == "svg" and "lost = 3" in picture.alt and "rate.mb_s = 1.5" in picture.alt


def test_facts_of_another_shape_fall_back_to_the_generic_picture():
    picture = pictures.for_step("sticky", Step("wire-view", "w", True, "e", "o", "w", {"nagle": {}, "n": 1}))
    assert "n = 1" in picture.alt


def test_the_list_of_runs_is_newest_first(tmp_path):
    report.save_result(result("sticky"), tmp_path)
    later = result("ping", passed=False)
    later.started = "2026-11-27T11:00:00+00:00"
    report.save_result(later, tmp_path, kind="check")
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
