"""The watch server over a pretend lab: the page, the state, only this host's address, sampling on demand."""
import http.client
import json
import re
import socket
import threading
import time

import pytest

from orchestrator.watch import server as watch_server
from tests.unit.watch.test_live import FakeLab


class CountingWatcher:
    def __init__(self, lab):
        self.samples = 0

    def sample(self):
        self.samples += 1
        return {"time": 1.0, "nodes": [{"name": "server"}], "connections": [], "links": [], "faults": [], "events": []}

    def close(self):
        pass


@pytest.fixture
def served(monkeypatch):
    monkeypatch.setattr(watch_server, "Watcher", CountingWatcher)
    monkeypatch.setattr(watch_server, "readable", lambda nodes: None)
    server = watch_server.WatchServer(FakeLab(), 0, "en")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def get(server, path, host=None):
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
    connection.putrequest("GET", path, skip_host=True)
    connection.putheader("Host", host or server.host)
    connection.endheaders()
    response = connection.getresponse()
    return response.status, response.read()


def test_the_page_and_the_state(served):
    status, page = get(served, "/")
    assert status == 200 and b"socklab watch" in page and b"<script>" in page
    status, state = get(served, "/state")
    assert status == 200 and json.loads(state)["nodes"] == [{"name": "server"}]
    assert get(served, "/elsewhere")[0] == 404


def test_only_this_hosts_own_address_is_answered(served):
    assert get(served, "/state", host="evil.example:80")[0] == 403
    assert served.watcher.samples == 0


def test_the_lab_is_read_only_when_asked_and_at_most_so_often(served, monkeypatch):
    monkeypatch.setattr(watch_server, "MIN_INTERVAL_S", 60)  # however slow the machine, the asks fall within
    assert served.watcher.samples == 0  # no page, no reading
    for _ in range(5):
        get(served, "/state")
    assert served.watcher.samples == 1  # five asks within MIN_INTERVAL_S share one sample


def test_a_page_that_has_seen_the_latest_waits_for_a_change(served, monkeypatch):
    monkeypatch.setattr(watch_server, "HOLD_S", 1.0)
    monkeypatch.setattr(watch_server, "MIN_INTERVAL_S", 0.05)
    version = json.loads(get(served, "/state")[1])["version"]
    started = time.monotonic()
    assert json.loads(get(served, f"/state?after={version}")[1])["version"] == version
    assert time.monotonic() - started >= 1.0  # nothing changed: held, the lab sampled all along
    assert served.watcher.samples > 5


def waiting(served, monkeypatch):
    """A page's request for a change after the latest, left waiting (the lab sampled every 50 ms meanwhile)."""
    monkeypatch.setattr(watch_server, "MIN_INTERVAL_S", 0.05)
    version = json.loads(get(served, "/state")[1])["version"]
    connection = socket.create_connection(("127.0.0.1", served.server_address[1]))
    connection.sendall(f"GET /state?after={version} HTTP/1.1\r\nHost: {served.host}\r\n\r\n".encode())
    time.sleep(0.3)
    return connection


def test_a_page_that_went_away_is_no_longer_sampled_for(served, monkeypatch):
    connection = waiting(served, monkeypatch)
    connection.close()  # the tab was closed
    time.sleep(0.3)
    samples = served.watcher.samples
    time.sleep(0.5)
    assert served.watcher.samples == samples


def test_closing_the_server_ends_a_pages_wait_at_once(served, monkeypatch):
    """Ctrl-C with a tab open: the tab's request, waiting for a change, ends; nothing waits HOLD_S."""
    connection = waiting(served, monkeypatch)
    started = time.monotonic()
    served.shutdown()
    served.server_close()
    assert time.monotonic() - started < 2
    connection.settimeout(2)
    assert connection.recv(100) == b""  # answered with nothing: the server is going
    connection.close()


def test_a_user_who_may_not_read_the_nodes_is_told_in_one_line(monkeypatch):
    monkeypatch.setattr(watch_server, "host_pids", lambda nodes: {"server": 1})

    def refused(pid):
        raise PermissionError(1, "Operation not permitted")
    monkeypatch.setattr(watch_server, "SocketTable", refused)
    with pytest.raises(watch_server.LabError, match="root"):
        watch_server.WatchServer(FakeLab(), 0, "en")


def test_the_page_speaks_chinese():
    page = watch_server.page(FakeLab(), "zh")
    words = json.loads(re.search(r"const WORDS = (.*);", page).group(1))
    assert 'lang="zh-CN"' in page and "套接字表" in page and "已建立" in words["opened"]


def test_a_lab_with_no_nodes_is_said(monkeypatch):
    lab = FakeLab()
    lab.nodes_, lab.project = [], "nolab"
    with pytest.raises(watch_server.LabGone, match="nolab"):
        watch_server.WatchServer(lab, 0, "en")
