"""What the unit tests share: fakes of containers, nodes and an engine whose exec streams a test controls;
the CLI run in-process; a Chinese result."""
import queue
import time

import pytest

from orchestrator import cli, i18n
from orchestrator.result import Result, Step


@pytest.fixture(autouse=True)
def no_lab_records(monkeypatch, tmp_path):
    """Where the developer's own labs run (their .lab/ records, SOCKLAB_ENGINE) does not reach a unit test."""
    from orchestrator import engines
    monkeypatch.setattr(engines, "record_path", lambda project: tmp_path / ".lab" / project / "engine.json")
    for name in ("SOCKLAB_ENGINE", "SOCKLAB_MANAGER", "DOCKER_HOST"):
        monkeypatch.delenv(name, raising=False)


def run_cli(capsys, *argv):
    """socklab's main(argv) in this process: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exit_:
        cli.main(list(argv))
    captured = capsys.readouterr()
    return exit_.value.code, captured.out, captured.err


def assert_one_line_error(code, err, text):
    """The CLI's promise for a failure: exit 2, one line on stderr that says text, no traceback."""
    assert code == 2
    assert err.startswith("socklab: error: ") and err.count("\n") == 1 and text in err
    assert "Traceback" not in err


def chinese_result():
    """A sticky result written in Chinese, one step passed and one failed with a hint."""
    with i18n.using("zh"):
        steps = [Step("tcp-merge-nagle", "TCP 粘包，Nagle 开启", True, "20 次 send()：线路上的报文段少于 send 次数",
                      "20 次 send → 3 个报文段 → 2 次 recv()", "两端都会合并：发送端的 Nagle 算法，接收端的缓冲区",
                      {"sends": [40] * 20}),
                 Step("tcp-leftover", "TCP 残留：消息比 recv(n) 大", False, "recv(1024) 返回 1024 字节",
                      "reads [1024, 1976]", "剩下的留在缓冲区里", {"reads": [1024, 1976]}, hint="粘包：用报头")]
        return Result("sticky", {"count": 20}, steps, "2026-11-27T10:00:00+00:00", 2.5, ["说明：一行"])


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

    def __init__(self, name, service=None, ip=None, container=None, ready=True, boot_s=0.0, machine="host"):
        self.name, self.service, self.ip = name, service or name.rstrip("0123456789"), ip
        self.machine_name = machine
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
        from orchestrator.watch.timeline import Timeline
        self.engine, self.project, self.spawned, self.timeline = FakeEngine(), "unit", [], Timeline()


@pytest.fixture
def fake_node():
    """A real Node over a fake engine: Process and run() work against FakeExecs."""
    from orchestrator.node import Node

    class Container:
        id, labels = "c0", {"com.docker.compose.service": "worker", "com.docker.compose.container-number": "2"}
    return Node(FakeLab(), Container())
