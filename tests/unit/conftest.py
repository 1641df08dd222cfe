"""Fakes shared by the unit tests: containers, nodes and an engine whose exec streams a test controls."""
import queue
import time

import pytest


class FakeContainer:
    """What Lab and Node read of a container: status, health, its log."""

    def __init__(self, status="running", health="healthy", log=(), exit_code=0, logs=b""):
        self.status = status
        self.attrs = {"State": {"Status": status, "ExitCode": exit_code,
                                "Health": {"Status": health, "Log": [{"Output": o} for o in log]}}}
        self._logs = logs

    def logs(self, **options):
        return self._logs


class FakeNode:
    """A node with a name, a service, an address and a container, and nothing that runs; its boot says
    ready (or not, when the container stops first) after `boot_s` seconds."""

    def __init__(self, name, service=None, ip=None, container=None, ready=True, boot_s=0.0):
        self.name, self.service, self.ip = name, service or name.rstrip("0123456789"), ip
        self.container = container or FakeContainer()
        self.health = self.container.attrs["State"]["Health"]["Status"] or self.container.status
        self.ready, self.boot_s = ready, boot_s

    def booted(self, follow=False):
        time.sleep(self.boot_s)
        return self.ready

    def refresh(self):
        return self


class FakeExecs:
    """The exec part of the engine's API: each exec's output is a queue of (stdout, stderr) chunks that a
    test feeds by hand; None ends the stream. run() answers every non-streamed exec with success."""

    def __init__(self):
        self.streams, self.created, self.exit_code = {}, [], 0

    def exec_create(self, container, argv, **options):
        exec_id = f"exec{len(self.created)}"
        self.created.append(argv)
        self.streams[exec_id] = queue.Queue()
        return {"Id": exec_id}

    def exec_start(self, exec_id, stream=False, demux=False):
        if not stream:
            return b"", b""
        chunks = self.streams[exec_id]
        return iter(chunks.get, None)

    def exec_inspect(self, exec_id):
        return {"ExitCode": self.exit_code}


class FakeEngine:
    def __init__(self):
        self.api = FakeExecs()


class FakeLab:
    def __init__(self):
        self.engine, self.project, self.spawned = FakeEngine(), "unit", []


@pytest.fixture
def fake_node():
    """A real Node over a fake engine: Process and run() work against FakeExecs."""
    from orchestrator.node import Node

    class Container:
        id, labels = "c0", {"com.docker.compose.service": "worker", "com.docker.compose.container-number": "2"}
    return Node(FakeLab(), Container())
