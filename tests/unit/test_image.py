import re
from pathlib import Path

import pytest
import yaml

from orchestrator import image
from orchestrator.errors import LabError

ROOT = Path(__file__).resolve().parents[2]


def test_mirror_from_deb822_skips_security(tmp_path, monkeypatch):
    monkeypatch.delenv("SOCKLAB_MIRROR", raising=False)
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://security.example/debian-security\nSuites: bookworm-security\nComponents: main\n\n"
        "Types: deb\n# a comment\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\n"
        "Components: main\n")
    assert image.debian_mirror(tmp_path) == "http://mirror.example/debian"


def test_mirror_from_one_line_list(tmp_path, monkeypatch):
    monkeypatch.delenv("SOCKLAB_MIRROR", raising=False)
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list").write_text(
        "# deb http://old.example/debian bookworm main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian bookworm main\n")
    assert image.debian_mirror(tmp_path) == "http://mirror.example/debian"


def test_no_debian_mirror_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("SOCKLAB_MIRROR", raising=False)
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list").write_text("deb http://archive.ubuntu.example/ubuntu noble main\n")
    with pytest.raises(LabError, match="SOCKLAB_MIRROR"):
        image.debian_mirror(tmp_path)


def test_digest_follows_content_not_caches(tmp_path):
    (tmp_path / "a.py").write_text("one")
    first = image.digest([tmp_path], tmp_path)
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "a.pyc").write_text("cache")
    assert image.digest([tmp_path], tmp_path) == first
    (tmp_path / "a.py").write_text("two")
    assert image.digest([tmp_path], tmp_path) != first


def test_both_base_recipes_install_the_same_package_list():
    packages = [line for line in (image.RECIPES / "packages.txt").read_text().splitlines()
                if line and not line.startswith("#")]
    assert {"python3", "python3-paramiko", "python3-cffi-backend", "iproute2", "procps", "openssh-server",
            "tcpdump", "iputils-ping", "iptables"} <= set(packages)
    online = (image.RECIPES / "base.Dockerfile").read_text()
    offline = (image.RECIPES / "mkbase-offline.sh").read_text()
    assert "ARG DEBIAN=debian:bookworm-slim" in online and "FROM ${DEBIAN}" in online and "packages.txt" in online
    assert "--variant=minbase" in offline and "bookworm" in offline and "packages.txt" in offline
    assert not re.search(r"https?://", offline), "the mirror comes from the host's apt sources, never the repo"


def test_lab_image_copies_only_the_node_programs():
    dockerfile = (image.RECIPES / "Dockerfile").read_text()
    assert "FROM ${BASE}" in dockerfile and "RUN" not in dockerfile


def test_compose_file_shape():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert "version" not in compose
    assert set(compose["services"]) == {"server", "client", "worker"}
    for name, service in compose["services"].items():
        assert service["healthcheck"]["test"], name
        assert service["init"] is True and "ports" not in service, name
        assert service["networks"] == ["lab"], name
        assert "start_interval" not in service["healthcheck"], "API 1.41 and Compose v1 do not know it"
        interval = service["healthcheck"]["interval"]
        assert interval.endswith("s") and float(interval[:-1]) >= 60, "an exec per check: once a minute at most"
        assert "depends_on" not in service, "no node needs another at boot: all start at once"
    fast = yaml.safe_load((ROOT / "compose.start-interval.yaml").read_text())
    assert {name: s["healthcheck"]["start_interval"] for name, s in fast["services"].items()} == \
        dict.fromkeys(compose["services"], "500ms")
    network = compose["networks"]["lab"]
    assert network["driver"] == "bridge" and network["ipam"]["config"][0]["subnet"]
