"""The scenario registry: every module here with NAME, SUMMARY, PARAMS and run() is a scenario.

A scenario module:
    NAME = "ping"                  # what `make scenario NAME=ping` calls it
    SUMMARY = N_("one line for --list")  # marked for the catalog, translated where it is shown
    PARAMS = {"count": (5, 1, 100),          # default and valid range, both ends included
              "node": ("server", "server|client[0-9]+")}  # text: default and the pattern it must match
                                   # `--set count=10` overrides, typed like the default and checked
    NOTES = [N_("...")]            # optional: what a user should know beyond the steps (N_: translated when shown)
    def run(lab, params, progress) -> list[Step]   # every step with a key of its own

Modules whose names start with `_` hold what several scenarios share; they are not scenarios.
"""
import re
import time
from datetime import datetime, timezone

from orchestrator import registry
from orchestrator.i18n import N_, _
from orchestrator.errors import BadParameter, UnknownName
from orchestrator.result import Result


def available():
    """{name: module} for every scenario module in this package."""
    return registry.modules(__name__, __path__)


def get(name):
    """The scenario module called name; UnknownName if there is none."""
    return registry.lookup("scenario", available(), name)


def _typed(key, default, text):
    if isinstance(default, bool):
        if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise BadParameter(key, text, _("true or false"))
        return text.lower() in ("true", "1", "yes")
    try:
        return type(default)(text)
    except ValueError:
        kind = {int: _("a whole number"), float: _("a number")}.get(type(default), _("text"))
        raise BadParameter(key, text, kind) from None


def defaults(scenario):
    """{name: default} of a scenario's PARAMS."""
    return {key: spec[0] for key, spec in scenario.PARAMS.items()}


def valid(key, spec):
    """What the parameter takes, said for people: `a whole number from 1 to 100`, `text matching …`."""
    default, *bounds = spec
    if isinstance(default, str):
        return _("text matching {pattern}").format(pattern=bounds[0])
    if isinstance(default, int):
        return _("a whole number from {low} to {high}").format(low=bounds[0], high=bounds[1])
    return _("a number from {low} to {high}").format(low=bounds[0], high=bounds[1])


def _checked(key, spec, value):
    default, *bounds = spec
    if isinstance(default, str) and not re.fullmatch(bounds[0], value) or \
            not isinstance(default, str) and not bounds[0] <= value <= bounds[1]:
        raise BadParameter(key, value, valid(key, spec))
    return value


def parameters(scenario, settings):
    """The scenario's defaults with `key=value` settings applied, each typed like its default and checked
    against its range: BadParameter before anything runs."""
    params = defaults(scenario)
    for setting in settings:
        key, sep, text = setting.partition("=")
        if not sep or key not in params:
            known = ", ".join(f"{k}={v}" for k, v in params.items())
            raise UnknownName(N_("parameter of scenario {scenario}"), key, [known], scenario=scenario.NAME)
        params[key] = _checked(key, scenario.PARAMS[key], _typed(key, params[key], text))
    return params


def run(name, lab, params=None, progress=lambda text: None):
    """Run a scenario on a lab that is up and return its Result. params: typed values ({"frames": 25}) over
    the defaults, as parameters() makes them from `--set key=value` settings."""
    scenario = get(name)
    given = params or {}
    for key, value in given.items():  # typed already (parameters()), so checked, not parsed
        if key not in scenario.PARAMS:
            raise UnknownName(N_("parameter of scenario {scenario}"), key, list(scenario.PARAMS), scenario=name)
        _checked(key, scenario.PARAMS[key], value)
    params = {**defaults(scenario), **given}
    started, clock = datetime.now(timezone.utc).isoformat(timespec="seconds"), time.monotonic()
    mark = lab.timeline.mark()
    try:
        steps = scenario.run(lab, params, progress)
    finally:
        lab.stop_spawned()  # whatever a scenario started and did not stop, also when it failed
    notes = [_(note) for note in getattr(scenario, "NOTES", [])]
    return Result(name, params, steps, started, round(time.monotonic() - clock, 2), notes, **lab.where(),
                  timeline=lab.recorded(mark))
