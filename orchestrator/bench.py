"""Benchmarks of the lab itself, each against a baseline measured in the same run.

- warm up / down: the 6-node lab from images in cache to all healthy, and back down — against starting and
  removing the same number of bare containers of the same image (no Compose, no health checks);
- idle memory per node — against a bare `sleep infinity` container of the same image;
- cold build (--cold): both images from nothing, the base by the path this host would take.
"""
import statistics
import time

from rich.table import Table

from orchestrator.image import Images, base_tag, node_tag
from orchestrator.lab import CLIENTS, DEFAULT_WORKERS, Lab

ROUNDS = 5
TARGETS = {"warm_up_s": 3.0, "down_s": 3.0, "idle_node_mb": 15.0}


def timed(action):
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def memory_mb(container):
    """Memory in use as `docker stats` counts it: usage less inactive page cache."""
    stats = container.stats(stream=False, one_shot=True)["memory_stats"]
    extra = stats.get("stats", {})
    cache = extra.get("total_inactive_file", extra.get("inactive_file", 0))
    return (stats["usage"] - cache) / 2**20


def bare_containers(client, image, count):
    """Start count bare containers and wait until each runs; returns them."""
    containers = [client.containers.run(image, ["sleep", "infinity"], detach=True, init=True,
                                        labels={"org.socklab.bench": "bare"}) for _ in range(count)]
    for container in containers:
        while container.status != "running":
            container.reload()
    return containers


def remove(containers):
    for container in containers:
        container.remove(force=True)


def run(project="socklab-bench", progress=lambda text: None, cold=False):
    lab = Lab(project, progress=lambda text: None)
    client = lab.client
    nodes = 1 + CLIENTS + DEFAULT_WORKERS
    results = {"nodes": nodes, "rounds": ROUNDS, "targets": TARGETS}
    if cold:
        progress("cold build: removing the node and base images, then building both")
        lab.down()
        for tag in (node_tag(), base_tag()):
            if Images(client).exists(tag):
                client.images.remove(tag, force=True)
        results["cold_build_s"] = round(timed(lambda: Images(client, progress).ensure()), 2)
    image = Images(client, progress).ensure()
    lab.down()
    ups, downs, bare_ups, bare_downs = [], [], [], []
    for round_ in range(1, ROUNDS + 1):
        progress(f"round {round_}/{ROUNDS}: lab up and down, {nodes} bare containers up and down")
        ups.append(timed(lambda: lab.up(workers=DEFAULT_WORKERS)))
        if round_ == ROUNDS:
            idle = [memory_mb(n.container) for n in lab.nodes()]
        downs.append(timed(lab.down))
        containers = []
        bare_ups.append(timed(lambda: containers.extend(bare_containers(client, image, nodes))))
        if round_ == ROUNDS:
            bare_idle = memory_mb(containers[0])
        bare_downs.append(timed(lambda: remove(containers)))
    median = lambda values: round(statistics.median(values), 3)
    results.update({
        "warm_up_s": median(ups), "bare_up_s": median(bare_ups), "warm_up_ratio": round(median(ups) / median(bare_ups), 2),
        "down_s": median(downs), "bare_down_s": median(bare_downs),
        "down_ratio": round(median(downs) / median(bare_downs), 2),
        "idle_node_mb": round(statistics.mean(idle), 2), "idle_node_max_mb": round(max(idle), 2),
        "bare_idle_mb": round(bare_idle, 2), "idle_ratio": round(statistics.mean(idle) / bare_idle, 2),
    })
    results["met"] = {key: results[key] <= limit for key, limit in TARGETS.items()}
    return results


def table(results):
    t = Table(title=f"lab benchmark: {results['nodes']} nodes, median of {results['rounds']} rounds")
    for column in ("measure", "socklab", "baseline", "ratio", "target"):
        t.add_column(column)
    met = results["met"]
    mark = lambda key: f"≤ {TARGETS[key]:g} {'[green]met[/]' if met[key] else '[red]missed[/]'}"
    t.add_row("warm up to all healthy (s)", f"{results['warm_up_s']:.2f}", f"{results['bare_up_s']:.2f} bare",
              f"{results['warm_up_ratio']}×", mark("warm_up_s"))
    t.add_row("down (s)", f"{results['down_s']:.2f}", f"{results['bare_down_s']:.2f} bare",
              f"{results['down_ratio']}×", mark("down_s"))
    t.add_row("idle memory per node (MB)", f"{results['idle_node_mb']:.2f}", f"{results['bare_idle_mb']:.2f} bare",
              f"{results['idle_ratio']}×", mark("idle_node_mb"))
    if "cold_build_s" in results:
        t.add_row("cold image build (s)", f"{results['cold_build_s']:.1f}", "-", "-", "-")
    return t
