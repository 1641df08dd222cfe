"""Node.status: what `ps` shows, from the engine's health and the node's own boot line."""
import pytest

from orchestrator.node import Node


class Container:
    labels = {"com.docker.compose.service": "worker", "com.docker.compose.container-number": "1"}

    def __init__(self, status, health, streak=0, booted=True):
        self.attrs = {"State": {"Status": status, "StartedAt": "2026-01-01T00:00:00.000000Z",
                                **({"Health": {"Status": health, "FailingStreak": streak}} if health else {})}}
        self.booted = booted

    def logs(self, **options):
        return iter([b"socklab: ready\n"] if self.booted else [b"boot: resolving\n"])


@pytest.mark.parametrize("status, health, streak, booted, shown", [
    ("running", "healthy", 0, True, "healthy"),
    ("running", "starting", 0, True, "ready"),        # booted; the first periodic check is yet to come
    ("running", "starting", 0, False, "starting"),
    ("running", "unhealthy", 0, True, "ready"),       # unpaused: marked unhealthy with no failed check
    ("running", "unhealthy", 3, True, "unhealthy"),   # checks failed: believe them
    ("paused", "unhealthy", 0, True, "paused"),
    ("exited", "unhealthy", 0, True, "exited"),
    ("running", None, 0, True, "ready"),              # no health check at all (a swarm node): its boot line
    ("running", None, 0, False, "starting"),
])
def test_status(status, health, streak, booted, shown):
    assert Node(None, Container(status, health, streak, booted)).status == shown
