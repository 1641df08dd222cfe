"""The lab as a Docker Swarm stack over several machines, each node reached through its own machine's engine.

How socklab reaches each machine's engine is said once, on the swarm node, as the label org.socklab.engine
(`docker node update --label-add org.socklab.engine=ssh://user@host NODE`); the engine socklab talks to
needs no label. The stack is deployed with the docker CLI (`docker stack deploy`, up and down only);
everything else goes through the Docker SDK, machine by machine.
"""
import os
import shutil
import subprocess
import time
from itertools import cycle
from pathlib import Path

import docker.errors

from orchestrator import labels
from orchestrator.engines import UNREACHABLE, Machine, connect, distribute, stack, unreachable
from orchestrator.errors import (BadParameter, EngineUnavailable, LabError, NodeUnhealthy, SwarmUnavailable)
from orchestrator.i18n import _
from orchestrator.image import Images
from orchestrator.topology import COMPOSE_FILE, SERVICES, node_names, variables

LOCAL_MANAGER = Path("/run/socklab-swarm/engine1/docker.sock")  # `make swarm-local`'s (engines.local_swarm)
ENDED_TASK = ("complete", "failed", "rejected", "shutdown", "orphaned", "remove")
PINNED = "node.id == "  # the placement constraint each node's service carries


