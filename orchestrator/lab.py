"""A lab: one server, its clients and workers, on whichever engine runs it (orchestrator.engines): its
secrets, containers, health and partitions."""
import itertools
import os
import random
import queue
import secrets
import shutil
import threading
import time
import zlib
from contextlib import contextmanager
from pathlib import Path

import docker.errors

from nodes.lib import ports
from orchestrator import engines, labels, topology
from orchestrator.engines import UNREACHABLE, connect
from orchestrator.errors import BadParameter, LabError, NodeNotFound, NodeUnhealthy
from orchestrator.fault import Fault
from orchestrator.i18n import _
from orchestrator.node import Node
from orchestrator.topology import CLIENTS, DEFAULT_WORKERS, ROOT, SERVICES
from orchestrator.watch.timeline import Timeline

SECRETS = ("execd.key", "queue.key")  # files under .lab/<project>/; compose.yaml mounts each where it is needed


def default_project():
    """COMPOSE_PROJECT_NAME, or socklab."""
    return os.environ.get("COMPOSE_PROJECT_NAME") or "socklab"


def connect_engine():
    """This host's Docker engine (DOCKER_HOST), once it has answered a ping; EngineUnavailable if not."""
    return connect()


class Lab:
    """The lab `project`: a server, CLIENTS clients and some workers, on Compose (one engine) or a swarm.

    engine: a Docker client to run the lab on with Compose; backend: an engine backend; without either, the
    one asked for (--engine, SOCKLAB_ENGINE), else the one the lab's last `up` used (engines.for_lab).
    subnet and workspace: the lab's own, for labs side by side (default: see `subnet`, topology.workspace()).
    """

    def __init__(self, project=None, progress=lambda text: None, engine=None, backend=None, subnet=None,
                 workspace=None):
        self.project = project or default_project()
        self.progress = progress
        self.backend = backend or engines.for_lab(self.project, client=engine, progress=progress)
        self.secrets = ROOT / ".lab" / self.project
        self.workspace = Path(workspace) if workspace else topology.workspace()
        self._subnet = subnet
        start = random.randrange(len(ports.EXERCISE))
        self._exercise_ports = itertools.cycle([*ports.EXERCISE[start:], *ports.EXERCISE[:start]])
        self.spawned = []  # background programs started in the nodes (Node.start)
        self.timeline = Timeline()  # what was done to the nodes, for a run's replay

    def exercise_port(self):
        """The port of the next learner's server: the next of ports.EXERCISE (see there why)."""
        return next(self._exercise_ports)

    @property
    def engine(self):
        """The Docker client of the lab's main engine: Compose's, or the swarm's manager."""
        return self.backend.client

    @property
    def subnet(self):
        """The one given, else SOCKLAB_SUBNET, else a /24 in 10.213.0.0/16 fixed by the project name, so labs
        sit side by side."""
        return self._subnet or os.environ.get("SOCKLAB_SUBNET") or f"10.213.{zlib.crc32(self.project.encode()) % 250 + 1}.0/24"

    def _make_secrets(self):
        """Random keys per lab, mounted read-only into the nodes that need them; never in the repository."""
        self.secrets.mkdir(parents=True, exist_ok=True)
        for name in SECRETS:
            key = self.secrets / name
            if not key.exists():
                key.write_text(secrets.token_hex(32) + "\n")
                key.chmod(0o644)

    def up(self, workers=None, timeout=90, placement=None):
        """Build what is missing, start or rescale the lab, and wait until every node is ready.

        workers=None keeps a running lab's worker count (DEFAULT_WORKERS for a new lab). If the lab cannot be
        brought up ready, it is taken down again: nothing is left half-started. placement pins nodes to
        machines on a swarm ({"server": "engine2"}).
        """
        if workers is None:
            workers = len(self.nodes("worker")) or DEFAULT_WORKERS
        if workers < 0:
            raise BadParameter("workers", workers, _("a whole number of 0 or more"))
        image = self.backend.image(self.progress)
        self._make_secrets()
        self.workspace.mkdir(parents=True, exist_ok=True)
        self.progress(_("starting lab {project}: server, {clients} clients, {workers} workers").format(
            project=self.project, clients=CLIENTS, workers=workers))
        try:
            engines.remember(self.project, self.backend)
            self.backend.up(self, image, workers, placement)
            self.wait_ready(timeout)
        except BaseException:
            try:
                self.down()
            except (LabError, docker.errors.DockerException, *UNREACHABLE):
                pass  # what failed first is what the user hears
            raise
        return self

    def down(self):
        """Remove every fault sidecar, scratch node, container, network and volume of the lab, and its
        secrets; returns the names of the machines that did not answer (their part is left as it was)."""
        for machine in self.backend.machines():
            if machine.client is not None:
                try:
                    self._remove_extras(machine.client)
                except UNREACHABLE as exc:  # it stopped answering since: the rest is cleaned all the same
                    machine.client, machine.error = None, str(exc)
        unreachable = self.backend.down(self)
        if unreachable:  # kept: the next `down` must still know where the lab is
            for name in SECRETS:
                (self.secrets / name).unlink(missing_ok=True)
        else:
            shutil.rmtree(self.secrets, ignore_errors=True)
        return unreachable

    def _remove_extras(self, client):
        """The lab's fault sidecars and scratch nodes on one engine."""
        for fault in Fault.find([client], self.project):
            fault.container.remove(force=True)
        for container in client.containers.list(all=True, filters={"label": f"{labels.SCRATCH_PROJECT}={self.project}"}):
            container.remove(force=True)

    def faults(self, node=None, kind=None):
        """The lab's running faults on every machine that answers, optionally of one node and one kind."""
        found = []
        for machine in self.backend.machines():
            if machine.client is not None:
                try:
                    found += Fault.find([machine.client], self.project, node, kind)
                except UNREACHABLE as exc:
                    raise engines.unreachable(machine.name, exc) from None
        return found

    def stop_spawned(self):
        """Stop every background program still running that this Lab started: a scenario leaves none."""
        for process in self.spawned:
            if process.running:
                try:
                    process.stop()
                except LabError:
                    pass  # its node is gone or paused: nothing left to stop there
        self.spawned.clear()

    def nodes(self, service=None):
        """The lab's nodes, server first, then clients and workers by number."""
        nodes = [Node(self, c, machine=machine) for machine, c in self.backend.containers(self.project)]
        nodes = [n for n in nodes if n.service in SERVICES and (service is None or n.service == service)]
        return sorted(nodes, key=lambda n: (SERVICES.index(n.service), n.number))

    def recorded(self, mark):
        """{"nodes": {name: ip}, "events"}: the timeline of a run that began at mark (Timeline.mark())."""
        return {"nodes": {node.name: node.ip for node in self.nodes()}, "events": self.timeline.since(mark)}

    def where(self):
        """{"engine", "machines"}: where the lab runs, and each node's machine (a Result records both)."""
        return {"engine": self.backend.name, "machines": {n.name: n.machine_name for n in self.nodes()}}

    def node(self, name):
        """The node called name (`server`, `client1`, ...); a service with one node answers to its name too."""
        nodes = self.nodes()
        matches = [n for n in nodes if n.name == name] or [n for n in nodes if n.service == name][:1]
        if not matches:
            raise NodeNotFound(name, self.project, [n.name for n in nodes])
        return matches[0]

    def wait_ready(self, timeout=90, names=None):
        """Wait until the nodes (all, or those named) have said they are ready since they last started.

        Each node's boot line is awaited on its log stream, all at once: nothing polls the nodes. A node that
        exits first, or is still silent at the timeout, is named with what it said (NodeUnhealthy).
        """
        nodes = [n for n in self.nodes() if names is None or n.name in names]
        if not nodes:
            raise NodeUnhealthy(None, _("lab {project} has no nodes").format(project=self.project))
        said = queue.Queue()
        for node in nodes:
            threading.Thread(target=self._await_boot, args=(node, said), daemon=True).start()
        deadline, waiting = time.monotonic() + timeout, {n.name: n for n in nodes}
        while waiting:
            try:
                name, ready = said.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise self._unready(next(iter(waiting.values())), timeout) from None
            node = waiting.pop(name)
            if isinstance(ready, Exception):
                raise NodeUnhealthy(name, _("cannot read node {node}'s log to see it boot: {error}").format(
                    node=name, error=ready), str(ready))
            if not ready:
                raise self._unready(node, timeout)
        return nodes

    @staticmethod
    def _await_boot(node, said):
        try:
            said.put((node.name, node.booted(follow=True)))
        except Exception as exc:  # the log cannot be read (NotFound, a log driver without reading): say so
            said.put((node.name, exc))

    def _unready(self, node, timeout):
        node.refresh()
        state = node.container.attrs["State"]
        logs = node.container.logs(tail=3).decode(errors="replace").strip().replace("\n", " | ")
        if state["Status"] in ("exited", "dead"):
            return NodeUnhealthy(node.name, _("node {node} exited with {exit_code}: {output}").format(
                node=node.name, exit_code=state["ExitCode"], output=logs or _("no output")), logs)
        said = dict(node=node.name, seconds=timeout, status=state["Status"])
        return NodeUnhealthy(node.name, _("node {node} not ready after {seconds} s ({status}): {output}").format(
            output=logs, **said) if logs else _("node {node} not ready after {seconds} s ({status})").format(**said),
            logs)

    @contextmanager
    def scratch_node(self, name, init=True):
        """A container of the lab's image on the lab network, outside Compose, for the duration.

        init=False leaves `sleep` as its PID 1, which never reaps: the container lesson of orphaned zombies.
        """
        server = self.node("server")
        network = next(iter(server.container.attrs["NetworkSettings"]["Networks"]))
        container = server.engine.containers.run(server.container.image.id, ["sleep", "infinity"], detach=True, init=init,
                                               network=network, environment={"SOCKLAB_SERVICE": name},
                                               labels={labels.SCRATCH_PROJECT: self.project}, name=f"{self.project}-{name}")
        try:
            yield Node(self, container, name=name, machine=server.machine)
        finally:
            container.remove(force=True)

    def partition(self, a, b):
        """Cut every packet between nodes a and b, both ways, until heal()."""
        a, b = self.node(a) if isinstance(a, str) else a, self.node(b) if isinstance(b, str) else b
        if a.name == b.name:
            raise LabError(_("cannot partition {node} from itself").format(node=a.name))
        faults = [Fault.start(a, ["partition", b.ip]), Fault.start(b, ["partition", a.ip])]
        self.timeline.add("fault-started", a.name, fault="partition", args=[b.name])
        return faults

    def heal(self):
        """Lift every partition of the lab."""
        lifted = [fault.stop() for fault in self.faults(kind="partition")]
        if lifted:
            self.timeline.add("fault-lifted", None, fault="partition")
        return lifted
