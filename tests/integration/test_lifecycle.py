"""The user's verbs through make, on a second lab beside the session's: up with 5 workers, ps, down."""
import json
import os
import subprocess
from pathlib import Path

import pytest

from orchestrator.errors import NodeUnhealthy
from orchestrator.lab import Lab

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "socklabtest-life"


def make(*args):
    env = {**os.environ, "COMPOSE_PROJECT_NAME": PROJECT}
    return subprocess.run(["make", "-s", "-C", str(ROOT), *args], env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture
def second_lab(docker_engine):
    lab = Lab(PROJECT, engine=docker_engine)
    lab.down()
    try:
        yield lab
    finally:
        lab.down()


def project_objects(client):
    label = {"label": f"com.docker.compose.project={PROJECT}"}
    return (client.containers.list(all=True, filters=label), client.networks.list(filters=label),
            client.volumes.list(filters=label))


def test_make_up_five_workers_ps_and_down_leaves_nothing(second_lab, lab):
    up = make("up", "WORKERS=5")
    assert up.returncode == 0, up.stderr
    assert [n.name for n in second_lab.nodes("worker")] == [f"worker{i}" for i in range(1, 6)]
    assert all(n.booted() for n in second_lab.nodes())
    assert second_lab.subnet != lab.subnet and lab.nodes()[0].booted(), "two labs side by side"

    ps = subprocess.run([str(ROOT / ".venv/bin/socklab"), "--project", PROJECT, "ps", "--json"],
                        capture_output=True, text=True)
    rows = json.loads(ps.stdout)
    assert len(rows) == 8 and {r["health"] for r in rows} <= {"ready", "healthy"}, rows
    assert {"node", "service", "container", "ip", "health", "uptime_s", "faults"} <= set(rows[0])

    second_lab.node("worker5").impair(delay="5ms")
    down = make("down")
    assert down.returncode == 0, down.stderr
    assert project_objects(second_lab.engine) == ([], [], [])
    assert not second_lab.secrets.exists()
    assert second_lab.engine.containers.list(all=True, filters={"label": "org.socklab.fault.project=" + PROJECT}) == []


def test_an_up_that_fails_leaves_nothing_half_started(second_lab):
    with pytest.raises(NodeUnhealthy, match=r"^node \w+ not ready after 0 s \((running|created)\)"):
        second_lab.up(timeout=0)
    assert project_objects(second_lab.engine) == ([], [], [])


def test_exec_on_a_lab_that_is_down_is_one_line(second_lab):
    done = subprocess.run([str(ROOT / ".venv/bin/socklab"), "--project", PROJECT, "exec", "server", "--", "true"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "no node 'server'" in done.stderr and "the lab is down" in done.stderr
