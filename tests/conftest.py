"""Every test starts in English whatever the developer's locale, and leaves the language as it found it;
a test of Chinese asks for it (`--lang zh`, `i18n.using("zh")`)."""
import pytest

from orchestrator import i18n


@pytest.fixture(autouse=True)
def english(monkeypatch):
    monkeypatch.setenv("SOCKLAB_LANG", "en")
    i18n.use("en")
    yield
    i18n.use("en")
