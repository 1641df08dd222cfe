"""Line breaking for the terminal's tables, in English and Chinese alike.

Latin text breaks at spaces, and a word is cut only when it alone is wider than the column (`recv(n)`,
`AF_PACKET`, `UdpRcvbufErrors` stay whole). Chinese text may break between any two characters, and between
a character and a Latin word, except where the rules of 禁则 forbid it: closing punctuation (，。、；：！？）》
」』 …) never starts a line, opening brackets (（《「『 …) never end one. Widths are terminal cells
(a Chinese character takes two).

    Wrapped(text)   a rich renderable: the text broken at the width rich gives it (a table cell, a caption)
    spans(text, width) -> [(start, end)]   the lines of a plain text, as slices of it
"""
import unicodedata

from rich.cells import cell_len
from rich.measure import Measurement
from rich.text import Text

# may not start a line (the Latin ones only matter after a Chinese character: in Latin text they are part of
# the word before them)
CLOSING = frozenset("，。、；：！？）》」』】〕〉〗〙〛〞”’…‥·・％‰℃￠〜～ー々ゝゞ,.;:!?)]}%")
# may not end a line
OPENING = frozenset("（《「『【〔〈〖〘〚〝“‘￡￥([{")
TAB = 8


def wide(char):
    """A character of the CJK kind: two cells wide (ideographs, kana, full-width punctuation)."""
    return unicodedata.east_asian_width(char) in ("W", "F")


def breakable(text, index):
    """Whether a line may begin at text[index] (0 < index < len(text))."""
    before, char = text[index - 1], text[index]
    if char.isspace() or char in CLOSING or before in OPENING:
        return False
    return before.isspace() or wide(before) or wide(char)


def units(text):
    """The unbreakable pieces of one line of text: [(start, end)], each with the spaces after it."""
    starts = [0] + [i for i in range(1, len(text)) if breakable(text, i)]
    return list(zip(starts, starts[1:] + [len(text)]))


def fold(text, start, end, width):
    """Cut text[start:end], wider than width, into lines of at most width cells (at least a character each),
    not before closing or after opening punctuation where a cut elsewhere is possible: ([(start, end)] of the
    full lines, the start of the rest)."""
    lines = []
    while cell_len(text[start:end]) > width:
        cut, cells = start, 0
        while cells + cell_len(text[cut]) <= width:
            cells += cell_len(text[cut])
            cut += 1
        cut = max(cut, start + 1)
        better = cut
        while better > start + 1 and forbidden(text, better):
            better -= 1
        lines.append((start, better if not forbidden(text, better) else cut))
        start = lines[-1][1]
    return lines, start


def forbidden(text, index):
    """A line may not begin at text[index]: it is closing punctuation, or opening punctuation is before it."""
    return text[index] in CLOSING or text[index - 1] in OPENING


def _line_spans(text, offset, width):
    """The lines of a text without newlines: [(start, end)] offset by offset, trailing spaces left out."""
    spans, line_start, line_end = [], None, None  # line_end: the end of the current line without its spaces

    def close():
        if line_start is not None:
            spans.append((offset + line_start, offset + line_end))

    for start, end in units(text):
        content = start + len(text[start:end].rstrip())
        if content == start:  # spaces only (a line that starts with them)
            continue
        if line_start is not None and cell_len(text[line_start:content]) <= width:
            line_end = content
            continue
        close()
        line_start = start
        if cell_len(text[start:content]) > width:
            pieces, start = fold(text, start, content, width)
            spans += [(offset + a, offset + b) for a, b in pieces]
            line_start = start
        line_end = content
    close()
    return spans or [(offset, offset)]


def spans(text, width):
    """Where the lines of a plain text begin and end, broken to at most width cells: [(start, end)], one per
    line (an empty line for an empty paragraph); what lies between two lines is spaces or a newline."""
    width = max(1, width)
    found, offset = [], 0
    for paragraph in text.split("\n"):
        found += _line_spans(paragraph, offset, width)
        offset += len(paragraph) + 1
    return found


class Wrapped:
    """A rich Text broken into lines at the width it is given (see the module), its styles kept."""

    def __init__(self, text, style=""):
        self.text = text.copy() if isinstance(text, Text) else Text(str(text), style=style)
        if "\t" in self.text.plain:
            self.text.expand_tabs(TAB)

    def lines(self, width):
        """[Text], one per line, each at most width cells."""
        return [self.text[start:end] for start, end in spans(self.text.plain, width)]

    def __rich_console__(self, console, options):
        joined = Text("\n").join(self.lines(options.max_width))
        joined.no_wrap, joined.end = True, "\n"
        yield joined

    def __rich_measure__(self, console, options):
        plain = self.text.plain
        words = [cell_len(line[a:b].rstrip()) for line in plain.split("\n") for a, b in units(line)]
        longest = max((cell_len(line) for line in plain.split("\n")), default=0)
        return Measurement(min(max(words, default=0), options.max_width), min(longest, options.max_width))

    def __str__(self):
        return self.text.plain
