"""The lab on a three-engine swarm: every scenario and every exercise's reference once, with the nodes spread
over the machines, plus what only a swarm has (a node's machine, restarts in place, faults through a remote
engine, an engine that stops answering, down on every machine).

The swarm is the local one (`make swarm-local`): the one running, else one made for this module and removed
after it. Each scenario and exercise runs once here, not the whole suite: the Compose run repeats
them and tests their bugs; here the question is whether they hold across machines. CI has a budget.
"""
import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from nodes.lib import ports
from orchestrator import exercises, scenarios
from orchestrator import engines
from orchestrator.engines import local_swarm
from orchestrator.engines import swarm as swarm_engine
from orchestrator.engines.swarm import SwarmEngine
from orchestrator.errors import BadParameter, EngineUnavailable, SwarmUnavailable
from orchestrator.image import node_tag
from orchestrator.lab import Lab, connect_engine
from orchestrator.learner import LearnerProgram
from tests.integration.conftest import assert_passed, ping
from tests.integration.test_exercises import HOME
from tests.integration.test_practice import WORKSPACE, socklab, terminal, tmux, wait_for  # noqa: F401 (fixture)

PROJECT = "socklabswarm"
SOCKLAB = str(Path(__file__).resolve().parents[2] / ".venv/bin/socklab")


@pytest.fixture(scope="module")
def manager(docker_engine):
    """The local swarm's manager: the one `make swarm-local` left running (kept), else one made for this
    module (removed after it). Engines that do not bind this session's workspace are made again."""
    swarm = local_swarm.LocalSwarm(docker_engine)
    kept = [engine for engine in swarm.engines() if swarm.shares(engine)]
    try:
        yield swarm.up(len(kept) if len(kept) >= 3 else 3)["SOCKLAB_MANAGER"]
    finally:
        if len(kept) < 3:
            swarm.down()


@pytest.fixture(scope="module")
def swarm_lab(manager):
    lab = Lab(PROJECT, backend=SwarmEngine(manager))
    lab.down()
    try:
        yield lab.up(workers=3)
    finally:
        lab.down()


def test_up_where_there_is_no_swarm_says_how_to_make_one(docker_engine, monkeypatch):
    if docker_engine.info()["Swarm"]["LocalNodeState"] == "active":
        pytest.skip("this host's own engine is in a swarm")
    monkeypatch.setattr(swarm_engine, "LOCAL_MANAGER", Path("/nonexistent/docker.sock"))  # not the local swarm
    with pytest.raises(SwarmUnavailable, match="make swarm-local"):
        Lab("socklabnoswarm", backend=SwarmEngine(None)).up()


def test_the_lab_spreads_over_the_machines(swarm_lab):
    machines = {node.name: node.machine_name for node in swarm_lab.nodes()}
    assert len(machines) == 6
    assert len({machines["server"], machines["client1"], machines["client2"]}) == 3, machines
    assert len(set(machines.values())) == 3


def test_ps_shows_each_nodes_machine(swarm_lab):
    done = subprocess.run([SOCKLAB, "--project", PROJECT, "ps", "--json"], capture_output=True,
                          text=True, env={**os.environ, "SOCKLAB_ENGINE": ""})  # found by its record alone
    assert done.returncode == 0, done.stderr
    rows = {row["node"]: row for row in json.loads(done.stdout)}
    assert {row["machine"] for row in rows.values()} == set(swarm_lab.where()["machines"].values())
    assert all(row["health"] == "ready" for row in rows.values()), rows


@pytest.mark.parametrize("name", sorted(scenarios.available()))
def test_every_scenario_passes_across_machines(swarm_lab, name):
    result = assert_passed(scenarios.run(name, swarm_lab))
    assert result.engine == "swarm" and len(set(result.machines.values())) == 3
    if name == "ping":  # the round trips within a machine and between two, apart
        facts = result.step("reach-by-ip").facts
        assert facts["rtt_p50_same_machine_ms"] > 0 and facts["rtt_p50_across_machines_ms"] > 0
        assert "between machines" in result.step("reach-by-ip").observed


@pytest.mark.parametrize("name", sorted(exercises.available()))
def test_every_exercise_reference_passes_across_machines(swarm_lab, name):
    learner = LearnerProgram(HOME / name / "reference.py")
    result = assert_passed(exercises.run(name, swarm_lab, learner))
    assert result.engine == "swarm"