def stderr_tail(done):
    """The last three lines a failed CLI said, as one line."""
    lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
    return " | ".join(lines[-3:]) or done.returncode


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
        """What a later command needs to find the lab: the swarm, and the manager it was deployed through."""
        return {"engine": self.name, "manager": self.manager_url or os.environ.get("DOCKER_HOST")}

    def machines(self):
        """Every active swarm node as a Machine, socklab's own manager first; one the swarm marks down, or
        whose engine does not answer, has no client and says why."""
        if self._machines is None:
            mine = self.client.info()["Swarm"]["NodeID"]
            nodes = [n.attrs for n in self.client.nodes.list() if n.attrs["Spec"].get("Availability") == "active"]
            nodes.sort(key=lambda n: (n["ID"] != mine, n["Description"]["Hostname"]))
            self._machines = [self._machine(n, n["ID"] == mine) for n in nodes]
        return self._machines

    def _machine(self, node, mine):
        name = node["Description"]["Hostname"]
        url = node["Spec"].get("Labels", {}).get(labels.ENGINE)
        if node["Status"]["State"] != "ready":
            machine = Machine(name, url, None, _("the swarm says it is {state}").format(state=node["Status"]["State"]))
        elif mine and url is None:
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
        lacks it or holds another image under its tag; with SOCKLAB_REGISTRY, pushed there for the machines
        to pull instead."""
        try:
            builder = connect(timeout=900)
        except EngineUnavailable:
            builder = self.client
        tag = Images(builder, progress).ensure()
        if os.environ.get("SOCKLAB_REGISTRY"):
            return distribute.pushed(builder, tag, os.environ["SOCKLAB_REGISTRY"].rstrip("/"), progress)
        return distribute.streamed(builder, tag, self.answering(), progress)

    def pinned(self, project):
        """{node: machine name} of the lab's services, as the manager holds them (whether or not their
        machines answer)."""
        by_id = {m.id: m.name for m in self.machines()}
        found = {}
        for service in self._services(project):
            constraints = service.attrs["Spec"]["TaskTemplate"].get("Placement", {}).get("Constraints") or []
            machine_id = next((c.removeprefix(PINNED) for c in constraints if c.startswith(PINNED)), None)
            found[service.name.removeprefix(f"{project}_")] = by_id.get(machine_id, machine_id)
        return found

    def _services(self, project):
        return self.client.services.list(filters={"label": f"{labels.STACK}={project}"})

    def placement(self, workers, pinned, running):
        """[(name, service, number, machine)]: a node keeps the machine it runs on; pinned ones (by node, or
        by service for all its nodes) go where asked; the rest take the machines in turn (server, client1,
        client2… on different machines)."""
        nodes = node_names(workers)
        unknown = [key for key in pinned if key not in SERVICES and key not in [n for n, *_ in nodes]]
        if unknown:
            raise BadParameter("--placement", unknown[0], _("a node or a service of the lab: {names}").format(
                names=", ".join([*SERVICES, *(n for n, *_ in nodes)])))
        wanted = {name: pinned.get(name) or pinned.get(service) or running.get(name) for name, service, _ in nodes}
        machines = self.answering(needed=[m for m in wanted.values() if m])
        by_name = {m.name: m for m in machines}
        strangers = [m for m in pinned.values() if m not in by_name]
        if strangers:
            raise BadParameter("--placement", strangers[0], " | ".join(by_name))
        turn = cycle(machines)
        return [(name, service, number, by_name[wanted[name]] if wanted[name] else next(turn))
                for name, service, number in nodes]

    def up(self, lab, image, workers, placement=None):
        """Deploy the stack (or update it), then wait until every node's task runs the image: a node whose
        task had ended (killed, say) gets a new one, on its machine."""
        running = self.pinned(lab.project)
        chosen = self.placement(workers, placement or {}, running)
        names = [name for name, *_ in chosen]
        ended = {node.name: node.container.labels.get("com.docker.swarm.task.id") for node in lab.nodes()
                 if node.name in names and node.container.status != "running"}  # its engine knows first
        spec = stack.stack(COMPOSE_FILE.read_text(), lab.project, variables(lab, image),
                           [(n, s, i, m.id) for n, s, i, m in chosen], lab.secrets)
        path = lab.secrets / "stack.yaml"
        path.write_text(stack.dump(spec))
        self._cli("deploy", "--prune", "--resolve-image", "never", "--compose-file", str(path), lab.project)
        for name in ended:
            self.client.services.get(f"{lab.project}_{name}").force_update()
        self.wait_tasks(lab.project, names, image=image, replaced=set(ended.values()))
        self._wait_gone(lab.project, names)

    def wait_tasks(self, project, names, timeout=120, replaced=(), image=None):
        """Wait until each named node's newest task (not one in replaced; of image, when given) runs; a task
        that ended or cannot be placed is said with the swarm's reason and what its container said."""
        deadline = time.monotonic() + timeout
        waiting = set(names)
        while waiting:
            for name in sorted(waiting):
                task = self._task(project, name, replaced, image)
                state = task["Status"]["State"] if task else None
                if state == "running":
                    waiting.discard(name)
                elif state in ENDED_TASK or time.monotonic() > deadline:
                    raise NodeUnhealthy(name, _("node {node}'s task did not start ({state}): {error}").format(
                        node=name, state=state or _("no task"), error=self._reason(task)), self._reason(task))
            if waiting:
                time.sleep(0.2)  # the swarm has no event for a task's state that this SDK follows

    def _reason(self, task):
        status = (task or {}).get("Status", {})
        said = " | ".join(filter(None, [status.get("Err") or status.get("Message"), self._output(task)]))
        if "bind source path does not exist" in said:
            said += _(" (on a swarm the workspace must be at the same path on every machine: README, "
                      "\"Across machines\")")
        return said or _("no reason given")

    def _output(self, task):
        """The last lines a task's container said, from its machine's engine ("" when there are none)."""
        container_id = ((task or {}).get("Status", {}).get("ContainerStatus") or {}).get("ContainerID")
        machine = next((m for m in self.machines() if task and m.id == task.get("NodeID") and m.client), None)
        if not container_id or machine is None:
            return ""
        try:
            said = machine.client.containers.get(container_id).logs(tail=2)
        except UNREACHABLE:
            return ""
        return said.decode(errors="replace").strip().replace("\n", " | ")

    def _task(self, project, name, replaced=(), image=None):
        """The newest task of the node's service (not in replaced; of image, when given), or None."""
        try:
            tasks = self.client.services.get(f"{project}_{name}").tasks()
        except docker.errors.NotFound:
            return None
        tasks = [t for t in tasks if t["ID"] not in replaced
                 and (image is None or t["Spec"]["ContainerSpec"]["Image"].split("@")[0] == image)]
        return max(tasks, key=lambda t: t["CreatedAt"], default=None)

    def _wait_gone(self, project, names, timeout=60):
        """Wait until the containers of nodes no longer in the lab (workers it shrank by) are gone."""
        deadline = time.monotonic() + timeout
        while any(node_name(c, project) not in names for _, c in self.containers(project, strict=False)):
            if time.monotonic() > deadline:
                raise LabError(_("the nodes removed from lab {project} were still there after {seconds} s").format(
                    project=project, seconds=timeout))
            time.sleep(0.2)  # the machines remove a pruned service's containers after deploy returns

    def _cli(self, *args):
        if not shutil.which("docker"):
            raise LabError(_("a swarm lab is deployed with the docker command-line client, which this host "
                             "does not have"))
        env = {**os.environ, **({"DOCKER_HOST": self.manager_url} if self.manager_url else {})}
        done = subprocess.run(["docker", "stack", *args], env=env, capture_output=True, text=True)
        if done.returncode:
            raise LabError(_("docker stack {action} failed: {output}").format(action=args[0],
                                                                              output=stderr_tail(done)))

    def down(self, lab):
        """Remove the stack (its services, network and secrets), then wait until every machine that answers
        has removed its containers; returns the names of the machines that held nodes and did not answer."""
        held = set(self.pinned(lab.project).values())
        self._cli("rm", lab.project)
        deadline = time.monotonic() + 60
        while self.containers(lab.project, strict=False) or self.client.networks.list(
                filters={"name": f"^{lab.project}_lab$"}):
            if time.monotonic() > deadline:
                raise LabError(_("lab {project}'s containers or network were still there 60 s after "
                                 "`docker stack rm`").format(project=lab.project))
            time.sleep(0.2)  # stack rm returns before the machines have removed their tasks
        return [m.name for m in self.machines() if m.client is None and m.name in held]

    def containers(self, project, strict=True):
        """(Machine, container) of every node of the stack: one per node, on every machine that answers.
        strict: a machine that holds a node of the lab and does not answer raises EngineUnavailable."""
        if strict:
            self.answering(needed=set(self.pinned(project).values()))
        found = []
        for machine in self.machines():
            if machine.client is None:
                continue
            try:
                found += [(machine, c) for c in self._listed(machine.client, project)]
            except UNREACHABLE as exc:
                machine.client, machine.error = None, str(exc)
                if strict:
                    raise unreachable(machine.name, exc) from None
        return current(found, project)

    @staticmethod
    def _listed(client, project, tries=3):
        """The stack's containers on one engine; listed again when one went between the list and its inspect."""
        for attempt in range(tries):
            try:
                return client.containers.list(all=True, filters={"label": [f"{labels.STACK}={project}"]})
            except docker.errors.NotFound:
                if attempt == tries - 1:
                    raise

    def restart(self, node):
        """A new task for the node (a swarm task's container cannot start again), on the same machine."""
        service = self.client.services.get(f"{node.project}_{node.name}")
        old = {t["ID"] for t in service.tasks()}
        service.force_update()
        self.wait_tasks(node.project, [node.name], replaced=old)
        for machine, container in self.containers(node.project):
            if node_name(container, node.project) == node.name and container.status == "running":
                if machine.name != node.machine.name:
                    raise LabError(_("node {node} came back on {new}, not on {old}").format(
                        node=node.name, new=machine.name, old=node.machine.name))
                return container
        raise NodeUnhealthy(node.name, _("node {node} has no running container after its restart").format(
            node=node.name))


def node_name(container, project):
    """client2, from its swarm service's name (project_client2)."""
    return container.labels.get("com.docker.swarm.service.name", "").removeprefix(f"{project}_")


def current(found, project):
    """One container per node: a killed task's container stays beside its replacement until the stack goes;
    the running one, else the newest, is the node."""
    by_node = {}
    for machine, container in found:
        key = node_name(container, project)
        rank = (container.status == "running", container.attrs.get("Created", ""))
        if key not in by_node or rank > by_node[key][0]:
            by_node[key] = (rank, machine, container)
    return [(machine, container) for _, machine, container in by_node.values()]
