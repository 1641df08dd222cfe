"""Registries of modules: every public module of a package that defines the entry point is an entry."""
import importlib
import pkgutil

from orchestrator.errors import UnknownName
from orchestrator.i18n import N_

KINDS = (N_("scenario"), N_("exercise"))  # what callers look up: UnknownName says the kind with _(kind)


def modules(package, path, entry="run"):
    """{module.NAME: module} for the modules of package (its __path__) that define entry; modules whose
    names start with `_` hold what the others share and are skipped."""
    found = (importlib.import_module(f"{package}.{info.name}") for info in pkgutil.iter_modules(path)
             if not info.name.startswith("_"))
    return {m.NAME: m for m in found if hasattr(m, entry)}


def lookup(kind, entries, name):
    """entries[name]; UnknownName listing the known names if there is none."""
    if name not in entries:
        raise UnknownName(kind, name, sorted(entries))
    return entries[name]