def test_a_class_is_graded_on_labs_spread_over_the_machines(manager, monkeypatch, tmp_path):
    from orchestrator import grading
    monkeypatch.setenv("SOCKLAB_MANAGER", manager)
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(HOME / "framing" / "reference.py", folder / "reference.py")
    shutil.copy(HOME / "framing" / "bugs" / "no_recv_loop.py", folder / "no_recv_loop.py")
    run = grading.Grading(grading.Plan("framing", str(folder), labs=2, seed=1, engine="swarm", project=PROJECT,
                                       out=tmp_path / "out"))
    outcomes = {o.submission.student: o for o in run.run()}
    assert outcomes["reference"].result.passed, outcomes["reference"]
    assert not outcomes["no_recv_loop"].result.step("sizes").passed
    for outcome in outcomes.values():
        assert outcome.result.engine == "swarm" and len(set(outcome.result.machines.values())) == 3
    data, folder = run.write()
    assert json.loads((folder / "class.json").read_text())["engine"] == "swarm"
    services = SwarmEngine(manager).client.services.list()
    assert not [s.name for s in services if s.name.startswith(f"{PROJECT}-grade")], "every grading lab is down"


def test_an_engine_holding_another_image_under_the_tag_gets_the_labs_own(swarm_lab):
    node = swarm_lab.node("client2")
    tag = node.container.image.tags[0]
    impostor = node.container.commit(repository=tag.split(":")[0], tag=tag.split(":")[1])
    said = []
    assert swarm_lab.backend.image(said.append) == tag
    assert node.engine.images.get(tag).id == connect_engine().images.get(tag).id != impostor.id
    assert any(node.machine_name in line for line in said), said
    node.engine.images.remove(impostor.id)


