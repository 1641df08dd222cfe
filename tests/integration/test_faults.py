"""Faults from outside the node: impair/clear, partition/heal, pause, kill/restart."""
import pytest

from orchestrator.errors import LabError

from .conftest import ping


def test_total_loss_cuts_a_peer_off_and_clear_restores_it(lab):
    server, client = lab.node("server"), lab.node("client1")
    assert ping(client, server.ip) == {server.ip: 2}
    server.impair(loss="100%")
    try:
        assert ping(client, server.ip) == {server.ip: 0}
        assert ping(server, client.ip) == {client.ip: 0}, "replies and requests both leave through the sidecar"
    finally:
        result = server.clear()
    assert result[0]["dropped"] >= 4 and result[0]["passed"] == 0
    assert ping(client, server.ip) == {server.ip: 2}


def test_rate_limit_slows_a_bulk_transfer(lab):
    server, client = lab.node("server"), lab.node("client1")
    receiver = server.start(["python3", "-c", (
        "import socket, sys, time\n"
        "s = socket.create_server(('', 9100)); print('listening', file=sys.stderr, flush=True)\n"
        "c, _ = s.accept(); n = 0; t = time.monotonic()\n"
        "while (b := c.recv(65536)): n += len(b)\n"
        "print(n, round(time.monotonic() - t, 3))\n")])
    receiver.expect("listening")
    client.impair(rate="2mbit")
    try:
        client.run(["python3", "-c", "import socket; socket.create_connection(('server', 9100)).sendall(b'x' * 500_000)"])
        size, seconds = receiver.wait(30).stdout.split()
    finally:
        client.clear()
    assert int(size) == 500_000
    assert 1.4 <= float(seconds) <= 4.0, f"500 kB at 2 Mbit/s takes about 2 s, took {seconds}"


def test_a_node_cannot_lift_its_own_fault(lab):
    done = lab.node("worker1").run(["iptables", "-S"])
    assert done.exit_code != 0 and b"Permission denied" in done.stderr


def test_partition_cuts_both_ways_and_only_that_pair(lab):
    server, client1, client2 = lab.node("server"), lab.node("client1"), lab.node("client2")
    lab.partition("client1", "server")
    try:
        assert ping(client1, server.ip) == {server.ip: 0}
        assert ping(server, client1.ip) == {client1.ip: 0}
        assert ping(client2, server.ip, client1.ip) == {server.ip: 2, client1.ip: 2}
    finally:
        lab.heal()
    assert ping(client1, server.ip) == {server.ip: 2}
    with pytest.raises(LabError, match="from itself"):
        lab.partition("server", "server")


UDP_ECHO = ("import socket, sys\n"
            "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('', 9200))\n"
            "print('listening', file=sys.stderr, flush=True)\n"
            "while True:\n    data, peer = s.recvfrom(100); s.sendto(data, peer)\n")
ASK = ("import socket, sys\n"
       "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.5); s.sendto(b'hi', (sys.argv[1], 9200))\n"
       "try:\n    print(s.recv(100).decode())\nexcept socket.timeout:\n    print('timeout')\n")


def test_pause_freezes_the_programs_not_the_network(lab):
    worker, client = lab.node("worker2"), lab.node("client2")
    echo = worker.start(["python3", "-c", UDP_ECHO])
    echo.expect("listening")
    ask = lambda: client.run(["python3", "-c", ASK, worker.ip]).stdout.decode().strip()
    assert ask() == "hi"
    worker.pause()
    try:
        assert ping(client, worker.ip) == {worker.ip: 2}, "the kernel still answers ICMP echo"
        assert ask() == "timeout", "but the frozen program cannot answer"
        with pytest.raises(LabError, match="paused"):
            worker.run(["true"])
        assert worker.refresh().status == "paused"
    finally:
        worker.unpause()
    assert ask() == "hi"
    assert worker.refresh().status in ("ready", "healthy"), "no failed check says otherwise"
    echo.stop()


def test_kill_and_restart(lab):
    worker, client = lab.node("worker3"), lab.node("client1")
    worker.impair(delay="10ms")
    worker.kill()
    assert worker.refresh().container.status == "exited"
    assert ping(client, "worker") == {"worker": 2}, "the service name now resolves to a live worker"
    worker.restart()
    worker = lab.node("worker3")
    assert worker.booted() and worker.status in ("ready", "healthy") and ping(client, worker.ip) == {worker.ip: 2}
    assert worker.clear() == [], "the fault went with the killed node's network namespace"
