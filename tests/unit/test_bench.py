"""The bench's table, rendered from the shape of results bench.run() returns: every row, every target."""
import io

from rich.console import Console

from orchestrator import bench


def results():
    modes = ("raw", "framed", "framed+sha256")
    return {"rounds": 5, "met": {key: True for key in bench.TARGETS},
            "lab": {"nodes": 6, "warm_up_s": 1.9, "bare_up_s": 1.6, "warm_up_ratio": 1.19, "down_s": 1.2,
                    "bare_down_s": 0.65, "down_ratio": 1.85, "idle_node_mb": 2.1, "bare_idle_mb": 0.6, "idle_ratio": 3.5},
            "idle": {"no_lab_pct": 0.36, "lab_pct": 0.92, "idle_busy_pct": 0.56, "window_s": 65,
                     "lab_10_workers_pct": 1.16, "idle_busy_10_workers_pct": 0.8},
            "framing": {"1 MiB": {"size": 1 << 20, "mb_per_s": {m: 1000.0 for m in modes},
                                  "messages_per_s": {m: 950.0 for m in modes}, "ratio_to_raw": {m: 1.0 for m in modes}},
                        "64 B": {"size": 64, "mb_per_s": {m: 5.0 for m in modes},
                                 "messages_per_s": {m: 80000.0 for m in modes}, "ratio_to_raw": {m: 0.45 for m in modes}}},
            "remote_exec": {"true": {"runs": 200, "framed": {"p50_ms": 2.0}, "ssh": {"p50_ms": 6.0}},
                            "p50_ratio_framed_to_ssh": 0.33, "throughput_mb_s": {"framed": 100.0, "ssh": 80.0}},
            "queue": {"maxsize": 1000, "batch": 50, "plain_to_bare": 0.95, "reliable_3_to_1": 1.5,
                      "tasks_per_s": {"plain": 12100, "bare": 12700, "reliable_1": 99700, "reliable_2": 136600,
                                      "reliable_3": 147700}},
            "swarm": {"up_s": {"compose": 2.0, "swarm": 3.1}, "exec_p50_ms": {"compose": 9.0, "swarm": 11.0},
                      "up_ratio": 1.55, "exec_ratio": 1.22, "rtt_p50_ms": {"same": 0.08, "across": 0.21}},
            "class": {"size": 24, "three_labs_s": 52.0, "one_lab_s": 118.0, "three_to_one": 2.27, "lab_mb": 180.5,
                      "big": 100, "big_s": 201.0, "big_labs": 3},
            "watch": {"window_s": 30, "rounds": 4, "no_browser_pct": 0.5, "watch_own_pct": 0.3, "idle_pct": 0.9, "idle_watched_pct": 1.4, "watch_idle_busy_pct": 0.5,
                      "rtt_ms": 0.061, "rtt_watched_ms": 0.063, "watch_rtt_ratio": 1.03, "framed_per_s": 950.0,
                      "framed_watched_per_s": 940.0, "watch_framed_ratio": 0.99}}


def test_the_table_has_a_row_per_figure_and_says_each_target():
    console = Console(file=io.StringIO(), width=200, record=True, color_system=None)
    console.print(bench.table(results()))
    text = console.export_text()
    assert bench.table(results()).row_count == 5 + 4 + 2 + 2 + 3 + 3 + 3
    assert text.count("met") == len(bench.TARGETS) and "99,700, 136,600, 147,700" in text
    assert "3.10" in text and "0.21" in text and "2.62×" in text and "+0.5" in text and "0.063" in text


def test_a_swarm_that_could_not_run_is_one_row_saying_why():
    failed = {**results(), "swarm": {"error": "no swarm here"}, "met": {**results()["met"], "swarm_up_ratio": False}}
    console = Console(file=io.StringIO(), width=200, record=True, color_system=None)
    console.print(bench.table(failed))
    assert bench.table(failed).row_count == 5 + 4 + 2 + 2 + 1 + 3 + 3 and "no swarm here" in console.export_text()
