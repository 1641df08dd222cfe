"""What every picture shares: one figure style, colours that survive greyscale (with a hatch each), SVG out;
Chinese labels in a CJK font when one is installed (Debian's fonts-noto-cjk), else English labels."""
import functools
import io
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import matplotlib

from orchestrator import i18n
from orchestrator.i18n import _

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
from matplotlib import font_manager  # noqa: E402

matplotlib.rcParams.update({"svg.fonttype": "none", "font.size": 9, "axes.spines.top": False,
                            "axes.spines.right": False, "svg.hashsalt": "socklab",
                            "text.parse_math": False})  # a learner's `$` is a dollar, not TeX
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
             "WenQuanYi Micro Hei", "Droid Sans Fallback")
CJK_FILES = ("NotoSansCJK", "SourceHanSans", "wqy-zenhei", "wqy-microhei", "DroidSansFallback")


@functools.cache
def cjk_font():
    """The family name of an installed font with Chinese glyphs, put behind DejaVu Sans as the fallback for
    what DejaVu lacks; None when there is none. Fonts installed after matplotlib cached its list are found
    by file name."""
    names = {font.name for font in font_manager.fontManager.ttflist}
    found = next((name for name in CJK_FONTS if name in names), None)
    if not found:
        for path in font_manager.findSystemFonts():
            if any(Path(path).name.startswith(stem) for stem in CJK_FILES):
                font_manager.fontManager.addfont(path)
        names = {font.name for font in font_manager.fontManager.ttflist}
        found = next((name for name in CJK_FONTS if name in names), None)
    return found


def labels_language():
    """A block in which pictures are labelled: in English when Chinese is asked for and no font can draw
    it (font_notice() says so), else in the language in use."""
    if i18n.current() != "zh":
        return nullcontext()
    font = cjk_font()
    if not font:
        return i18n.using("en")
    # per glyph: DejaVu Sans as in English, the CJK font for what it lacks, then the usual sans-serif list
    return matplotlib.rc_context({"font.family": ["DejaVu Sans", font, "sans-serif"]})


def font_notice():
    """One line for the user when the pictures fall back to English labels; "" when they do not."""
    if i18n.current() == "zh" and not cjk_font():
        return _("no font with Chinese characters is installed (Debian: apt-get install fonts-noto-cjk, or "
                 "`make host`): the pictures are labelled in English")
    return ""
# Okabe & Ito's palette (readable with colour-blindness), each colour with a hatch of its own for print
COLORS = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#999999"]
HATCHES = ["", "//", "..", "xx", "\\\\", "++", "oo", "--"]


@dataclass
class Picture:
    data: str  # SVG text
    alt: str


def style(index):
    """Fill colour and hatch of the index-th thing (a message, a model, a buyer)."""
    return {"facecolor": COLORS[index % len(COLORS)], "hatch": HATCHES[index % len(HATCHES)], "edgecolor": "#333333"}


def svg(figure, alt):
    """The figure as a Picture (SVG text), the figure closed."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    # matplotlib sees only the first face of Debian's Noto CJK collection (JP); a browser drawing the SVG
    # can pick the Simplified Chinese one, with the same metrics
    return Picture(buffer.getvalue().replace("'Noto Sans CJK JP'", "'Noto Sans CJK SC', 'Noto Sans CJK JP'"),
                   alt)
