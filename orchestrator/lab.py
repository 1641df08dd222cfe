"""A lab: one Compose project of compose.yaml — its images, secrets, containers, health and partitions."""
import os
import queue
import secrets
import shutil
import threading
import time
import zlib
from contextlib import contextmanager
from pathlib import Path

import docker
import docker.errors

from orchestrator import labels
from orchestrator.compose import Compose
from orchestrator.errors import BadParameter, EngineUnavailable, LabError, NodeNotFound, NodeUnhealthy
from orchestrator.fault import Fault
from orchestrator.i18n import _
from orchestrator.image import Images, node_tag
from orchestrator.node import Node

SERVICES = ("server", "client", "worker")
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WORKERS = 3
CLIENTS = 2
SECRETS = ("execd.key", "queue.key")  # files under .lab/<project>/; compose.yaml mounts each where it is needed


def workspace():
    """SOCKLAB_WORKSPACE, or workspace/ of the repository: mounted at /workspace on every node."""
    return Path(os.environ.get("SOCKLAB_WORKSPACE") or ROOT / "workspace").resolve()


def host_user():
    """(uid, gid) the learner's programs run as in the nodes: SOCKLAB_UID/SOCKLAB_GID, else the user who
    called sudo, else this process's, so that files written in the workspace belong to that user."""
    uid = os.environ.get("SOCKLAB_UID") or os.environ.get("SUDO_UID") or str(os.getuid())
    gid = os.environ.get("SOCKLAB_GID") or os.environ.get("SUDO_GID") or str(os.getgid())
    return uid, gid


def default_project():
    """COMPOSE_PROJECT_NAME, or socklab."""
    return os.environ.get("COMPOSE_PROJECT_NAME") or "socklab"


def connect_engine():
    """A Docker SDK client that has answered a ping; EngineUnavailable if none does."""
    try:
        engine = docker.from_env(timeout=900)
        engine.ping()
        return engine
    except docker.errors.DockerException as exc:
        message = _("cannot reach the Docker daemon ({error}); is it running, and may you use it?")
        raise EngineUnavailable(message.format(error=exc)) from None


class Lab:
    """The Compose project `project`: a server, CLIENTS clients and some workers on a bridge network."""

    def __init__(self, project=None, progress=lambda text: None, engine=None):
        self.project = project or default_project()
        self.progress = progress
        self._engine = engine
        self.secrets = ROOT / ".lab" / self.project
        self.spawned = []  # background programs started in the nodes (Node.start)

    @property
    def engine(self):
        """The Docker SDK client, connected on first use."""
        if self._engine is None:
            self._engine = connect_engine()
        return self._engine

    @property
    def subnet(self):
        """SOCKLAB_SUBNET, or a /24 in 10.213.0.0/16 fixed by the project name, so labs sit side by side."""
        return os.environ.get("SOCKLAB_SUBNET") or f"10.213.{zlib.crc32(self.project.encode()) % 250 + 1}.0/24"

    def _compose(self, image):
        uid, gid = host_user()
        return Compose(self.project, {"SOCKLAB_IMAGE": image, "SOCKLAB_SUBNET": self.subnet,
                                      "SOCKLAB_SECRETS": str(self.secrets), "SOCKLAB_WORKSPACE": str(workspace()),
                                      "SOCKLAB_UID": uid, "SOCKLAB_GID": gid}, self.engine.api.api_version)

    def _make_secrets(self):
        """Random keys per lab, mounted read-only into the nodes that need them; never in the repository."""
        self.secrets.mkdir(parents=True, exist_ok=True)
        for name in SECRETS:
            key = self.secrets / name
            if not key.exists():
                key.write_text(secrets.token_hex(32) + "\n")
                key.chmod(0o644)

    def up(self, workers=None, timeout=90):
        """Build what is missing, start or rescale the lab, and wait until every node is ready.

        workers=None keeps a running lab's worker count (DEFAULT_WORKERS for a new lab). If the lab cannot be
        brought up ready, it is taken down again: nothing is left half-started.
        """
        if workers is None:
            workers = len(self.nodes("worker")) or DEFAULT_WORKERS
        if workers < 0:
            raise BadParameter("workers", workers, _("a whole number of 0 or more"))
        image = Images(self.engine, self.progress).ensure()
        self._make_secrets()
        workspace().mkdir(parents=True, exist_ok=True)
        self.progress(_("starting lab {project}: server, {clients} clients, {workers} workers").format(
            project=self.project, clients=CLIENTS, workers=workers))
        try:
            self._compose(image).up({"server": 1, "client": CLIENTS, "worker": workers})
            self.wait_ready(timeout)
        except BaseException:
            self.down()
            raise
        return self

    def down(self):
        """Remove every fault sidecar, scratch node, container, network and volume of the lab, and its secrets."""
        for fault in Fault.find(self.engine, self.project):
            fault.container.remove(force=True)
        for container in self.engine.containers.list(all=True, filters={"label": f"{labels.SCRATCH_PROJECT}={self.project}"}):
            container.remove(force=True)
        self._compose(node_tag()).down()  # compose.yaml needs its variables to take the lab down too
        shutil.rmtree(self.secrets, ignore_errors=True)

    def stop_spawned(self):
        """Stop every background program still running that this Lab started: a scenario leaves none."""
        for process in self.spawned:
            if process.running:
                try:
                    process.stop()
                except LabError:
                    pass  # its node is gone or paused: nothing left to stop there
        self.spawned.clear()

    def containers(self):
        """Every container of the Compose project, running or not."""
        return self.engine.containers.list(all=True, filters={"label": f"{labels.COMPOSE_PROJECT}={self.project}"})

    def nodes(self, service=None):
        """The lab's nodes, server first, then clients and workers by number."""
        nodes = [Node(self, c) for c in self.containers()]
        nodes = [n for n in nodes if n.service in SERVICES and (service is None or n.service == service)]
        return sorted(nodes, key=lambda n: (SERVICES.index(n.service), n.number))

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
        server = self.node("server").container
        network = next(iter(server.attrs["NetworkSettings"]["Networks"]))
        container = self.engine.containers.run(server.image.id, ["sleep", "infinity"], detach=True, init=init,
                                               network=network, environment={"SOCKLAB_SERVICE": name},
                                               labels={labels.SCRATCH_PROJECT: self.project}, name=f"{self.project}-{name}")
        try:
            yield Node(self, container, name=name)
        finally:
            container.remove(force=True)

    def partition(self, a, b):
        """Cut every packet between nodes a and b, both ways, until heal()."""
        a, b = self.node(a) if isinstance(a, str) else a, self.node(b) if isinstance(b, str) else b
        if a.name == b.name:
            raise LabError(_("cannot partition {node} from itself").format(node=a.name))
        return [Fault.start(a, ["partition", b.ip]), Fault.start(b, ["partition", a.ip])]

    def heal(self):
        """Lift every partition of the lab."""
        return [fault.stop() for fault in Fault.find(self.engine, self.project, kind="partition")]
