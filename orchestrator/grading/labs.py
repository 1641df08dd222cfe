"""The labs a class is graded on: N labs side by side, each its own project, subnet and empty workspace.

On this host's engine each lab is a Compose project; on a swarm (--engine swarm), a stack whose nodes the
swarm spreads over its machines. Between two submissions a lab is scrubbed (learner.scrub on every node):
the next program starts with no process and no file of the one before. Every lab is taken down at the end,
also after an error or Ctrl-C.
"""
import ipaddress
import os
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import docker.errors

from orchestrator import engines
from orchestrator.engines import UNREACHABLE
from orchestrator.errors import LabError
from orchestrator.lab import Lab
from orchestrator.learner import scrub
from orchestrator.topology import DEFAULT_WORKERS, ROOT

LAB_MEMORY = 1 << 30  # what one grading lab is given room for when --labs is not said (make bench measures it)
MAX_DEFAULT_LABS = 8


def default_count(submissions, cpus=None, memory=None):
    """How many labs when --labs is not said: a check mostly waits on the network, so one more than the cores;
    no more than the memory has room for, the submissions need, or MAX_DEFAULT_LABS."""
    cpus = cpus or os.cpu_count() or 1
    memory = memory if memory is not None else available_memory()
    return max(1, min(cpus + 1, memory // LAB_MEMORY, submissions, MAX_DEFAULT_LABS))


def available_memory():
    """MemAvailable from /proc/meminfo in bytes (a generous guess where there is none)."""
    try:
        with open("/proc/meminfo") as lines:
            for line in lines:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 4 * LAB_MEMORY


def free_subnets(client, count, project):
    """count /24s in 10.214.0.0/16 that no network of the engine uses, fixed by the project's name where free."""
    used = []
    for network in client.networks.list():
        for config in (network.attrs.get("IPAM") or {}).get("Config") or []:
            try:
                used.append(ipaddress.ip_network(config.get("Subnet", ""), strict=False))
            except ValueError:
                continue
    start, chosen = zlib.crc32(project.encode()) % 250, []
    for offset in range(250):
        subnet = ipaddress.ip_network(f"10.214.{(start + offset) % 250 + 1}.0/24")
        if not any(subnet.overlaps(other) for other in used + chosen):
            chosen.append(subnet)
            if len(chosen) == count:
                return [str(s) for s in chosen]
    raise LabError(f"no free /24 in 10.214.0.0/16 for {count} grading labs")


class LabSlot:
    """One grading lab, brought up when first needed and again after it was discarded."""

    def __init__(self, name, project, subnet, engine=None, progress=lambda text: None):
        self.name, self.project, self.subnet, self.engine = name, project, subnet, engine
        self.progress = progress
        self.lab = None
        self._taking_down = threading.Lock()

    def _new(self):
        backend = engines.for_lab(self.project, self.engine, client=None if self.engine == "swarm" else
                                  engines.connect())
        return Lab(self.project, self.progress, backend=backend, subnet=self.subnet,
                   workspace=ROOT / ".lab" / self.project / "workspace")  # empty, and gone with the lab

    def ready(self):
        """The lab, up, with nothing of an earlier submission on any node."""
        if self.lab is None:
            lab = self._new()
            lab.down()  # what an interrupted run left under this name
            self.lab = lab.up(workers=DEFAULT_WORKERS)
        nodes = self.lab.nodes()
        with ThreadPoolExecutor(len(nodes)) as pool:
            list(pool.map(scrub, nodes))  # all at once; a node that cannot be scrubbed fails the lab
        return self.lab

    def discard(self):
        """Take the lab down (as far as its engine lets): the next ready() brings a new one up."""
        with self._taking_down:
            lab, self.lab = self.lab, None
            if lab is not None:
                down(lab)

    def close(self):
        """Take down whatever runs under the lab's name: also a lab still coming up when Ctrl-C came."""
        with self._taking_down:
            lab, self.lab = self.lab, None
            try:
                down(lab or self._new())
            except (LabError, docker.errors.DockerException, *UNREACHABLE):
                pass  # no engine to ask: nothing of it can be running there


def down(lab):
    try:
        lab.down()
    except (LabError, docker.errors.DockerException, *UNREACHABLE):
        pass  # broken already: what failed is what the run reports


@contextmanager
def grading_labs(count, project, engine=None, progress=lambda text: None):
    """count LabSlots named lab1…, projects <project>-grade1…; every one taken down on the way out, together."""
    client = engines.connect() if engine != "swarm" else engines.for_lab(f"{project}-grade1", engine).client
    subnets = free_subnets(client, count, project)
    slots = [LabSlot(f"lab{n}", f"{project}-grade{n}", subnets[n - 1], engine, progress) for n in range(1, count + 1)]
    try:
        yield slots
    finally:
        close(slots)


def close(slots):
    """Take every slot's lab down, together."""
    closing = [threading.Thread(target=slot.close) for slot in slots]
    for thread in closing:
        thread.start()
    for thread in closing:
        thread.join()
