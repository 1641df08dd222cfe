"""`make swarm-local`: a swarm of Docker engines in containers on this host — a simulation for tests and demos.

Each engine is Debian's docker.io on the lab's own base image (orchestrator/engines/machine), started with
every capability but CAP_SYS_RESOURCE (this host refuses --privileged), unconfined, with the host's cgroups
and a volume for its /var/lib/docker; the host reaches it through a socket under /run/socklab-swarm. They
join one swarm whose overlay carries the lab's traffic between them over VXLAN, as between real machines.
The repository and the workspace are bound at their own paths, so that the lab's bind mounts find them; a
registry on this host's port 5000 answers at 127.0.0.1:5000 on every engine, as on this host.
"""
import shutil
import time
from pathlib import Path

import docker.errors

from orchestrator import labels
from orchestrator.engines import connect
from orchestrator.engines.swarm import LOCAL_MANAGER
from orchestrator.errors import BadParameter, EngineUnavailable
from orchestrator.i18n import _
from orchestrator.image import Images
from orchestrator.topology import ROOT, workspace

NETWORK = "socklab-machines"
PREFIX = "socklab-engine"
SOCKETS = LOCAL_MANAGER.parents[1]  # /run/socklab-swarm/engineN/docker.sock: the swarm backend looks there
MACHINE = Path(__file__).resolve().parent / "machine"
REGISTRY_PORT = 5000  # a registry on this host's port 5000 is 127.0.0.1:5000 on every engine too (forward.py)


def socket_url(number):
    """How the host reaches engine N: its socket under /run/socklab-swarm."""
    return f"unix://{SOCKETS}/engine{number}/docker.sock"


def environment():
    """What points socklab at the local swarm: export lines a shell can eval."""
    return {"SOCKLAB_ENGINE": "swarm", "SOCKLAB_MANAGER": socket_url(1)}


class LocalSwarm:
    """The engines-in-containers of this host (client: the host's engine)."""

    def __init__(self, client=None, progress=lambda text: None):
        self.host = client or connect()
        self.progress = progress

    def engines(self):
        """The engine containers of the local swarm, running or not."""
        return self.host.containers.list(all=True, filters={"label": labels.LOCAL_SWARM})

    def up(self, count=3):
        """Start count engines (keeping those running), form the swarm, label each node with its socket."""
        if count < 1:
            raise BadParameter("--engines", count, _("a swarm needs at least one engine"))
        image = Images(self.host, self.progress).ensure_machine(MACHINE)
        running = self.engines()
        if len(running) != count or not all(self.shares(e) and image in e.image.tags for e in running):
            self.down()
        if not self.host.networks.list(filters={"name": f"^{NETWORK}$"}):
            self.host.networks.create(NETWORK, labels={labels.LOCAL_SWARM: "1"})
        clients = [self._engine(number, image) for number in range(1, count + 1)]
        self._form(clients)
        return environment()

    @staticmethod
    def shared():
        """The host folders every engine binds at their own paths: the repository and the workspace."""
        return {ROOT, workspace()}

    def shares(self, engine):
        """Whether an engine binds every folder of shared() (a workspace made after it started is not)."""
        bound = [Path(mount["Destination"]) for mount in engine.attrs["Mounts"]]
        return all(any(path.is_relative_to(folder) for folder in bound) for path in self.shared())

    def _engine(self, number, image):
        name = f"{PREFIX}{number}"
        (SOCKETS / f"engine{number}").mkdir(parents=True, exist_ok=True)  # /run is emptied at boot
        try:
            container = self.host.containers.get(name)
            if container.status != "running":
                container.start()
        except docker.errors.NotFound:
            self.progress(_("starting engine{number}").format(number=number))
            shared = {str(path): {"bind": str(path), "mode": "rw"} for path in self.shared()}
            api = self.host.api
            host_config = api.create_host_config(
                cap_add=["ALL"], cap_drop=["SYS_RESOURCE"], security_opt=["seccomp=unconfined", "apparmor=unconfined"],
                binds={"/sys/fs/cgroup": {"bind": "/sys/fs/cgroup", "mode": "rw"},
                       name: {"bind": "/var/lib/docker", "mode": "rw"},
                       str(SOCKETS / f"engine{number}"): {"bind": "/run/socklab", "mode": "rw"}, **shared})
            host_config.update(MaskedPaths=[], ReadonlyPaths=[])  # --security-opt systempaths=unconfined
            created = api.create_container(image, name=name, hostname=f"engine{number}", host_config=host_config,
                                           networking_config=api.create_networking_config({NETWORK: {}}),
                                           labels={labels.LOCAL_SWARM: str(number)},
                                           environment={"REGISTRY_PORT": str(REGISTRY_PORT)})
            api.start(created["Id"])
        return self.answering(number)

    def answering(self, number, timeout=60):
        """The engine's client once it answers (its daemon takes a few seconds to start)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return connect(socket_url(number), timeout=30)
            except EngineUnavailable:
                container = self.host.containers.get(f"{PREFIX}{number}")
                if container.status != "running" or time.monotonic() > deadline:
                    said = container.logs(tail=2).decode(errors="replace").strip().replace("\n", " | ")
                    raise EngineUnavailable(_("engine{number} did not start: {output}").format(
                        number=number, output=said or container.status)) from None
                time.sleep(0.2)  # the socket appears when dockerd has started

    def _address(self, number):
        container = self.host.containers.get(f"{PREFIX}{number}")
        return container.attrs["NetworkSettings"]["Networks"][NETWORK]["IPAddress"]

    def _form(self, clients):
        manager = clients[0]
        if manager.info()["Swarm"]["LocalNodeState"] != "active":
            self.progress(_("forming the swarm"))
            manager.swarm.init(advertise_addr=self._address(1), listen_addr="0.0.0.0:2377")
        manager.swarm.reload()
        token = manager.swarm.attrs["JoinTokens"]["Worker"]
        for number, client in enumerate(clients[1:], start=2):
            if client.info()["Swarm"]["LocalNodeState"] != "active":
                client.swarm.join(remote_addrs=[f"{self._address(1)}:2377"], join_token=token,
                                  advertise_addr=self._address(number), listen_addr="0.0.0.0:2377")
        for node in manager.nodes.list():
            number = int(node.attrs["Description"]["Hostname"].removeprefix("engine"))
            spec = node.attrs["Spec"]
            spec["Labels"] = {**spec.get("Labels", {}), labels.ENGINE: socket_url(number)}
            node.update(spec)

    def down(self):
        """Remove every engine, its volume and socket, and their network."""
        for container in self.engines():
            container.remove(force=True, v=True)
            try:
                self.host.volumes.get(container.name).remove(force=True)
            except (docker.errors.NotFound, docker.errors.APIError):
                pass
        for network in self.host.networks.list(filters={"name": f"^{NETWORK}$"}):
            network.remove()
        shutil.rmtree(SOCKETS, ignore_errors=True)
        for record in (ROOT / ".lab").glob("*/engine.json"):  # labs that ran here are gone with the engines
            if str(SOCKETS) in record.read_text():
                shutil.rmtree(record.parent, ignore_errors=True)
