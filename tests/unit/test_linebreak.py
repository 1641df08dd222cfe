"""The terminal's result table breaks lines as a reader expects, in English and Chinese: at spaces, between
Chinese characters, never inside a Latin word that fits, never with `，` first on a line; and under a failed
step, the end of what its program wrote on stderr."""
import io
import re

import pytest
from rich.cells import cell_len
from rich.console import Console

from orchestrator import i18n, report
from orchestrator.linebreak import CLOSING, OPENING, Wrapped, spans
from orchestrator.result import Result, Step

ENGLISH = Step("tcp-merge-nagle", "TCP sticky packets, Nagle on", True,
               "20 send() calls: fewer segments on the wire than sends, as AF_PACKET sees them",
               "20 send → 3 segments → 2 recv(n) calls; UdpRcvbufErrors stayed 0; TCP_NODELAY off",
               "Both ends merge: the sender's Nagle algorithm and the receiver's buffer; recv(n) returns at most n "
               "bytes, whatever the sender's send() calls were.", hint="Frame each message: a 4-byte length header "
                                                                     "(struct.pack('!I', n)) before the data.")
CHINESE = Step("tcp-merge-nagle", "TCP 粘包，Nagle 开启", True,
               "20 次 send()：线路上的报文段少于 send 次数，用 AF_PACKET 套接字（原始套接字）看到的。",
               "20 次 send → 3 个报文段 → 2 次 recv(n)；UdpRcvbufErrors 一直是 0，TCP_NODELAY 关闭。",
               "两端都会合并：发送端的 Nagle 算法，接收端的缓冲区；recv(n) 最多返回 n 个字节，不管发送端调用了"
               "几次 send()。“粘包”只存在于 TCP 中。", hint="每条消息加一个 4 字节的长度报头（struct.pack('!I', n)），"
                                                           "再发数据。")
LATIN = re.compile(r"[A-Za-z_][\w()\[\]'!.,]*\w\)?|[A-Za-z_]")


def cells_of(text):
    """{(row, column): [line, ...]} of a rendered table's body, each line stripped of its padding."""
    cells, row = {}, 0
    for line in text.splitlines():
        if line.startswith(("├", "┡")):
            row += 1
        elif line.startswith("│"):
            for column, cell in enumerate(line.strip("│").split("│")):
                cells.setdefault((row, column), []).append(cell.strip())
    return cells


def rendered(result, width):
    console = Console(file=io.StringIO(), width=width, record=True, color_system=None)
    console.print(report.result_table(result))
    return console.export_text()


@pytest.mark.parametrize("width", [80, 100, 140])
@pytest.mark.parametrize("step", [ENGLISH, CHINESE], ids=["en", "zh"])
def test_no_latin_word_split_and_no_closing_punctuation_first(step, width):
    text = rendered(Result("sticky", {}, [step]), width)
    cells = cells_of(text)
    fields = {1: f"1 {step.name}", 2: step.expected, 3: step.observed, 4: step.why + " " + step.hint}
    for (row, column), lines in cells.items():
        if column not in fields or row == 0:
            continue
        room = max(cell_len(line) for line in lines)  # at least the column's text width
        for line in lines:
            assert not line or line[0] not in CLOSING, (line, lines)
            assert not line or line[-1] not in OPENING, (line, lines)
        for word in LATIN.findall(fields[column]):
            if cell_len(word) < room:
                assert any(word in line for line in lines), (word, lines)
        assert "".join("".join(lines).split()) == "".join(fields[column].replace("hint: ", "").split()) or \
            column == 4, "nothing lost"
    assert {cell_len(line) for line in text.splitlines() if line[:1] in "┏┃┡│├└"} == {width}


def test_the_breaks_themselves():
    def lines(text, width):
        return [text[a:b] for a, b in spans(text, width)]
    assert lines("use recv(n) in a loop", 10) == ["use", "recv(n) in", "a loop"]
    assert lines("a UdpRcvbufErrors b", 8) == ["a", "UdpRcvbu", "fErrors", "b"]  # alone wider than the column
    assert lines("关闭Nagle算法之后，每次", 10) == ["关闭Nagle", "算法之后，", "每次"]
    assert lines("发送端的缓冲区，接收端", 14) == ["发送端的缓冲", "区，接收端"]  # ， takes 区 along, not alone
    assert lines("发送端的缓冲区，接收端", 16) == ["发送端的缓冲区，", "接收端"]
    assert lines("看到的（原始套接字）", 8) == ["看到的", "（原始套", "接字）"]  # （ not last, ） not first
    assert lines("“粘包”只存在于", 7) == ["“粘包”", "只存在", "于"]
    assert lines("a\n\nb", 5) == ["a", "", "b"] and lines("", 5) == [""]
    assert lines("粘包：" + "41" * 10 + "。", 8) == ["粘包：", "41414141", "41414141", "4141。"]


