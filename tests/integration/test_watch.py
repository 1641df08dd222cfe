"""socklab watch and the replay, as a learner uses them: watch open in Debian's Chromium (Playwright) while
`socklab scenario sticky` runs; then that run's replay stepped to a packet whose fields are read back from
the capture itself; remote-exec's stale reply tied to the packet that brought its bytes."""
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from nodes.lib.frames import dissect, pcap_records
from orchestrator import report, scenarios
from tests.integration.conftest import PROJECT, RESULTS, ROOT
from tests.integration.test_report_browser import browser  # noqa: F401 (a fixture)

SOCKLAB = [sys.executable, "-m", "orchestrator", "--project", PROJECT]


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.fixture(scope="module")
def watch(lab):
    process = subprocess.Popen([*SOCKLAB, "watch"], stderr=subprocess.PIPE, text=True, cwd=ROOT)
    timer = threading.Timer(30, process.kill)  # a watch that never says its URL fails the test, not CI
    timer.start()
    line = process.stderr.readline()
    timer.cancel()
    found = re.search(r"http://127\.0\.0\.1:\d+/", line)
    assert found, line
    yield process, found.group()
    if process.poll() is None:
        process.kill()


def data_segments(pcap, src_port=None):
    """(absolute seq, payload bytes, offset in its stream) of each TCP segment with data, from the pcap alone."""
    found, first = [], {}
    for _, frame in pcap_records(pcap):
        layers = dissect(frame)
        tcp = layers and layers.get("tcp")
        if not tcp:
            continue
        flow = (tcp["src_port"], tcp["dst_port"])
        if "SYN" in tcp["flags"]:
            first[flow] = tcp["seq"] + 1
        if layers["payload"]["bytes"] and (src_port is None or tcp["src_port"] == src_port):
            found.append((tcp["seq"], layers["payload"]["bytes"], (tcp["seq"] - first[flow]) % 2**32))
    return found


