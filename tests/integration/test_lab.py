"""The lab itself: nodes, names, exec exactness, background programs, images."""
import pytest

from orchestrator import scenarios
from orchestrator.errors import LabError
from orchestrator.image import Images, node_tag


def test_every_node_is_healthy_with_an_address_on_the_lab_subnet(lab):
    nodes = lab.nodes()
    assert [n.name for n in nodes] == ["server", "client1", "client2", "worker1", "worker2", "worker3"]
    prefix = lab.subnet.rsplit(".", 1)[0] + "."
    for node in nodes:
        assert node.health == "healthy" and node.ip.startswith(prefix), node


def test_containers_are_found_by_compose_labels_not_names(lab):
    node = lab.node("client2")
    assert node.container.labels["com.docker.compose.project"] == lab.project
    assert lab.node("server").name == "server" and lab.node("client").name == "client1"
    with pytest.raises(LabError, match="no node 'client9'"):
        lab.node("client9")


def test_ping_scenario_reaches_everyone_by_name_and_ip_and_shows_a_delay(lab):
    result = scenarios.run("ping", lab, ["count=3"])
    steps = {s.name: s for s in result.steps}
    assert result.passed, [s.observed for s in result.steps if not s.passed]
    names, ips = steps["reach by service name"].facts, steps["reach by IP"].facts
    assert names["answered"] == names["sent"] > 0
    assert len(ips["rtt_p50_ms"]) == 6 and all(len(row) == 5 for row in ips["rtt_p50_ms"].values())
    delay = steps["impair server: delay 50 ms"].facts
    assert all(40 <= added <= 75 for added in delay["added_ms"].values()), delay["added_ms"]
    assert all(after < 25 for after in delay["after_p50_ms"].values()), delay["after_p50_ms"]


def test_run_returns_exit_code_and_separate_exact_streams(lab):
    done = lab.node("server").run(["sh", "-c", r"printf 'out\377\000x'; printf 'err\200' >&2; exit 7"])
    assert (done.exit_code, done.stdout, done.stderr) == (7, b"out\xff\x00x", b"err\x80")


def test_run_carries_a_mebibyte_exactly(lab):
    script = "import sys; sys.stdout.buffer.write(bytes(range(256)) * 4096); sys.stderr.write('e' * 70000)"
    done = lab.node("worker1").run(["python3", "-c", script])
    assert done.exit_code == 0
    assert done.stdout == bytes(range(256)) * 4096 and done.stderr == b"e" * 70000


def test_run_times_out_with_a_clear_error(lab):
    with pytest.raises(LabError, match="did not finish within 1 s"):
        lab.node("client1").run(["sleep", "30"], timeout=1)


def test_node_program_error_is_one_line(lab):
    with pytest.raises(LabError, match=r"nodes.ping on client1 failed \(2\): nodes.ping: error: cannot resolve"):
        lab.node("client1").program("ping", "no-such-node")


def test_spawn_expect_and_stop_a_process_group(lab):
    node = lab.node("client2")
    script = ("import multiprocessing as mp, sys, time\n"
              "child = mp.Process(target=time.sleep, args=(60,)); child.start()\n"
              "print('ready', child.pid, file=sys.stderr, flush=True)\n"
              "time.sleep(60)\n")
    process = node.spawn(["python3", "-c", script])
    child = process.line("ready ").split()[1]
    done = process.stop()
    assert done.exit_code != 0 and b"ready" in done.stderr
    assert node.run(["ps", "-p", child]).exit_code == 1, "the child in the same process group is gone too"


def test_spawn_wait_returns_the_outcome(lab):
    process = lab.node("worker2").spawn(["sh", "-c", "echo done; exit 3"])
    done = process.wait(timeout=10)
    assert (done.exit_code, done.stdout) == (3, b"done\n")


def test_second_ensure_builds_nothing(lab):
    said = []
    assert Images(lab.client, said.append).ensure() == node_tag()
    assert said == []


def test_execd_key_is_generated_and_mounted_read_only_where_needed(lab):
    key = (lab.secrets / "execd.key").read_text().strip()
    assert len(key) == 64
    for name in ("server", "client1", "client2"):
        node = lab.node(name)
        assert node.run(["cat", "/run/socklab/execd.key"]).stdout.decode().strip() == key
        assert node.run(["sh", "-c", "echo x > /run/socklab/execd.key"]).exit_code != 0
    assert lab.node("worker1").run(["test", "-e", "/run/socklab/execd.key"]).exit_code == 1