def test_styles_survive_the_breaks():
    from rich.text import Text
    text = Text.assemble("粘包，", ("hint: ", "bold yellow"), "frame each message")
    lines = Wrapped(text).lines(8)
    assert [line.plain for line in lines] == ["粘包，", "hint:", "frame", "each", "message"]
    assert lines[1].spans and lines[1].spans[0].style == "bold yellow"


FAILED = Step("starts", "the server starts and listens on tcp port 9500", False,
              "`python3 FILE 9500` listens on port 9500 within 5 s", "not bound: exited with status 1",
              "Every other step talks to it there.",
              {"port": 9500, "record": {"exit_code": 1, "signal": None, "stderr": "\n".join(
                  ["Traceback (most recent call last):", '  File "/workspace/echo_server.py", line 30, in <module>',
                   "    main(int(sys.argv[1]))", '  File "/workspace/echo_server.py", line 20, in main',
                   "    handle(conn)", '  File "/workspace/echo_server.py", line 9, in handle',
                   "    total = len(data) / 0  " + "# a comment that runs on " * 8,
                   "ZeroDivisionError: division by zero"]) + "\n"}}, hint="Run it yourself first.")


@pytest.mark.parametrize("width", [80, 140])
def test_a_failed_steps_program_stderr_is_shown_under_the_table(width):
    passed = Step("survives", "the server is still serving at the end", True, "e", "o", "w",
                  {"record": {"exit_code": 0, "stderr": "a warning of a step that passed\n"}})
    text = rendered(Result("framing", {}, [FAILED, passed]), width)
    below = text[text.rindex("┘"):].splitlines()[1:]
    assert "ZeroDivisionError: division by zero" in below[-1]
    shown = [line for line in below if line.startswith("    ")]
    assert len(shown) == 5 and "main(int(sys.argv[1]))" not in text and "Traceback" not in text
    assert all(cell_len(line) <= width for line in below)
    assert "a warning of a step that passed" not in text
    assert "0 the server starts" in "".join(below[:2]) and "stderr" in "".join(below[:2])


def test_stderr_wherever_a_step_keeps_it():
    facts = {"records": {"worker1": {"exit_code": 1, "stderr": "Boom\n"}, "worker3": {"exit_code": 0, "stderr": ""}},
             "runs": [{"stderr_tail": "oops"}], "replies": [{"stderr_ok": False, "stderr_bytes": 3}]}
    assert report.program_stderr(facts) == [("records.worker1", "Boom\n"), ("runs[0]", "oops")]
    steps = [Step("a", "a", False, "e", "o", "w", facts), Step("b", "b", False, "e", "o", "w", {"stderr_tail": "oops"})]
    assert [(step.key, parts) for step, parts in report.stderr_tails(steps)] == [
        ("a", [("records.worker1", ["Boom"]), ("runs[0]", ["oops"])])], "each stderr once"


def test_the_stderr_heading_goes_through_the_catalog(monkeypatch):
    class Marked:
        def gettext(self, message):
            return f"⟦{message}⟧"
    monkeypatch.setattr(i18n, "translation", lambda lang: Marked())
    with i18n.using("zh"):
        text = rendered(Result("framing", {}, [FAILED]), 140)
    assert "⟦0 the server starts and listens on tcp port 9500: what the program wrote last on stderr⟧" in text


def test_the_error_line_of_a_traceback_is_wrapped_whole_not_cut():
    long_error = "OSError: [Errno 98] Address already in use: " + "while binding port 9500 on every address " * 4
    step = Step("starts", "the server starts", False, "e", "o", "w",
                {"record": {"exit_code": 1, "stderr": f"Traceback (most recent call last):\n{long_error}\n"}})
    text = rendered(Result("framing", {}, [step]), 80)
    assert " ".join(line.strip() for line in text.splitlines()).count("every address") == 4, text

