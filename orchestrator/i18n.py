"""The language people read: English in the source, Chinese from a gettext catalog managed with Babel.

Every person-facing string goes through `_()`, with named placeholders filled by `.format()` after the
translation, so a translation may reorder them:

    _("recv({n}) returns at most {n} bytes").format(n=n)

A string defined before the language is known (a module's SUMMARY, NOTES) is marked with `N_()` and
translated where it is shown: `_(module.SUMMARY)`. JSON keys, step keys and facts are never translated.
The catalogs are orchestrator/locale/<catalog>/LC_MESSAGES/socklab.po (`make i18n` extracts and updates
them, and compiles the .mo files that are committed beside them; tests/unit/test_catalogs.py holds them
current and complete).
"""
import argparse
import gettext
import os
from contextlib import contextmanager
from pathlib import Path

DOMAIN = "socklab"
LOCALE = Path(__file__).resolve().parent / "locale"
LANGUAGES = ("en", "zh")
CATALOGS = {"zh": "zh_CN"}  # language -> catalog folder under locale/
ENVIRONMENT = ("SOCKLAB_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

_state = {"lang": "en", "translation": gettext.NullTranslations()}


def N_(message):
    """Mark a string for the catalog without translating it yet."""
    return message


def _(message):
    """The message in the current language (itself when the catalog has no translation)."""
    return _state["translation"].gettext(message)


def from_environment(environ=None):
    """`zh` or `en`: SOCKLAB_LANG when set, else the first of LANGUAGE, LC_ALL, LC_MESSAGES, LANG that is set
    (`zh_CN.UTF-8`, `zh_TW`, `zh` give Chinese; anything else English). Raises ValueError for a
    SOCKLAB_LANG that is neither."""
    environ = os.environ if environ is None else environ
    chosen = environ.get("SOCKLAB_LANG", "").strip()
    if chosen:
        return normal(chosen)
    for name in ENVIRONMENT[1:]:
        value = environ.get(name, "").strip()
        if value:
            first = value.split(":")[0]
            return "zh" if first.lower().startswith("zh") else "en"
    return "en"


def normal(lang):
    """`zh` or `en` for a user's spelling (`zh`, `zh_CN`, `zh-CN.UTF-8`, `en_US`); ValueError otherwise."""
    base = lang.strip().replace("-", "_").split(".")[0].split("_")[0].lower()
    if base not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}: socklab speaks {' and '.join(LANGUAGES)}")
    return base


def translation(lang):
    """The gettext translation for a language (NullTranslations for English)."""
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE, languages=[CATALOGS[lang]])


def use(lang):
    """Speak lang from now on (in this process); the language."""
    lang = normal(lang)
    _state.update(lang=lang, translation=translation(lang))
    argparse._ = _  # argparse's own words (usage:, options, its errors) come from our catalog too
    return lang


def current():
    """The language in use: `en` or `zh`."""
    return _state["lang"]


@contextmanager
def using(lang):
    """Speak lang inside the block, then the language of before."""
    before = current()
    use(lang)
    try:
        yield
    finally:
        use(before)


# argparse's words that socklab's help and errors show, so that the catalog holds them too
ARGPARSE = (N_("usage: "), N_("positional arguments"), N_("options"), N_("optional arguments"),
            N_("show this help message and exit"), N_("the following arguments are required: %s"),
            N_("unrecognized arguments: %s"), N_("invalid choice: %(value)r (choose from %(choices)s)"),
            N_("argument %(argument_name)s: %(message)s"), N_("%(prog)s: error: %(message)s\n"),
            N_("expected one argument"), N_("invalid %(type)s value: %(value)r"), N_("not allowed with argument %s"))
