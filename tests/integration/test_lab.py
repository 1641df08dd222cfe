"""The lab itself: nodes, names, exec exactness, background programs, images."""
import pytest

from orchestrator import scenarios
from orchestrator.errors import NodeNotFound, NotReady, ProgramFailed, TimedOut
from orchestrator.image import Images, node_tag


def test_every_node_is_ready_with_an_address_on_the_lab_subnet(lab):
    nodes = lab.nodes()
    assert [n.name for n in nodes] == ["server", "client1", "client2", "worker1", "worker2", "worker3"]
    prefix = lab.subnet.rsplit(".", 1)[0] + "."
    for node in nodes:
        assert node.booted() and node.status in ("ready", "healthy") and node.ip.startswith(prefix), node


def test_a_node_is_ready_because_its_boot_said_so_not_because_it_runs(lab):
    with lab.scratch_node("unbooted") as bare:  # PID 1 is sleep: nodes.boot never ran there
        assert bare.refresh().container.status == "running" and not bare.booted()


def test_containers_are_found_by_compose_labels_not_names(lab):
    node = lab.node("client2")
    assert node.container.labels["com.docker.compose.project"] == lab.project
    assert lab.node("server").name == "server" and lab.node("client").name == "client1"
    with pytest.raises(NodeNotFound) as caught:
        lab.node("client9")
    assert caught.value.name == "client9" and "client2" in caught.value.known


def test_ping_scenario_reaches_everyone_by_name_and_ip_and_shows_a_delay(lab):
    result = scenarios.run("ping", lab, {"count": 3})
    assert result.passed, [s.observed for s in result.steps if not s.passed]
    names, ips = result.step("reach-by-name").facts, result.step("reach-by-ip").facts
    assert names["answered"] == names["sent"] > 0
    assert names["pings"]["server"]["client"]["addresses"] == names["service_ips"]["client"], "every replica"
    assert "client" not in names["pings"]["client1"], "no node pings its own service's name"
    assert len(ips["rtt_p50_ms"]) == 6 and all(len(row) == 5 for row in ips["rtt_p50_ms"].values())
    delay = result.step("impaired-delay").facts
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
    with pytest.raises(TimedOut) as caught:
        lab.node("client1").run(["sleep", "30"], timeout=1)
    assert (caught.value.node, caught.value.seconds) == ("client1", 1)


def test_a_command_exiting_124_is_not_a_timeout(lab):
    assert lab.node("client1").run(["sh", "-c", "exit 124"], timeout=5).exit_code == 124


def test_node_program_error_has_its_fields(lab):
    with pytest.raises(ProgramFailed) as caught:
        lab.node("client1").program("ping", "no-such-node")
    failed = caught.value
    assert (failed.node, failed.exit_code, failed.argv[:3]) == ("client1", 2, ["python3", "-m", "nodes.ping"])
    assert failed.stderr_tail.startswith("nodes.ping: error: cannot resolve") and "\n" not in str(failed)


def test_serve_waits_for_readiness_and_stops_at_the_end(lab):
    node = lab.node("worker1")
    with node.serve("reqserver", "iterative", "--idle", 1) as server:
        assert server.running and b"listening" in server.stderr
    assert not server.running and node.leftovers("nodes.reqserver") == []


def test_serve_names_a_program_that_died_before_it_was_ready(lab):
    with pytest.raises(ProgramFailed) as caught:
        with lab.node("worker1").serve("reqserver", "no-such-model"):
            pytest.fail("never ready")
    assert caught.value.exit_code == 2 and "invalid choice" in caught.value.stderr_tail


def test_serve_gives_up_on_a_silent_program(lab):
    with pytest.raises(NotReady) as caught:
        with lab.node("worker1").serve(["sleep", "30"], timeout=0.5):
            pytest.fail("never ready")
    assert caught.value.text == "listening" and caught.value.node == "worker1"
    assert lab.node("worker1").leftovers("sleep 30") == []


def test_start_result_is_the_programs_json(lab):
    process = lab.node("worker2").start("procs", "daemon-child")
    assert process.result(30)["child_said"].startswith("AssertionError")


def test_start_and_stop_a_process_group(lab):
    node = lab.node("client2")
    script = ("import multiprocessing as mp, sys, time\n"
              "child = mp.Process(target=time.sleep, args=(60,)); child.start()\n"
              "print('ready', child.pid, file=sys.stderr, flush=True)\n"
              "time.sleep(60)\n")
    process = node.start(["python3", "-c", script])
    child = process.line("ready ").split()[1]
    done = process.stop()
    assert done.exit_code != 0 and b"ready" in done.stderr
    assert node.run(["ps", "-p", child]).exit_code == 1, "the child in the same process group is gone too"


def test_wait_returns_the_outcome(lab):
    process = lab.node("worker2").start(["sh", "-c", "echo done; exit 3"])
    done = process.wait(timeout=10)
    assert (done.exit_code, done.stdout) == (3, b"done\n")


def test_second_ensure_builds_nothing(lab):
    said = []
    assert Images(lab.engine, said.append).ensure() == node_tag()
    assert said == []


def test_execd_key_is_generated_and_mounted_read_only_where_needed(lab):
    key = (lab.secrets / "execd.key").read_text().strip()
    assert len(key) == 64
    for name in ("server", "client1", "client2"):
        node = lab.node(name)
        assert node.run(["cat", "/run/socklab/execd.key"]).stdout.decode().strip() == key
        assert node.run(["sh", "-c", "echo x > /run/socklab/execd.key"]).exit_code != 0
    assert lab.node("worker1").run(["test", "-e", "/run/socklab/execd.key"]).exit_code == 1
