"""nodes.iomodels on this host, at small scale on the loopback: the io-models lesson run through a lab whose
nodes are this host (the server node's programs start with descriptors 24 to 1023 taken, so that 30
connections take select() past descriptor 1024), its servers against bad peers, and the lesson's steps and
pictures from the facts of a full-scale run (1,100 connections): each step passes with the phenomenon and fails
without it."""
import copy
import json
import signal
import socket
import struct
import subprocess
import sys
import threading
from contextlib import contextmanager

import pytest

from orchestrator import pictures, scenarios
from orchestrator.node import Completed, program_argv
from orchestrator.pictures.io_models import DRAW
from orchestrator.result import Step
from orchestrator.scenarios import io_models as lesson
from orchestrator.watch.timeline import Timeline
from tests.unit.hostlab import ROOT, HostLab, HostNode
from tests.unit.test_queues import free_port, said

KEYS = ["thread-per-connection", "busy-loop", "select-limit", "epoll", "asyncio", "select-cost", "slow-reader",
        "nothing-left"]
SMALL = {"connections": 30, "active": 4, "every_ms": 20, "seconds": 0.6, "stall": 0.5, "slow_mib": 16, "rounds": 100}
ROOM = 24  # the server node's programs start with every descriptor from here to 1023 taken: room for 20
CROWDED = ("import os, resource, sys; "  # fills ROOM..1023 in the program's own process, then becomes the program
           "hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]; "
           "resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard)); "
           "null = os.open(os.devnull, os.O_RDONLY); "
           f"[os.dup2(null, fd) for fd in range({ROOM}, 1024)]; "
           "os.execv(sys.executable, sys.argv[1:])")


class LoopbackProcess:
    """A program running here, read as orchestrator.node.Process reads one in a node: its output kept as it
    comes, its lines waited for with a timeout, stopped with SIGTERM."""

    def __init__(self, argv):
        self.argv, self.stdout, self.stderr = argv, bytearray(), bytearray()
        self.popen = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.changed = threading.Condition()
        self.readers = [threading.Thread(target=self._read, args=(stream, kept), daemon=True)
                        for stream, kept in ((self.popen.stdout, self.stdout), (self.popen.stderr, self.stderr))]
        for reader in self.readers:
            reader.start()

    def _read(self, stream, kept):
        for chunk in iter(lambda: stream.read1(65536), b""):
            with self.changed:
                kept += chunk
                self.changed.notify_all()

    def _line(self, prefix):
        return next((line for line in self.stderr.decode(errors="replace").splitlines(keepends=True)
                     if line.startswith(prefix) and line.endswith("\n")), None)

    def line(self, prefix, timeout=10):
        with self.changed:
            self.changed.wait_for(lambda: self._line(prefix) or self.popen.poll() is not None, timeout)
            found = self._line(prefix)
        assert found, f"{self.argv} said no line starting {prefix!r}: {bytes(self.stderr[-300:])!r}"
        return found.rstrip("\n")

    def wait(self, timeout=60):
        code = self.popen.wait(timeout)
        for reader in self.readers:
            reader.join(10)
        return Completed("host", self.argv, code, bytes(self.stdout), bytes(self.stderr))

    def result(self, timeout=60):
        return self.wait(timeout).result()

    def stop(self):
        if self.popen.poll() is None:
            self.popen.terminate()
        try:
            return self.wait(10)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            return self.wait(10)


class LoopbackNode(HostNode):
    """A node that is this host, with Node.serve; `crowded`: every program it starts has its descriptors from
    ROOM to 1023 taken (its own, made before it starts: not this process's, which other tests' threads close)."""

    def __init__(self, spawned, crowded=False):
        super().__init__()
        self.spawned, self.crowded = spawned, crowded

    def start(self, program, *args):
        argv = program_argv(program, args)
        if self.crowded:
            argv = [argv[0], "-c", CROWDED, *argv]
        self.spawned.append(LoopbackProcess(argv))
        return self.spawned[-1]

    @contextmanager
    def serve(self, program, *args):
        process = self.start(program, *args)
        try:
            process.line("listening")
            yield process
        finally:
            process.stop()


class LoopbackLab(HostLab):
    def __init__(self):
        self.spawned, self.timeline = [], Timeline()
        self.server = LoopbackNode(self.spawned, crowded=True)
        self.clients = [LoopbackNode(self.spawned), LoopbackNode(self.spawned)]

    def node(self, name):
        return self.server

    def nodes(self, service):
        return self.clients

    def stop_spawned(self):
        for process in self.spawned:
            process.stop()


