"""The socket table read through NETLINK_SOCK_DIAG, on this host's own namespace (root, as CI is)."""
import os
import socket

import pytest

from orchestrator.watch.sockets import NotOnThisHost, SocketTable


@pytest.fixture
def pair():
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    server, _ = listener.accept()
    yield listener, client, server
    for sock in (listener, client, server):
        sock.close()


def ours(table, port):
    return {(c.local[1], c.remote[1]): c for c in table.tcp() if port in (c.local[1], c.remote[1])}


def test_a_connection_is_seen_from_both_ends_with_its_bytes(pair):
    listener, client, server = pair
    port, mine = listener.getsockname()[1], client.getsockname()[1]
    client.sendall(b"x" * 5000)
    got = 0
    while got < 5000:
        got += len(server.recv(65536))
    server.sendall(b"y" * 300)
    assert client.recv(300)
    with SocketTable(os.getpid()) as table:
        seen = ours(table, port)
    assert seen[(port, 0)].state == "LISTEN"
    sender, receiver = seen[(mine, port)], seen[(port, mine)]
    assert sender.state == receiver.state == "ESTABLISHED"
    assert sender.remote == ("127.0.0.1", port) and receiver.remote == ("127.0.0.1", mine)
    assert receiver.bytes_in == 5000 and sender.bytes_in == 300
    assert sender.bytes_out >= 5000 and sender.segs_out >= 2 and receiver.segs_in >= 2  # acked, SYN counted


def test_the_side_that_closes_first_waits_in_time_wait(pair):
    listener, client, server = pair
    port, mine = listener.getsockname()[1], client.getsockname()[1]
    client.close()
    assert server.recv(10) == b""
    with SocketTable(os.getpid()) as table:
        assert ours(table, port)[(port, mine)].state == "CLOSE-WAIT"
        server.close()
        assert ours(table, port)[(mine, port)].state == "TIME-WAIT"


def test_udp_datagrams_are_counted_for_the_namespace():
    with SocketTable(os.getpid()) as table, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as a, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as b:
        b.bind(("127.0.0.1", 0))
        datagrams = lambda: (table.counters()["Udp"]["InDatagrams"], table.counters()["Udp"]["OutDatagrams"])
        before = datagrams()
        for _ in range(5):
            a.sendto(b"d", b.getsockname())
            b.recv(10)
        inbound, outbound = (now - then for now, then in zip(datagrams(), before))
    assert inbound >= 5 and outbound >= 5


def test_a_process_that_is_not_here_is_said():
    with pytest.raises(NotOnThisHost):
        SocketTable(2**22 + 7)


def test_a_user_who_may_not_enter_the_namespace_is_told_so_not_that_it_is_elsewhere():
    """As root (CI) only: a child that drops to another uid may not setns into pid 1's namespace."""
    if os.getuid() != 0:
        pytest.skip("needs root to become another user")
    read, write = os.pipe()
    child = os.fork()
    if child == 0:
        os.setgid(65534)
        os.setuid(65534)
        try:
            SocketTable(1)
            os.write(write, b"read")
        except PermissionError:
            os.write(write, b"denied")
        except Exception as exc:  # noqa: BLE001 (anything else is the finding)
            os.write(write, type(exc).__name__.encode())
        os._exit(0)
    os.waitpid(child, 0)
    assert os.read(read, 100) == b"denied"
