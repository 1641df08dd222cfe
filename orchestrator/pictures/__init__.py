"""A picture for the steps of a report that have one, drawn from that run's measured facts (matplotlib, SVG).

Each module here draws for one scenario or exercise (its name with `_` for `-`): DRAW = {step key:
function(facts) -> Picture, or None when these facts have nothing to draw}. A step without a drawer has no
picture: the page shows its facts as a table (orchestrator.facts.rows), since bars
of unrelated facts (a port, a count, seconds) side by side on one axis mean nothing. Every picture has its
alt text.
"""
import importlib
import logging

from orchestrator.i18n import _
from orchestrator.pictures._draw import Picture, font_notice, labels_language

__all__ = ["Picture", "drawing", "for_step", "font_notice", "labels_language"]
log = logging.getLogger(__name__)


def drawers(name):
    """{step key: drawer} for a scenario or exercise; {} when none has a module here (a module that is there
    but fails to import is an error, not a lesson without pictures)."""
    module = f"{__name__}.{name.replace('-', '_')}"
    try:
        return importlib.import_module(module).DRAW
    except ModuleNotFoundError as missing:
        if missing.name != module:
            raise
        return {}


def for_step(name, step):
    """The step's Picture: its own drawing, else None (its facts are shown as a table)."""
    return drawing(name, step)[0]


def drawing(name, step):
    """(the step's Picture or None, why a drawing it has could not be drawn or ""), labelled in the language in
    use (English when no installed font draws Chinese). A failed drawing is logged as a warning too."""
    draw = drawers(name).get(step.key)
    if not draw:
        return None, ""
    try:
        with labels_language():
            return draw(step.facts), ""
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        # facts of another shape: an older run, a step that failed before it measured, or a fact renamed in
        # the scenario and not here; the page shows the facts instead, and says so
        problem = _("the picture of step {step} of {name} could not be drawn from its facts ({error}: "
                    "{message}); its facts are shown instead").format(
            step=step.key, name=name, error=type(exc).__name__, message=exc)
        log.warning(problem)
        return None, problem
