"""A picture for every step of a report, drawn from that run's measured facts (matplotlib, SVG).

Each module here draws for one scenario or exercise (its name with `_` for `-`): DRAW = {step key:
function(facts) -> Picture}. A step without a drawer shows the plot its scenario made (a PNG file of the
step), or else its numeric facts as bars: every step card has a picture, and every picture its alt text.
"""
import base64
import importlib

from orchestrator.i18n import _
from orchestrator.pictures._draw import Picture, facts_bars, font_notice, labels_language

__all__ = ["Picture", "for_step", "font_notice", "labels_language"]


def drawers(name):
    """{step key: drawer} for a scenario or exercise; {} when none has a module here."""
    try:
        return importlib.import_module(f"{__name__}.{name.replace('-', '_')}").DRAW
    except ModuleNotFoundError:
        return {}


def for_step(name, step):
    """The step's Picture: its own drawing, else its PNG, else its facts as bars; labelled in the language in
    use (English when no installed font draws Chinese)."""
    with labels_language():
        return _picture(name, step)


def _picture(name, step):
    draw = drawers(name).get(step.key)
    if draw:
        try:
            return draw(step.facts)
        except (KeyError, IndexError, TypeError, ValueError):
            pass  # facts of another shape (an older run, a failed step): the generic picture says what there is
    for suffix, content in step.files.items():
        if suffix.endswith("png"):
            return Picture("png", base64.b64encode(content).decode(),
                           _("{step}: the plot this run made").format(step=step.name))
    return facts_bars(step)