@pytest.fixture(scope="module")
def sticky_live(lab, watch, browser):
    """What the page showed, polled every 150 ms while the lesson ran, and the run's folder."""
    _, url = watch
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    page.wait_for_selector("svg.topology g.node")
    seen = {"nodes": set(page.locator("svg.topology g.node").evaluate_all("g => g.map(n => n.dataset.node)")),
            "pairs": set(), "bytes": 0, "packets": 0, "closed": set(), "states": set(), "faulted": set(),
            "versions": []}
    run = subprocess.Popen([*SOCKLAB, "scenario", "sticky"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, cwd=ROOT)
    output = []
    reader = threading.Thread(target=lambda: output.extend(run.stdout), daemon=True)
    reader.start()
    while run.poll() is None:
        for a, b, state in page.locator("#connections tbody tr").evaluate_all(
                "rows => rows.map(r => [r.dataset.a, r.dataset.b, r.dataset.state])"):
            seen["pairs"].add((a, b))
            seen["states"].update(state.split())
        for source, target, sent, packets in page.locator("#traffic tbody tr").evaluate_all(
                "rows => rows.map(r => [r.dataset.from, r.dataset.to, Number(r.dataset.bytes), Number(r.dataset.packets)])"):
            if (source, target) == ("client1", "server"):
                seen["bytes"], seen["packets"] = max(seen["bytes"], sent), max(seen["packets"], packets)
        version = page.evaluate("() => document.body.dataset.version")
        if not seen["versions"] or seen["versions"][-1][1] != version:
            seen["versions"].append((time.monotonic(), version))
        seen["faulted"].update(page.locator("svg.topology g.node").evaluate_all(
            "nodes => nodes.filter(n => n.textContent.includes('⚠')).map(n => n.dataset.node)"))
        seen["closed"].update(tuple(x) for x in page.locator(
            "#events li[data-kind=connection-closing], #events li[data-kind=connection-closed]").evaluate_all(
            "items => items.map(i => [i.dataset.a, i.dataset.b])"))
        page.wait_for_timeout(150)
    reader.join(10)
    page.screenshot(path=str(ROOT / "reports" / "watch-screenshot.png"), full_page=True)
    page.close()
    assert run.returncode == 0, "".join(output[-20:])
    folder = Path(re.search(r"report: (\S+)index\.html", "".join(output)).group(1))
    return seen, folder, errors


def test_watch_shows_the_lesson_live(lab, sticky_live):
    seen, _, errors = sticky_live
    assert seen["nodes"] == {node.name for node in lab.nodes()}
    assert ("client1", "server") in seen["pairs"]
    assert "ESTABLISHED" in seen["states"]
    assert seen["bytes"] > 0 and seen["packets"] > 0, seen
    assert ("client1", "server") in seen["closed"]
    assert {"server", "client1"} <= seen["faulted"]  # the lesson impairs each in turn: drawn while in force
    times = [at for at, _ in seen["versions"]]
    assert any(sum(1 for t in times if start <= t < start + 2) >= 4 for start in times)  # ≥ twice a second
    assert errors == []


def test_a_closed_tab_leaves_watch_idle_and_ctrl_c_stops_it_with_a_tab_open(watch, sticky_live, browser):
    process, url = watch
    time.sleep(1)  # the last request of the closed page is over
    before = cpu_seconds(process.pid)
    time.sleep(3)
    assert cpu_seconds(process.pid) - before < 0.1  # nothing polls the lab when nothing asks
    page = browser.new_page()
    page.goto(url)
    page.wait_for_selector("svg.topology g.node")
    page.wait_for_timeout(1000)  # the page waits on its next answer
    process.send_signal(signal.SIGINT)
    started = time.monotonic()
    _, stderr = process.communicate(timeout=15)
    assert time.monotonic() - started < 3  # the open tab's wait does not hold Ctrl-C up
    assert process.returncode == 0
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1, stderr
    page.wait_for_function("() => document.getElementById('status').textContent === WORDS.stopped")  # said there
    page.close()


def test_watch_without_a_lab_is_one_line_and_exit_2(docker_engine):
    done = subprocess.run([sys.executable, "-m", "orchestrator", "--project", "socklabtest-nolab", "watch"],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "socklabtest-nolab" in done.stderr and "Traceback" not in done.stderr


def page_of(browser, path):
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(path.as_uri())
    return page, errors


def test_the_sticky_replay_steps_to_each_segment_of_the_wire_view(browser, sticky_live):
    """The N-th event of the replay is the N-th packet of the capture: its seq and length as the pcap has them,
    and the send() calls it carried as many as the sender's own record says."""
    _, folder, _ = sticky_live
    facts = json.loads((folder / "result.json").read_text())["steps"]
    wire = next(step for step in facts if step["key"] == "wire-view")["facts"]["nagle"]
    segments = data_segments((folder / "wire-view.pcap").read_bytes())
    assert [size for _, size, _ in segments] == wire["segments"]
    starts = [sum(wire["send_calls"][:i]) for i in range(len(wire["send_calls"]))]
    page, errors = page_of(browser, folder / "replay.html")
    page.check("#network")  # send(), recv() and packets only: → goes from one to the next
    page.keyboard.press("Home")
    shown = []
    for _ in range(200):
        if page.locator("#summary").get_attribute("data-kind") == "packet" and page.locator("#layers").get_attribute("data-length") != "0":
            shown.append((int(page.locator("#layers").get_attribute("data-seq")),
                          int(page.locator("#layers").get_attribute("data-length")),
                          page.locator("#ties li[data-tie=sends] button.jump").count(),
                          page.locator("#ties li[data-tie=recvs] button.jump").count()))
        before = page.locator("#position").text_content()
        page.keyboard.press("ArrowRight")
        if page.locator("#position").text_content() == before:
            break
    carried = [sum(1 for start, size in zip(starts, wire["send_calls"]) if start < offset + length and offset < start + size)
               for _, length, offset in segments]
    reads = [sum(wire["recv_chunks"][:i]) for i in range(len(wire["recv_chunks"]))]
    taken = [sum(1 for start, size in zip(reads, wire["recv_chunks"]) if start < offset + length and offset < start + size)
             for _, length, offset in segments]
    client_segments = [(seq, length, count, took) for (seq, length, _), count, took in zip(segments, carried, taken)]
    assert shown == client_segments
    assert sum(count for _, _, count, _ in client_segments) >= len(wire["send_calls"])  # every send() was on the wire
    page.screenshot(path=str(ROOT / "reports" / "replay-screenshot.png"))
    page.close()
    assert errors == []


def test_the_remote_exec_replay_ties_the_stale_reply_to_seqs_packet(browser, lab):
    result = next((r for r in reversed(RESULTS) if r.name == "remote-exec"), None) or scenarios.run("remote-exec", lab)
    folder = report.save_result(result).parent
    pwd = result.step("naive-leftover").facts["replies"][2]
    from_server = data_segments((folder / "naive-leftover.pcap").read_bytes(), src_port=7001)
    carrier = next(seq for seq, size, offset in from_server if offset <= pwd["reply_offset"] < offset + size)
    page, errors = page_of(browser, folder / "replay.html")
    page.locator("#events li[data-kind=recv]").nth(2).click()  # the third command's one recv(1024): pwd's
    assert page.locator("#summary").get_attribute("data-kind") == "recv"
    assert "stale" in page.locator("#summary").text_content()
    page.locator("#ties button.jump").first.click()
    assert page.locator("#summary").get_attribute("data-kind") == "packet"
    assert int(page.locator("#layers").get_attribute("data-seq")) == carrier
    page.close()
    assert errors == []
