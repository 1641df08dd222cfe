"""The Compose CLI: which one is found, and a missing one is a typed error."""
import pytest

from orchestrator.engines import compose
from orchestrator.errors import ComposeFailed


def test_no_compose_cli(monkeypatch):
    monkeypatch.delenv("SOCKLAB_COMPOSE", raising=False)
    monkeypatch.setattr(compose.shutil, "which", lambda name: None)
    with pytest.raises(ComposeFailed):
        compose.detect()


def test_compose_v2_preferred_then_v1(monkeypatch):
    monkeypatch.delenv("SOCKLAB_COMPOSE", raising=False)
    monkeypatch.setattr(compose.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(compose.subprocess, "run", lambda argv, **kw: type("Done", (), {"returncode": 0}))
    assert compose.detect() == ["docker", "compose"]
    monkeypatch.setattr(compose.subprocess, "run", lambda argv, **kw: type("Done", (), {"returncode": 1}))
    assert compose.detect() == ["docker-compose"]


def test_start_interval_only_with_compose_v2_on_an_engine_that_has_it():
    v1, v2, new, old = ["docker-compose"], ["docker", "compose"], lambda: "2.29.7", lambda: "v2.20.1"
    assert compose.files(v2, "1.41", new) == [compose.COMPOSE_FILE]
    assert compose.files(v1, "1.44", new) == [compose.COMPOSE_FILE]
    assert compose.files(v2, "1.44", old) == [compose.COMPOSE_FILE], "start_interval came with Compose 2.20.2"
    assert compose.files(v2, "1.44", new) == [compose.COMPOSE_FILE, compose.START_INTERVAL_FILE]
    assert compose.files(v2, "1.47", lambda: "2.26.1+ds1") == compose.files(v2, "1.44", new)


def test_socklab_compose_picks_one_and_says_when_it_is_missing(monkeypatch):
    monkeypatch.setattr(compose.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(compose.subprocess, "run", lambda argv, **kw: type("Done", (), {"returncode": 0}))
    monkeypatch.setenv("SOCKLAB_COMPOSE", "v1")
    assert compose.detect() == ["docker-compose"]
    monkeypatch.setenv("SOCKLAB_COMPOSE", "v2")
    assert compose.detect() == ["docker", "compose"]
    monkeypatch.setattr(compose.subprocess, "run", lambda argv, **kw: type("Done", (), {"returncode": 1}))
    with pytest.raises(compose.ComposeFailed, match="Compose v2 is not installed"):
        compose.detect()
    monkeypatch.setenv("SOCKLAB_COMPOSE", "v3")
    with pytest.raises(compose.ComposeFailed, match="expected auto, v1 or v2"):
        compose.detect()
