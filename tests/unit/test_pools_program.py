"""nodes.pools on this host (its quick subcommands, its server on the loopback), and the pools lesson's steps
and pictures from realistic facts: each step passes with the phenomenon and fails without it."""
import copy
import json
import subprocess
import sys
from contextlib import contextmanager

import pytest

from orchestrator import pictures
from orchestrator.node import Completed
from orchestrator.result import Step
from orchestrator.scenarios import pools
from tests.unit.test_queues import free_port, said


def run_pools(*argv, timeout=60):
    done = subprocess.run([sys.executable, "-m", "nodes.pools", *map(str, argv)], capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_sizes_measures_every_executor_at_every_size_and_says_the_cores():
    r = run_pools("sizes", "--kind", "io", "--work", 20, "--tasks", 8, "--sizes", "1,8", "--rounds", 1)
    assert r["sizes"] == [1, 8] and r["usable_cpus"] >= 1 and r["cpu_count"] >= r["usable_cpus"]
    assert set(r["seconds"]) == {"process", "thread"}
    assert r["rounds_s"]["thread"] == [[s] for s in r["seconds"]["thread"]]
    for one, eight in r["seconds"].values():  # 8 waits of 20 ms: one after another, or all at once
        assert one >= 0.16 and eight < one / 3


def test_map_blocks_and_asynchronous_calls_return_at_once():
    r = run_pools("calls", "--workers", 2, "--ms", 100)
    assert (r["workers"], r["task_ms"]) == (2, 100)
    for name in ("pool", "process", "thread"):
        call = r[name]["async"]
        assert call["returned_ms"] < 50 <= 100 <= call["done_ms"] and len(call["tasks_ms"]) == 2
    assert r["pool"]["map"]["returned_ms"] >= 100, "Pool.map() hands back the results"
    assert r["thread"]["map"]["returned_ms"] < 50 <= 100 <= r["thread"]["map"]["done_ms"], "Executor.map: an iterator"
    assert pools.calls_step(r).passed


def test_callbacks_run_in_the_parent_off_the_main_thread():
    r = run_pools("callback", "--ms", 100)
    main = r["main"]
    assert main["thread"] == "MainThread" and main["tid"] == main["pid"]
    assert r["pool"]["callback"]["pid"] == main["pid"] != r["pool"]["task"]["pid"]
    assert "_handle_results" in r["pool"]["callback"]["thread"]
    assert r["thread"]["callback"]["tid"] == r["thread"]["task"]["tid"] != main["tid"]
    assert pools.callback_step(r).passed


@pytest.fixture
def pool_server():
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "nodes.pools", "serve", "--workers", "2", "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    said(server, "listening")
    yield server, port
    server.kill()
    server.wait(10)


def test_the_pool_server_answers_from_its_workers_and_survives_bad_clients(pool_server):
    server, port = pool_server
    client = [sys.executable, "-m", "nodes.reqclient", "127.0.0.1", "--port", str(port)]
    load = json.loads(subprocess.run([*client, "--clients", "6", "--request", "io 50"], capture_output=True,
                                     text=True, timeout=30, check=True).stdout)
    assert len({answer.split("/")[0] for answer in load["servers"]}) <= 2 and load["seconds"] >= 0.15  # 3 waves
    abuse = json.loads(subprocess.run([*client, "--abuse"], capture_output=True, text=True, timeout=30,
                                      check=True).stdout)
    assert abuse["good_reply"] == "ok" and abuse["garbage_reply"].startswith("error")
    server.terminate()
    out, err = server.communicate(timeout=10)
    assert json.loads(out) == {"workers": 2, "stopped": "SIGTERM"}
    assert "ValueError: bad request" in err and "Traceback" not in err


def test_idle_connections_starve_a_later_client_until_one_closes(pool_server):
    _server, port = pool_server
    r = run_pools("starve", "127.0.0.1", "--port", port, "--connections", 2, "--patience", 0.5)
    assert r["starved"] and r["answer"].startswith("ok") and r["closed_ms"] >= 500
    assert r["after_close_ms"] < 500 and r["answered_ms"] >= r["closed_ms"]
    served = run_pools("starve", "127.0.0.1", "--port", port, "--connections", 1, "--patience", 0.5)
    assert not served["starved"] and served["closed_ms"] is None and served["answered_ms"] < 500


# facts as the lab measures them (2 CPUs), and the same facts without the phenomenon
CPU = {"kind": "cpu", "tasks": 16, "work": 300000, "sizes": [1, 2, 4, 8], "cpu_count": 2, "usable_cpus": 2,
       "seconds": {"process": [0.41, 0.21, 0.21, 0.22], "thread": [0.42, 0.43, 0.43, 0.44]},
       "cpus_busy": {"process": [0.98, 1.93, 1.94, 1.95], "thread": [0.98, 0.99, 0.99, 1.0]},
       "rounds_s": {"process": [[0.41] * 3, [0.21] * 3, [0.21] * 3, [0.22] * 3],
                    "thread": [[0.42] * 3, [0.43] * 3, [0.43] * 3, [0.44] * 3]}}
IO = {**CPU, "kind": "io", "work": 30, "seconds": {"process": [0.49, 0.25, 0.13, 0.065],
                                                   "thread": [0.49, 0.24, 0.12, 0.061]}}


def changed(facts, path, value):
    """A deep copy of facts with the value at path (a tuple of keys) replaced."""
    facts = copy.deepcopy(facts)
    *parents, last = path
    target = facts
    for key in parents:
        target = target[key]
    target[last] = value
    return facts


def test_cpu_sizes_pass_with_the_cores_and_the_gil_and_fail_without():
    step = pools.cpu_step(CPU)
    assert step.passed and step.facts["processes_speedup_to_cores"] == 1.95
    assert "2: 0.21 s" in step.observed and "{" not in step.observed
    assert "CPUs busy" in step.observed and "8: 1.95" in step.observed
    assert step.facts["most_cpus_busy"] == {"process": 1.95, "thread": 1.0}
    assert not pools.cpu_step(changed(CPU, ("cpus_busy", "thread"), [0.98, 1.9, 1.9, 1.9])).passed, "no GIL"
    assert not pools.cpu_step(changed(CPU, ("seconds", "process"), [0.41, 0.40, 0.41, 0.42])).passed, "one core"
    assert not pools.cpu_step(changed(CPU, ("cpus_busy", "process"), [0.98, 1.9, 3.8, 7.5])).passed, "8 cores"


def test_io_sizes_pass_when_time_falls_past_the_cores_and_fail_when_it_stops():
    step = pools.io_step(IO)
    assert step.passed and step.facts["speedup_at_largest"] == {"process": 7.54, "thread": 8.03}
    assert not pools.io_step(changed(IO, ("seconds", "thread"), [0.49, 0.25, 0.25, 0.25])).passed
    assert not pools.io_step(changed(IO, ("seconds", "process"), [0.49, 0.45, 0.44, 0.44])).passed


def calls_facts():
    tasks = [[1.0, 201.0], [1.2, 201.4]]
    return {"workers": 2, "task_ms": 200,
            "pool": {"map": {"returned_ms": 202.4, "done_ms": 202.4, "tasks_ms": tasks},
                     "async": {"returned_ms": 0.2, "done_ms": 201.8, "tasks_ms": tasks}},
            **{name: {"map": {"returned_ms": 0.1, "done_ms": 203.2, "tasks_ms": tasks},
                      "async": {"returned_ms": 0.1, "done_ms": 202.1, "tasks_ms": tasks}}
               for name in ("process", "thread")}}


def test_sync_vs_async_fails_when_map_does_not_block_or_submit_waits():
    facts = calls_facts()
    step = pools.calls_step(facts)
    assert step.passed and "apply_async() returned after 0.2 ms" in step.observed
    assert not pools.calls_step(changed(facts, ("pool", "map", "returned_ms"), 0.3)).passed
    assert not pools.calls_step(changed(facts, ("process", "async", "returned_ms"), 201.5)).passed
    assert not pools.calls_step(changed(facts, ("thread", "map", "returned_ms"), 202.0)).passed


def callback_facts():
    main = {"pid": 100, "tid": 100, "thread": "MainThread"}
    return {"main": main,
            "pool": {"done_before_attached": False, "task": {"pid": 101, "tid": 101, "thread": "MainThread"},
                     "callback": {"pid": 100, "tid": 103, "thread": "Thread-3 (_handle_results)"}},
            "process": {"done_before_attached": False, "task": {"pid": 104, "tid": 104, "thread": "MainThread"},
                        "callback": {"pid": 100, "tid": 105, "thread": "Thread-4"}},
            "thread": {"done_before_attached": False,
                       "task": {"pid": 100, "tid": 106, "thread": "ThreadPoolExecutor-0_0"},
                       "callback": {"pid": 100, "tid": 106, "thread": "ThreadPoolExecutor-0_0"}}}


def test_callback_where_fails_for_a_callback_in_the_worker_or_the_main_thread():
    facts = callback_facts()
    assert pools.callback_step(facts).passed
    in_worker = changed(facts, ("pool", "callback"), {"pid": 101, "tid": 101, "thread": "MainThread"})
    assert not pools.callback_step(in_worker).passed
    in_main = changed(facts, ("process", "callback"), {"pid": 100, "tid": 100, "thread": "MainThread"})
    assert not pools.callback_step(in_main).passed
    elsewhere = changed(facts, ("thread", "callback"), {"pid": 100, "tid": 107, "thread": "Thread-9"})
    assert not pools.callback_step(elsewhere).passed
    assert not pools.callback_step(changed(facts, ("thread", "done_before_attached"), True)).passed, "not measured"


PARAMS = {"workers": 4, "clients": 16, "request_ms": 200, "patience": 1.0, "idle": 30.0}


def load(seconds, answered_by):
    requests = [[n * 0.5, 200.0 * (1 + n // 4)] for n in range(16)]
    return {"seconds": seconds, "p50_ms": 500.0, "p95_ms": 800.0, "answered_by": answered_by, "requests": requests,
            "bad_clients": {"garbage_reply": "error bad request", "good_reply": "ok", "good_latency_ms": 12.0}}


def test_pool_server_fails_without_a_fixed_pool_or_a_queue():
    loads = {"pool": load(0.84, 4), "fork": load(0.23, 16)}
    step = pools.pool_server_step(loads, PARAMS)
    assert step.passed and "answered by 4 processes" in step.observed
    assert not pools.pool_server_step({**loads, "pool": load(0.84, 16)}, PARAMS).passed, "a process per client"
    assert not pools.pool_server_step({**loads, "pool": load(0.23, 4)}, PARAMS).passed, "nobody waited"
    assert not pools.pool_server_step({**loads, "pool": load(3.2, 4)}, PARAMS).passed, "one at a time"
    assert not pools.pool_server_step({**loads, "pool": load(0.84, 1)}, PARAMS).passed, "a pool of one"
    dead = changed(loads, ("pool", "bad_clients", "good_reply"), "")
    assert not pools.pool_server_step(dead, PARAMS).passed


STARVED = {"workers": 4, "idle_s": 30.0,
           "pool": {"connections": 4, "request": "io 10", "patience_s": 1.0, "starved": True, "answer": "ok 7 8 10.2",
                    "closed_ms": 1001.2, "answered_ms": 1013.9, "after_close_ms": 12.6},
           "fork": {"connections": 4, "request": "io 10", "patience_s": 1.0, "starved": False, "answer": "ok 9 9 10.4",
                    "closed_ms": None, "answered_ms": 17.8, "after_close_ms": None}}


def test_pool_starved_passes_only_when_the_pool_starves_and_fork_does_not():
    step = pools.pool_starved_step({k: STARVED[k] for k in ("pool", "fork")}, PARAMS)
    assert step.passed and "the answer 12.6 ms later" in step.observed and "answered after 17.8 ms" in step.observed
    answered = {**STARVED["pool"], "starved": False, "answered_ms": 15.0, "closed_ms": None, "after_close_ms": None}
    assert not pools.pool_starved_step({"pool": answered, "fork": STARVED["fork"]}, PARAMS).passed
    never = {**STARVED["pool"], "answer": None, "answered_ms": None, "after_close_ms": None}
    assert not pools.pool_starved_step({"pool": never, "fork": STARVED["fork"]}, PARAMS).passed
    fork_starved = {**STARVED["pool"]}
    assert not pools.pool_starved_step({"pool": STARVED["pool"], "fork": fork_starved}, PARAMS).passed


def alt(key, facts):
    picture = pictures.for_step("pools", Step(key, key, True, "e", "o", "w", facts))
    assert picture is not None and "<svg" in picture.data
    return picture.alt


def test_pictures_draw_from_the_lessons_facts():
    assert "process pool: 1→0.41, 2→0.21, 4→0.21, 8→0.22" in alt("cpu-bound-sizes", CPU)
    assert "(2 usable CPUs, dotted line)" in alt("io-bound-sizes", IO)
    assert "multiprocessing.Pool: map() returned after 202.4 ms" in alt("sync-vs-async", calls_facts())
    assert "pool: all answered after 0.84 s" in alt("pool-server", {"models": {"pool": load(0.84, 4),
                                                                            "fork": load(0.23, 16)}})
    assert "12.6 ms after the first idle connection closed at 1001.2 ms" in alt("pool-starved", STARVED)
    assert pictures.for_step("pools", Step("callback-where", "c", True, "e", "o", "w", callback_facts())) is None


class ScriptedLab:
    """A lab whose nodes answer each program with facts like the lab's, by the server running at the time."""

    def __init__(self):
        self.serving, self.calls = None, []
        self.nodes_ = [ScriptedNode(self, name) for name in ("worker1", "server", "client1", "client2")]

    def node(self, name):
        return next(node for node in self.nodes_ if node.name == name)

    def nodes(self, service):
        return [node for node in self.nodes_ if node.name.startswith(service)]


class ScriptedNode:
    def __init__(self, lab, name):
        self.lab, self.name = lab, name

    def run(self, argv, timeout=60):
        assert argv == ["nproc"], argv
        return Completed(self.name, argv, 0, b"2\n", b"")

    def program(self, name, *args, timeout=60):
        self.lab.calls.append((self.name, name, *map(str, args)))
        server = self.lab.serving
        if name == "reqclient":
            if "--abuse" in args:
                return load(0, 0)["bad_clients"]
            count = int(args[args.index("--clients") + 1])
            pids = [100 + n % 4 if server == "pool" else 200 + n + 8 * (self.name == "client2") for n in range(count)]
            return {"latencies_ms": [200.0] * count, "servers": [f"{pid}/1" for pid in pids],
                    "started_ms": [0.5] * count, "seconds": 0.84 if server == "pool" else 0.23}
        return {"sizes": CPU if "cpu" in args else IO, "calls": calls_facts(), "callback": callback_facts(),
                "starve": STARVED.get(server)}[args[0]]

    @contextmanager
    def serve(self, argv):
        self.lab.serving = "pool" if "nodes.pools" in argv else "fork"
        yield
        self.lab.serving = None

    def leftovers(self, *markers):
        return []


def test_run_starts_each_program_with_the_lessons_parameters_and_judges_every_step():
    lab = ScriptedLab()
    steps = pools.run(lab, {key: spec[0] for key, spec in pools.PARAMS.items()}, lambda text: None)
    assert [s.key for s in steps] == ["cpu-bound-sizes", "io-bound-sizes", "sync-vs-async", "callback-where",
                                      "pool-server", "pool-starved", "nothing-left"]
    assert all(s.passed for s in steps), [(s.key, s.observed) for s in steps if not s.passed]
    started = {call[:3] for call in lab.calls}
    assert ("worker1", "pools", "sizes") in started and ("client2", "pools", "starve") in started
    starve = next(call for call in lab.calls if call[2] == "starve")
    assert starve[starve.index("--connections") + 1] == "4"
    assert steps[4].facts["models"]["fork"]["answered_by"] == 16