@pytest.fixture(scope="module")
def lesson_here():
    """{step key: Step} of one run of the lesson on this host at small scale."""
    lab, seen = LoopbackLab(), []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(lesson, "ADDRESS", "127.0.0.1")
        result = scenarios.run("io-models", lab, SMALL, progress=seen.append)
    assert result.duration_s < 40, "the lesson must stay short"
    assert len(seen) == len(lesson.MODELS) + 2
    return {step.key: step for step in result.steps}


def test_the_lesson_measures_every_model_here(lesson_here):
    assert list(lesson_here) == KEYS
    models = lesson_here["thread-per-connection"].facts["models"]
    assert list(models) == list(lesson.MODELS)
    for model in ("threads", "busy", "epoll", "asyncio"):
        assert models[model]["open"] == SMALL["connections"], model
    assert models["threads"]["threads"] == SMALL["connections"] + 1, "a thread per connection, and the main one"
    assert {models[model]["threads"] for model in ("busy", "select", "epoll", "asyncio")} == {1}
    assert all(step.expected and step.why and "{" not in step.observed for step in lesson_here.values())


def test_every_model_answers_every_line_it_was_sent(lesson_here):
    for model, key in zip(lesson.MODELS, KEYS):
        facts = lesson_here[key].facts
        assert facts["sent_lines"] >= SMALL["active"] * 20 and facts["missing_lines"] == 0, model
        assert facts["p50_ms"] < 50 and facts["max_ms"] >= facts["p95_ms"] >= facts["p50_ms"], model
        assert facts["server"]["stopped"] == "SIGTERM" and facts["server"]["nofile"]["raised_to"] >= 2048


def test_the_busy_loop_spins_where_the_others_wait_in_the_kernel(lesson_here):
    cpu = {model: row["cpu_per_s"] for model, row in lesson_here["busy-loop"].facts["models"].items()}
    assert cpu["busy"] >= 0.4 and cpu["busy"] > 3 * max(v for model, v in cpu.items() if model != "busy"), cpu
    assert lesson_here["busy-loop"].facts["window_s"] >= SMALL["seconds"]


def test_select_refuses_the_descriptors_past_1024_and_serves_the_rest(lesson_here):
    step = lesson_here["select-limit"]
    error = step.facts["server"]["select_error"]
    assert error, (step.facts["open"], step.facts["closed_by_server"], step.facts["server"])
    assert error["error"] == "filedescriptor out of range in select()" and error["descriptor"] >= 1024
    assert step.facts["closed_by_server"] == step.facts["server"]["refused"] > 0
    assert step.facts["open"] + step.facts["closed_by_server"] == SMALL["connections"]
    assert step.passed, step.observed


def test_epoll_asyncio_the_cost_of_select_and_the_slow_reader_pass_here(lesson_here):
    failed = {key: lesson_here[key].observed for key in ("epoll", "asyncio", "select-cost", "slow-reader",
                                                         "nothing-left") if not lesson_here[key].passed}
    assert not failed
    outputs = lesson_here["slow-reader"].facts["outputs"]
    assert outputs["drop"]["server"]["dropped_bytes"] == outputs["drop"]["slow"][0]["sent"] - \
        outputs["drop"]["slow"][0]["received"]
    assert outputs["block"]["slow"][0]["received"] < outputs["block"]["slow"][0]["sent"]
    assert outputs["buffer"]["slow"][0] == {**outputs["buffer"]["slow"][0], "intact": True, "ended": "closed"}


def test_every_picture_draws_from_the_facts_measured_here(lesson_here):
    for key in DRAW:
        picture = pictures.for_step("io-models", lesson_here[key])
        assert picture is not None and "<svg" in picture.data and picture.alt, key
    assert pictures.for_step("io-models", lesson_here["asyncio"]) is None, "a table, not a picture"


# the servers against bad peers

@pytest.fixture(params=lesson.MODELS)
def server(request):
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "nodes.iomodels", request.param, "--port", str(port)],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    said(process, "listening")
    yield request.param, process, port
    process.kill()
    process.wait(10)


def echoed(port, data):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)  # half-closed: the server answers, then closes
        return b"".join(iter(lambda: sock.recv(65536), b""))


def test_every_server_survives_resets_garbage_and_silent_peers_then_stops_on_sigterm(server):
    model, process, port = server
    silent = socket.create_connection(("127.0.0.1", port), timeout=10)
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as reset:
            reset.sendall(b"x" * 1000)
            reset.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close() sends RST
    garbage = bytes(range(256)) * 1000
    assert echoed(port, garbage) == garbage
    assert echoed(port, b"") == b""
    process.terminate()  # the silent peer still connected
    out, err = process.communicate(timeout=10)
    silent.close()
    report = json.loads(out)
    assert report["model"] == model and report["stopped"] == "SIGTERM" and report["pid"] == process.pid
    assert report["nofile"]["raised_to"] == report["nofile"]["hard"] >= report["nofile"]["soft"]
    assert "Traceback" not in err and all(line.startswith(("listening", "iomodels: ")) for line in err.splitlines())
    if model in ("busy", "select", "epoll"):
        assert report["output"] == "buffer" and report["select_error"] is None and report["dropped_bytes"] == 0