@pytest.fixture
def registry(tmp_path):
    """Debian's docker-registry on this host's port 5000 (`make host` installs it): 127.0.0.1:5000 here and
    on every engine of the local swarm."""
    config = tmp_path / "registry.yml"
    config.write_text(f"version: 0.1\nstorage: {{filesystem: {{rootdirectory: {tmp_path}}}}}\n"
                      f"http: {{addr: ':{local_swarm.REGISTRY_PORT}'}}\nlog: {{level: error}}\n")
    server = subprocess.Popen([shutil.which("docker-registry") or "docker-registry", "serve", str(config)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{local_swarm.REGISTRY_PORT}/v2/"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url, timeout=1)
                break
            except OSError:
                assert server.poll() is None, server.stderr.read()
                time.sleep(0.05)  # the registry's port opens when it has started
        yield f"127.0.0.1:{local_swarm.REGISTRY_PORT}"
    finally:
        server.terminate()
        server.wait(10)


def test_with_a_registry_the_machines_pull_the_image_instead(swarm_lab, registry, monkeypatch):
    monkeypatch.setenv("SOCKLAB_REGISTRY", registry)
    lab = Lab("socklabregistry", backend=SwarmEngine(swarm_lab.backend.manager_url))
    try:
        lab.up(workers=0)
        images = {node.machine_name: node.container.attrs["Config"]["Image"] for node in lab.nodes()}
        assert len(images) == 3 and set(images.values()) == {f"{registry}/{node_tag()}"}
    finally:
        lab.down()


def test_exec_reaches_a_node_on_another_machine_from_the_command_line(swarm_lab):
    done = subprocess.run([SOCKLAB, "--project", PROJECT, "exec", "client2", "--", "hostname"],
                          capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "client2", done.stderr


def test_practice_on_a_node_of_another_machine(swarm_lab, terminal):
    """The workspace, detached programs, faults and a real shell, on client2, whose machine is not the manager's."""
    assert swarm_lab.node("client2").machine_name != swarm_lab.node("server").machine_name
    program = WORKSPACE / "swarm-practice.py"
    program.write_text("import socket\nprint('up on', socket.gethostname(), flush=True)\nimport time\ntime.sleep(300)\n")
    try:
        started = socklab("run", "-d", "client2", program.name, project=PROJECT)
        assert started.returncode == 0 and "started program" in started.stderr, started.stderr
        running = [p for p in json.loads(socklab("programs", "client2", "--json", project=PROJECT).stdout)
                   if p["state"] == "running"]
        wait_until(lambda: socklab("logs", "client2", running[0]["id"], project=PROJECT).stdout == "up on client2\n")
        assert socklab("stop", "client2", running[0]["id"], project=PROJECT).returncode == 0
        assert swarm_lab.node("client2").leftovers("swarm-practice") == []
    finally:
        program.unlink()
    assert socklab("impair", "client2", "--delay", "50ms", project=PROJECT).returncode == 0
    faults = {row["node"]: row["faults"] for row in json.loads(socklab("ps", "--json", project=PROJECT).stdout)}
    assert faults["client2"] == ["impair"] and socklab("clear", "client2", project=PROJECT).returncode == 0
    tmux("new-session", "-d", "-s", terminal, "-x", "100", "-y", "30", f"{SOCKLAB} --project {PROJECT} shell client2")
    wait_for(terminal, r"\w+@client2:(~|/workspace)\$\s*$")
    tmux("send-keys", "-t", terminal, "hostname", "Enter")
    wait_for(terminal, r"(^|\n)client2\n")
    tmux("send-keys", "-t", terminal, "C-d")


def wait_until(condition, timeout=10):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not within 10 s"
        time.sleep(0.1)  # a detached program's output arrives when it arrives


def test_watch_sees_each_nodes_machine_and_a_connection_between_two(swarm_lab):
    """The local swarm's engines run on this kernel: each node's sockets are found by its container's id."""
    from orchestrator.watch.live import Watcher
    watcher = Watcher(swarm_lab)
    try:
        nodes = watcher.sample()["nodes"]
        assert {n["name"]: n["machine"] for n in nodes} == swarm_lab.where()["machines"]
        assert all(n["here"] for n in nodes)
        server, client = swarm_lab.node("server"), swarm_lab.node("client1")
        assert server.machine_name != client.machine_name
        with server.serve("receiver", "tcp", "--port", ports.STICKY) as receiver:
            sender = client.start("sender", "tcp", "server", "--port", ports.STICKY, "--count", 60, "--size", 1000,
                                  "--nodelay", "--gap-ms", 50)
            wait_until(lambda: any((link["from"], link["to"]) == ("client1", "server") and link["bytes_per_s"] > 0
                                   for link in watcher.sample()["links"]))
            sender.result(30)
            receiver.result(30)
    finally:
        watcher.close()


def test_a_partition_between_two_machines_is_held_by_their_own_engines(swarm_lab):
    client1, client2 = swarm_lab.node("client1"), swarm_lab.node("client2")
    assert client1.machine_name != client2.machine_name
    swarm_lab.partition(client1, client2)
    try:
        assert ping(client1, client2.ip) == {client2.ip: 0}
        sidecars = {fault.node: fault for fault in swarm_lab.faults()}
        assert set(sidecars) == {"client1", "client2"}
    finally:
        swarm_lab.heal()
    assert ping(client1, client2.ip) == {client2.ip: 2}


def test_a_killed_node_restarts_on_its_own_machine(swarm_lab):
    worker = swarm_lab.node("worker2")
    machine, old = worker.machine_name, worker.container.id
    worker.kill()
    worker.restart()
    again = swarm_lab.node("worker2")
    assert worker.container.id != old and again.container.id == worker.container.id
    assert again.machine_name == machine and again.container.status == "running"
    assert worker.program("ping", "--count", 1, "--timeout", 1, "--interval", 0.01, "server")["targets"][0]["received"]


def test_up_again_keeps_every_node_where_it_is_and_brings_a_killed_one_back(swarm_lab):
    before = swarm_lab.where()["machines"]
    swarm_lab.node("worker1").kill()
    swarm_lab.up()
    assert swarm_lab.where()["machines"] == before
    assert all(node.container.status == "running" for node in swarm_lab.nodes())


def test_placement_pins_a_node_or_a_service_and_refuses_what_is_not_there(swarm_lab):
    machines = sorted(set(swarm_lab.where()["machines"].values()))
    chosen = {name: m.name for name, _, _, m in swarm_lab.backend.placement(3, {"worker": machines[2]}, {})}
    assert [chosen[f"worker{i}"] for i in (1, 2, 3)] == [machines[2]] * 3
    with pytest.raises(BadParameter):
        swarm_lab.backend.placement(3, {"worker9": machines[0]}, {})
    with pytest.raises(BadParameter):
        swarm_lab.backend.placement(3, {"server": "nowhere"}, {})


def test_an_engine_that_stops_answering_is_named_and_down_cleans_the_others(swarm_lab, docker_engine):
    client2 = swarm_lab.node("client2")
    number = int(client2.machine_name.removeprefix("engine"))
    engine = docker_engine.containers.get(f"{local_swarm.PREFIX}{number}")
    engine.stop(timeout=5)
    try:
        with pytest.raises(EngineUnavailable, match=f"machine {client2.machine_name}"):
            client2.run(["true"])
        assert swarm_lab.down() == [client2.machine_name]
        assert engines.recorded(PROJECT)["engine"] == "swarm", "kept, for the next down"
        others = [m for m in swarm_lab.backend.machines() if m.name != client2.machine_name]
        assert all(m.client.containers.list(all=True, filters={"label": f"com.docker.stack.namespace={PROJECT}"}) == []
                   for m in others)
    finally:
        engine.start()
        local_swarm.LocalSwarm(docker_engine).answering(number)


