"""The scenario registry: every module here with NAME, SUMMARY, PARAMS and run() is a scenario.

A scenario module:
    NAME = "ping"                  # what `make scenario NAME=ping` calls it
    SUMMARY = "one line for --list"
    PARAMS = {"count": 5}          # defaults; `--set count=10` overrides, typed like the default
    NOTES = ["..."]                # optional: what a user should know beyond the steps
    def run(lab, params, progress) -> list[Step]   # every step with a key of its own

Modules whose names start with `_` hold what several scenarios share; they are not scenarios.
"""
import importlib
import pkgutil
import time
from datetime import datetime, timezone

from orchestrator.errors import BadParameter, UnknownName
from orchestrator.result import Result


def available():
    """{name: module} for every scenario module in this package."""
    modules = (importlib.import_module(f"{__name__}.{info.name}") for info in pkgutil.iter_modules(__path__)
               if not info.name.startswith("_"))
    return {m.NAME: m for m in modules if hasattr(m, "run")}


def get(name):
    """The scenario module called name; UnknownName if there is none."""
    scenarios = available()
    if name not in scenarios:
        raise UnknownName("scenario", name, sorted(scenarios))
    return scenarios[name]


def _typed(key, default, text):
    if isinstance(default, bool):
        if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise BadParameter(key, text, "true or false")
        return text.lower() in ("true", "1", "yes")
    try:
        return type(default)(text)
    except ValueError:
        kind = {int: "a whole number", float: "a number"}.get(type(default), "text")
        raise BadParameter(key, text, kind) from None


def parameters(scenario, settings):
    """The scenario's PARAMS with `key=value` settings applied, each typed like its default."""
    params = dict(scenario.PARAMS)
    for setting in settings:
        key, sep, text = setting.partition("=")
        if not sep or key not in params:
            known = ", ".join(f"{k}={v}" for k, v in scenario.PARAMS.items())
            raise UnknownName(f"parameter of scenario {scenario.NAME}", key, [known])
        params[key] = _typed(key, params[key], text)
    return params


def run(name, lab, settings=(), progress=lambda text: None):
    """Run a scenario on a lab that is up and return its Result."""
    scenario = get(name)
    params = parameters(scenario, settings)
    started, clock = datetime.now(timezone.utc).isoformat(timespec="seconds"), time.monotonic()
    try:
        steps = scenario.run(lab, params, progress)
    finally:
        lab.stop_spawned()  # whatever a scenario started and did not stop, also when it failed
    return Result(name, params, steps, started, round(time.monotonic() - clock, 2), list(getattr(scenario, "NOTES", [])))