def test_a_client_needs_room_for_its_active_and_slow_connections():
    done = subprocess.run([sys.executable, "-m", "nodes.iomodels", "client", "127.0.0.1", "--connections", "3",
                           "--active", "3", "--slow", "1"], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "--active and --slow" in done.stderr


def test_a_client_waiting_to_be_told_to_go_ends_on_sigterm():
    port = free_port()
    with socket.create_server(("127.0.0.1", port)):
        client = subprocess.Popen([sys.executable, "-m", "nodes.iomodels", "client", "127.0.0.1", "--port", str(port),
                                   "--connections", "2", "--active", "1"], cwd=ROOT, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        assert client.stderr.readline().startswith("ready ")
        client.send_signal(signal.SIGTERM)
        client.communicate(timeout=10)
        assert client.returncode == -signal.SIGTERM


# the steps, from facts as 1,100 connections on this host's loopback measured them (2 cores, idle): the numbers of
# a run of the whole lesson through LoopbackLab with the default parameters

def measured_model(threads=1, rss_kib=25805, per_connection=0.46, cpu=0.026, open_=1100, closed=0, p50=0.1, p95=0.2,
                   max_ms=3.1, server=None):
    return {"server": server or {"model": "epoll", "stopped": "SIGTERM",
                                 "nofile": {"soft": 1024, "hard": 1048576, "raised_to": 1048576}},
            "threads": threads, "rss_kib": rss_kib, "fds": open_ + 4, "rss_before_kib": 25300,
            "rss_per_connection_kib": per_connection, "cpu_s": round(cpu * 3.03, 3), "window_s": 3.03,
            "cpu_per_s": cpu, "open": open_, "closed_by_server": closed, "sent_lines": 1200, "missing_lines": 0,
            "p50_ms": p50, "p95_ms": p95, "max_ms": max_ms, "slow": [], "timeline": [[0, 1.2], [100, 0.9], [200, 3.1]]}


SELECT_SERVER = {"model": "select", "stopped": "SIGTERM", "output": "buffer", "refused": 80, "dropped_bytes": 0,
                 "output_peak_bytes": 16, "nofile": {"soft": 1024, "hard": 1048576, "raised_to": 1048576},
                 "select_error": {"error": "filedescriptor out of range in select()", "descriptor": 1024}}
MEASURED = {"threads": measured_model(threads=1101, rss_kib=48333, per_connection=20.95, cpu=0.079),
            "busy": measured_model(rss_kib=25600, per_connection=0.36, cpu=0.993, p50=0.8, p95=2.1),
            "select": measured_model(open_=1020, closed=80, cpu=0.261, p50=0.4, p95=0.7, server=SELECT_SERVER),
            "epoll": measured_model(),
            "asyncio": measured_model(rss_kib=31437, per_connection=5.6, cpu=0.063, p50=0.2, p95=0.3)}
PARAMS = scenarios.defaults(lesson)
COST = {"sizes": [10, 100, 500, 1000], "rounds": 300, "select_us": [2.04, 9.53, 42.39, 89.11],
        "epoll_us": [0.66, 0.67, 0.7, 0.8]}
SERVED = {"select": 0.261, "epoll": 0.026}


def slow_run(sent, received, intact, ended, max_ms, dropped=0, peak=0, p95=0.2):
    return {"server": {"model": "epoll", "output_peak_bytes": peak, "dropped_bytes": dropped},
            "slow": [{"sent": sent, "received": received, "intact": intact, "ended": ended}],
            "sent_lines": 1200, "missing_lines": 0, "p50_ms": 0.1, "p95_ms": p95, "max_ms": max_ms,
            "timeline": [[0, max_ms], [100, 0.8]]}


SLOW = {"drop": slow_run(16777216, 4242432, False, "closed", 3.84, dropped=12534784),
        "block": slow_run(7012352, 0, False, "ECONNRESET", 999.98, p95=849.6),
        "buffer": slow_run(9240576, 9240576, True, "closed", 2.9, peak=279499)}


def with_model(model, **changes):
    measured = copy.deepcopy(MEASURED)
    measured[model].update(changes)
    return measured


def test_every_model_step_passes_with_the_phenomenon():
    for step in (lesson.threads_step, lesson.busy_step, lesson.select_step, lesson.epoll_step, lesson.asyncio_step):
        judged = step(MEASURED, PARAMS)
        assert judged.passed, (judged.key, judged.observed)
        assert "{" not in judged.observed and judged.facts["models"]["threads"]["threads"] == 1101


def test_thread_per_connection_fails_without_a_thread_each_or_without_their_memory():
    assert not lesson.threads_step(with_model("threads", threads=9), PARAMS).passed, "a pool of threads"
    assert not lesson.threads_step(with_model("threads", rss_per_connection_kib=3.0), PARAMS).passed, "as cheap"
    assert not lesson.threads_step(with_model("threads", open=900), PARAMS).passed


def test_busy_loop_fails_when_it_waits_or_when_another_model_spins():
    assert not lesson.busy_step(with_model("busy", cpu_per_s=0.05), PARAMS).passed
    assert not lesson.busy_step(with_model("select", cpu_per_s=0.95), PARAMS).passed
    assert not lesson.busy_step(with_model("asyncio", cpu_per_s=0.3), PARAMS).passed
    assert not lesson.busy_step(with_model("busy", missing_lines=30), PARAMS).passed


def test_select_limit_fails_without_the_error_or_when_the_process_limit_stopped_it():
    unlimited = with_model("select", open=1100, closed_by_server=0)
    unlimited["select"]["server"] = {**SELECT_SERVER, "select_error": None, "refused": 0}
    assert not lesson.select_step(unlimited, PARAMS).passed
    emfile = copy.deepcopy(MEASURED)
    emfile["select"]["server"]["nofile"] = {"soft": 1024, "hard": 1024, "raised_to": 1024}
    assert not lesson.select_step(emfile, PARAMS).passed
    assert not lesson.select_step(with_model("select", missing_lines=12), PARAMS).passed


def test_epoll_and_asyncio_fail_when_they_drop_connections_spin_or_use_threads():
    for model, step in (("epoll", lesson.epoll_step), ("asyncio", lesson.asyncio_step)):
        assert not step(with_model(model, open=1020), PARAMS).passed, model
        assert not step(with_model(model, cpu_per_s=0.9), PARAMS).passed, model
        assert not step(with_model(model, threads=5), PARAMS).passed, model
        assert not step(with_model(model, p95_ms=400.0), PARAMS).passed, model


def test_select_cost_passes_when_select_grows_and_epoll_stays_flat_and_fails_otherwise():
    step = lesson.select_cost_step(COST, SERVED)
    assert step.passed and step.facts["select_growth"] == 43.68 and "1000: select 89.11 / epoll 0.8" in step.observed
    assert "the select server used 0.261 s of CPU per second, the epoll server 0.026" in step.observed
    assert not lesson.select_cost_step({**COST, "select_us": [1.8, 1.9, 2.0, 2.1]}, SERVED).passed, "select flat"
    assert not lesson.select_cost_step({**COST, "epoll_us": [0.6, 6.0, 30.0, 60.0]}, SERVED).passed, "epoll grows"


def test_slow_reader_passes_with_loss_stall_and_an_intact_buffer_and_fails_without():
    assert lesson.slow_reader_step(SLOW, PARAMS).passed
    broken = {"drop loses nothing": ("drop", slow_run(4242432, 4242432, True, "closed", 3.84)),
              "block does not stall": ("block", slow_run(6750208, 0, False, "ECONNRESET", 12.0)),
              "the buffer loses data": ("buffer", slow_run(9240576, 9000000, False, "closed", 2.9, peak=279499)),
              "the buffer stalls": ("buffer", slow_run(9240576, 9240576, True, "closed", 900.0, peak=279499)),
              "never buffered": ("buffer", slow_run(9240576, 9240576, True, "closed", 2.9, peak=16))}
    for why, (output, run) in broken.items():
        assert not lesson.slow_reader_step({**SLOW, output: run}, PARAMS).passed, why


def test_every_picture_draws_from_full_scale_facts_with_its_alt_text():
    judged = [step(MEASURED, PARAMS) for step in (lesson.threads_step, lesson.busy_step, lesson.select_step,
                                                   lesson.epoll_step)]
    steps = {step.key: step for step in (*judged, lesson.select_cost_step(COST, SERVED),
                                         lesson.slow_reader_step(SLOW, PARAMS))}
    assert set(DRAW) == set(steps)
    drawn = {key: pictures.for_step("io-models", step) for key, step in steps.items()}
    assert all("<svg" in picture.data and picture.alt for picture in drawn.values())
    assert "a thread per connection 1101" in drawn["thread-per-connection"].alt
    assert "a busy loop 0.993" in drawn["busy-loop"].alt and "select 1020" in drawn["select-limit"].alt
    assert "1000: 89.11 / 0.8" in drawn["select-cost"].alt
    assert "got back 9240576 of 9240576 bytes" in drawn["slow-reader"].alt
    empty = Step("slow-reader", "n", False, "e", "o", "w", {})
    assert pictures.drawing("io-models", empty)[0] is None, "facts of another shape: a table instead"
