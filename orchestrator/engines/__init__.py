"""Where a lab runs: the seam between Lab/Node and the Docker engines that hold their containers.

An engine backend (`compose.ComposeEngine`, `swarm.SwarmEngine`) answers the same questions:
- `machines()`: the Machines it spans, each with the Docker client that reaches its engine;
- `image(progress)`: the node image's tag, present on every machine;
- `up(lab, image, workers, placement)` / `down(lab)`: deploy and remove the lab's nodes (down returns the
  machines it could not reach);
- `containers(project)`: (Machine, container) for every node of the lab;
- `restart(node)`: the node's container after a restart, on the same machine.
Everything else (exec, files, faults, pause, logs) goes through a node's own machine's client, whatever the
backend. Kubernetes would be a third backend with the same answers.
"""
import json
import os
from dataclasses import dataclass, field

import docker
import docker.errors
import requests.exceptions

from orchestrator.errors import BadParameter, EngineUnavailable
from orchestrator.i18n import _
from orchestrator.topology import ROOT

NAMES = ("compose", "swarm")
# an engine that stopped answering (refused, reset, timed out), as opposed to one that answered with an error
UNREACHABLE = (requests.exceptions.ConnectionError, requests.exceptions.Timeout, ConnectionError, TimeoutError)


@dataclass
class Machine:
    """One engine of the lab: its name (a swarm node's hostname, or this host's engine) and how to reach it.
    client is None when the engine did not answer; error says why."""
    name: str
    url: str | None = None  # for the docker CLI's -H; None: the environment's engine
    client: object = field(default=None, repr=False)
    error: str = ""
    id: str = ""  # the swarm node's ID


def connect(url=None, timeout=900):
    """A Docker SDK client of the engine at url (unix://; tcp://, with TLS when DOCKER_CERT_PATH holds the
    client's certificate; ssh:// through paramiko), or of the environment's (DOCKER_HOST); it has answered a
    ping, else EngineUnavailable."""
    try:
        if url is None:
            client = docker.from_env(timeout=timeout)
        else:
            tls = docker.tls.TLSConfig(
                client_cert=(os.path.join(os.environ["DOCKER_CERT_PATH"], "cert.pem"),
                             os.path.join(os.environ["DOCKER_CERT_PATH"], "key.pem")),
                ca_cert=os.path.join(os.environ["DOCKER_CERT_PATH"], "ca.pem"), verify=True) \
                if url.startswith("tcp://") and os.environ.get("DOCKER_CERT_PATH") else False
            client = docker.DockerClient(base_url=url, timeout=timeout, tls=tls)
        client.ping()
        return client
    except (docker.errors.DockerException, OSError) as exc:
        where = url or os.environ.get("DOCKER_HOST") or _("this host")
        message = _("cannot reach the Docker engine at {where} ({error}); is it running, and may you use it?")
        raise EngineUnavailable(message.format(where=where, error=exc)) from None


def unreachable(machine, error):
    """The one-line error of a machine whose engine stopped answering."""
    return EngineUnavailable(_("the engine of machine {machine} stopped answering: {error}").format(
        machine=machine, error=error))


def record_path(project):
    """Where a lab's engine is written down: .lab/<project>/engine.json."""
    return ROOT / ".lab" / project / "engine.json"


def recorded(project):
    """What the lab's last `up` wrote down ({} when nothing, or nothing readable)."""
    try:
        return json.loads(record_path(project).read_text())
    except (OSError, ValueError):
        return {}


def remember(project, backend):
    """Write down where the lab runs, so that every later command finds it without the flag."""
    path = record_path(project)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(backend.record()) + "\n")


def chosen(name=None):
    """The engine asked for: the --engine flag, else SOCKLAB_ENGINE; None when neither says."""
    name = name or os.environ.get("SOCKLAB_ENGINE") or None
    if name is not None and name not in NAMES:
        raise BadParameter("--engine", name, " | ".join(NAMES))
    return name


def for_lab(project, name=None, client=None, progress=lambda text: None):
    """The backend of lab `project`: Compose on client when one is given; else the engine asked for (flag,
    then SOCKLAB_ENGINE), else the one its last `up` wrote down, else Compose on this host's engine. A swarm
    lab's manager is the one written down, else SOCKLAB_MANAGER's."""
    from orchestrator.engines.compose import ComposeEngine
    from orchestrator.engines.swarm import SwarmEngine
    if client is not None:
        return ComposeEngine(client)
    record = recorded(project)
    name = chosen(name) or record.get("engine")
    if name == "swarm":
        manager = record.get("manager") if record.get("engine") == "swarm" else None
        return SwarmEngine(manager or os.environ.get("SOCKLAB_MANAGER") or None, progress)
    return ComposeEngine()