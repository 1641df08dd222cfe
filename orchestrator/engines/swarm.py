"""The lab as a Docker Swarm stack over several machines, each node reached through its own machine's engine.

How socklab reaches each machine's engine is said once, on the swarm node, as the label org.socklab.engine
(`docker node update --label-add org.socklab.engine=ssh://user@host NODE`); the manager's own engine needs
no label. The stack is deployed with the docker CLI (`docker stack deploy`, up and down only); everything
else goes through the Docker SDK, machine by machine.
"""
import os
import subprocess
import time
from pathlib import Path
from itertools import cycle

import docker.errors

from orchestrator import labels
from orchestrator.engines import UNREACHABLE, Machine, connect, stack
from orchestrator.errors import BadParameter, EngineUnavailable, ImageBuildFailed, LabError, NodeUnhealthy, SwarmUnavailable
from orchestrator.i18n import _
from orchestrator.image import Images
from orchestrator.topology import ROOT, host_user, node_names, workspace

COMPOSE_FILE = ROOT / "compose.yaml"
CHUNK = 1 << 20
LOCAL_MANAGER = Path("/run/socklab-swarm/engine1/docker.sock")  # `make swarm-local`'s (engines.local_swarm)
FAILED_TASK = ("failed", "rejected", "shutdown", "orphaned", "remove")


