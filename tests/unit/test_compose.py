"""The Compose CLI: which one is found, and a missing one is a typed error."""
import pytest

from orchestrator import compose
from orchestrator.errors import ComposeFailed


def test_no_compose_cli(monkeypatch):
    monkeypatch.setattr(compose.shutil, "which", lambda name: None)
    with pytest.raises(ComposeFailed):
        compose.detect()


def test_compose_v2_preferred_then_v1(monkeypatch):
    monkeypatch.setattr(compose.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(compose.subprocess, "run", lambda argv, **kw: type("Done", (), {"returncode": 0}))
    assert compose.detect() == ["docker", "compose"]
    monkeypatch.setattr(compose.subprocess, "run", lambda argv, **kw: type("Done", (), {"returncode": 1}))
    assert compose.detect() == ["docker-compose"]