class SwarmEngine:
    """A stack on the swarm whose manager answers at manager_url (SOCKLAB_MANAGER), or this host's engine."""
    name = "swarm"

    def __init__(self, manager_url=None, progress=lambda text: None):
        self.manager_url = manager_url
        self.progress = progress
        self._client = None
        self._machines = None

    @property
    def client(self):
        """The manager's engine, once it has said it manages a swarm: SOCKLAB_MANAGER's, else this host's,
        else the local swarm's (`make swarm-local`) when this host's engine is in none."""
        if self._client is None:
            client = connect(self.manager_url)
            if not self._manages(client) and self.manager_url is None and LOCAL_MANAGER.is_socket():
                self.manager_url = f"unix://{LOCAL_MANAGER}"
                client = connect(self.manager_url)
            if not self._manages(client):
                where = self.manager_url or os.environ.get("DOCKER_HOST") or _("this host's engine")
                raise SwarmUnavailable(_("{where} is not a swarm manager: `make swarm-local` makes a swarm of three "
                                         "engines on this host; on real machines see the README, \"Across "
                                         "machines\"").format(where=where))
            self._client = client
        return self._client

    @staticmethod
    def _manages(client):
        return bool(client.info().get("Swarm", {}).get("ControlAvailable"))

    def record(self):
        return {"engine": self.name, "manager": self.manager_url}

    def machines(self):
        """Every active swarm node as a Machine, manager first; one the swarm marks down, or whose engine does
        not answer, has no client and says why."""
        if self._machines is None:
            nodes = [n.attrs for n in self.client.nodes.list() if n.attrs["Spec"].get("Availability") == "active"]
            nodes.sort(key=lambda n: ("ManagerStatus" not in n, n["Description"]["Hostname"]))
            self._machines = [self._machine(n) for n in nodes]
        return self._machines

    def _machine(self, node):
        name = node["Description"]["Hostname"]
        url = node["Spec"].get("Labels", {}).get(labels.ENGINE)
        if node["Status"]["State"] != "ready":
            machine = Machine(name, url, None, _("the swarm says it is {state}").format(state=node["Status"]["State"]))
        elif url is None and node.get("ManagerStatus", {}).get("Leader"):
            machine = Machine(name, self.manager_url, self.client)
        elif url is None:
            machine = Machine(name, None, None, _("no {label} label: docker node update --label-add {label}=ssh://"
                                                  "HOST {name}").format(label=labels.ENGINE, name=name))
        else:
            try:
                machine = Machine(name, url, connect(url, timeout=120))
            except EngineUnavailable as exc:
                machine = Machine(name, url, None, str(exc))
        machine.id = node["ID"]
        return machine

    def answering(self, needed=()):
        """The machines whose engines answer; EngineUnavailable naming a needed one (or, without one that
        answers, the first) that does not."""
        machines = self.machines()
        silent = [m for m in machines if m.client is None and (m.name in needed or not needed)]
        if silent and (needed or len(silent) == len(machines)):
            raise EngineUnavailable(_("the engine of machine {machine} does not answer: {error}").format(
                machine=silent[0].name, error=silent[0].error))
        return [m for m in machines if m.client is not None]

    def image(self, progress):
        """The node image, built where socklab runs (or on the manager), and streamed to every machine that
        lacks it or holds another image under its tag (save → load); with SOCKLAB_REGISTRY, pushed there
        for the machines to pull instead."""
        try:
            builder = connect(timeout=900)
        except EngineUnavailable:
            builder = self.client
        tag = Images(builder, progress).ensure()
        if os.environ.get("SOCKLAB_REGISTRY"):
            return self._push(builder, tag, os.environ["SOCKLAB_REGISTRY"].rstrip("/"), progress)
        source = builder.images.get(tag)
        for machine in self.answering():
            try:
                if machine.client.images.get(tag).id == source.id:
                    continue
            except docker.errors.ImageNotFound:
                pass
            self._copy(source, tag, builder, machine, progress)
        return tag

    @staticmethod
    def _push(builder, tag, registry, progress):
        """The image pushed to the registry (SOCKLAB_REGISTRY), under a name every machine pulls by: each
        task's engine pulls it when the task starts."""
        remote = f"{registry}/{tag}"
        builder.images.get(tag).tag(remote)
        for event in builder.api.push(remote, stream=True, decode=True):
            if "error" in event:
                raise ImageBuildFailed(_("pushing {tag} to {registry} failed: {error}").format(
                    tag=tag, registry=registry, error=event["error"]))
            if "status" in event:
                progress(_("image {tag} → {registry}: {status}").format(tag=tag, registry=registry,
                                                                      status=event["status"]))
        return remote

    @staticmethod
    def _copy(source, tag, builder, machine, progress):
        size, sent = source.attrs.get("Size") or 1, 0

        def chunks():
            nonlocal sent
            for chunk in builder.api.get_image(tag, chunk_size=CHUNK):
                sent += len(chunk)
                progress(_("image {tag} → {machine}: {sent} of {size} MB").format(
                    tag=tag, machine=machine.name, sent=sent >> 20, size=size >> 20))
                yield chunk
        for event in machine.client.api.load_image(chunks()):  # the engine loads while this is read
            if "error" in event:
                raise ImageBuildFailed(_("loading {tag} into {machine} failed: {error}").format(
                    tag=tag, machine=machine.name, error=event["error"]))

    def placement(self, workers, pinned, running):
        """[(name, service, number, machine)]: a node keeps the machine it runs on; pinned ones go where
        asked; the rest take the machines in turn (server, client1, client2… on different machines)."""
        machines = self.answering(needed=[*pinned.values(), *running.values()])
        by_name = {m.name: m for m in machines}
        unknown = [m for m in pinned.values() if m not in by_name]
        if unknown:
            raise BadParameter("--placement", unknown[0], " | ".join(by_name))
        turn = cycle(machines)
        chosen = []
        for name, service, number in node_names(workers):
            machine = by_name.get(pinned.get(name) or running.get(name)) or next(turn)
            chosen.append((name, service, number, machine))
        return chosen

    def up(self, lab, image, workers, placement=None):
        running = {node.name: node.machine.name for node in lab.nodes()}
        chosen = self.placement(workers, placement or {}, running)
        uid, gid = host_user()
        variables = {"SOCKLAB_IMAGE": image, "SOCKLAB_SUBNET": lab.subnet, "SOCKLAB_SECRETS": str(lab.secrets),
                     "SOCKLAB_WORKSPACE": str(workspace()), "SOCKLAB_UID": uid, "SOCKLAB_GID": gid}
        spec = stack.stack(COMPOSE_FILE.read_text(), lab.project, variables,
                           [(n, s, i, m.id) for n, s, i, m in chosen], lab.secrets)
        path = lab.secrets / "stack.yaml"
        path.write_text(stack.dump(spec))
        self._cli("deploy", "--prune", "--resolve-image", "never", "--compose-file", str(path), lab.project)
        self.wait_tasks(lab.project, [n for n, *_ in chosen])

    def wait_tasks(self, project, names, timeout=120, replaced=()):
        """Wait until each named node's task runs (a task other than those in replaced); a task that fails
        or cannot be placed is said with the swarm's reason (NodeUnhealthy)."""
        deadline = time.monotonic() + timeout
        waiting = set(names)
        while waiting:
            for name in sorted(waiting):
                task = self._task(project, name, replaced)
                state = task.get("Status", {}).get("State") if task else None
                if state == "running":
                    waiting.discard(name)
                elif state in FAILED_TASK or (time.monotonic() > deadline):
                    error = (task or {}).get("Status", {}).get("Err") or (task or {}).get("Status", {}).get("Message")
                    error = " | ".join(filter(None, [error, self._output(task)]))
                    if error and "bind source path does not exist" in error:
                        error += _(" (on a swarm the workspace must be at the same path on every machine: README, "
                                   "\"Across machines\")")
                    raise NodeUnhealthy(name, _("node {node}'s task did not start ({state}): {error}").format(
                        node=name, state=state or _("no task"), error=error or _("no reason given")), error or "")
            if waiting:
                time.sleep(0.2)  # the swarm has no event for a task's state that this SDK follows

    def _output(self, task):
        """The last lines a failed task's container said, from its machine's engine ("" when none)."""
        container_id = ((task or {}).get("Status", {}).get("ContainerStatus") or {}).get("ContainerID")
        machine = next((m for m in self.machines() if m.id == task.get("NodeID") and m.client), None) if task else None
        if not container_id or machine is None:
            return ""
        try:
            said = machine.client.containers.get(container_id).logs(tail=2)
        except UNREACHABLE:
            return ""
        return said.decode(errors="replace").strip().replace("\n", " | ")

    def _task(self, project, name, replaced=()):
        try:
            tasks = self.client.services.get(f"{project}_{name}").tasks()
        except docker.errors.NotFound:
            return None
        tasks = [t for t in tasks if t["ID"] not in replaced]
        return max(tasks, key=lambda t: t["CreatedAt"], default=None)

    def _cli(self, *args):
        env = {**os.environ, **({"DOCKER_HOST": self.manager_url} if self.manager_url else {})}
        done = subprocess.run(["docker", "stack", *args], env=env, capture_output=True, text=True)
        if done.returncode:
            lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
            raise LabError(_("docker stack {action} failed: {output}").format(
                action=args[0], output=" | ".join(lines[-3:]) or done.returncode))

    def down(self, lab):
        """Remove the stack (its services, network and secrets), then wait until every machine that answers
        has removed its containers; returns the names of the machines that did not answer."""
        self._cli("rm", lab.project)
        deadline = time.monotonic() + 60
        while self.containers(lab.project) and time.monotonic() < deadline:
            time.sleep(0.2)  # stack rm returns before the machines have removed their tasks
        while self.client.networks.list(names=[f"{lab.project}_lab"]) and time.monotonic() < deadline:
            time.sleep(0.2)
        return [m.name for m in self.machines() if m.client is None]

    def containers(self, project):
        """(Machine, container) of every node of the stack, on every machine that answers."""
        found = []
        for machine in self.machines():
            if machine.client is None:
                continue
            try:
                listed = self._listed(machine.client, project)
            except UNREACHABLE as exc:
                raise EngineUnavailable(_("the engine of machine {machine} stopped answering: {error}").format(
                    machine=machine.name, error=exc)) from None
            found += [(machine, c) for c in listed]
        return self._current(found)

    @staticmethod
    def _listed(client, project, tries=3):
        """The stack's containers on one engine; listed again when one went between the list and its inspect."""
        for attempt in range(tries):
            try:
                return client.containers.list(all=True, filters={"label": [f"{labels.STACK}={project}"]})
            except docker.errors.NotFound:
                if attempt == tries - 1:
                    raise

    @staticmethod
    def _current(found):
        """One container per node: a killed task's container stays beside its replacement until the stack
        goes; the running one, else the newest, is the node."""
        by_node = {}
        for machine, container in found:
            key = container.labels.get("com.docker.swarm.service.name")
            rank = (container.status == "running", container.attrs.get("Created", ""))
            if key not in by_node or rank > by_node[key][0]:
                by_node[key] = (rank, machine, container)
        return [(machine, container) for _, machine, container in by_node.values()]

    def restart(self, node):
        """A new task for the node (a swarm task's container cannot start again), on the same machine."""
        service = self.client.services.get(f"{node.project}_{node.name}")
        old = {t["ID"] for t in service.tasks()}
        service.force_update()
        self.wait_tasks(node.project, [node.name], replaced=old)
        for machine, container in self.containers(node.project):
            if container.labels.get("com.docker.swarm.service.name") == service.name \
                    and container.status == "running":
                if machine.name != node.machine.name:
                    raise LabError(_("node {node} came back on {new}, not on {old}").format(
                        node=node.name, new=machine.name, old=node.machine.name))
                return container
        raise NodeUnhealthy(node.name, _("node {node} has no running container after its restart").format(
            node=node.name))
