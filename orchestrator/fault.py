"""Faults on a node's network, each held by a sidecar container that shares the node's network namespace.

The sidecar (`python3 -m nodes.faults`, from the node's own image) is the only holder of CAP_NET_ADMIN; the
fault lasts as long as the sidecar, which is labelled so that `clear`, `heal` and `down` find it.
"""
import json
import re
from dataclasses import dataclass

import docker.errors

from orchestrator import labels
from orchestrator.errors import BadParameter, FaultFailed, LabError
from orchestrator.i18n import _

DURATION = re.compile(r"^(\d+(?:\.\d+)?)(us|ms|s)?$")
RATE = re.compile(r"^(\d+(?:\.\d+)?)(bit|kbit|mbit|gbit)$", re.IGNORECASE)
SECONDS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, None: 1e-3}
BITS = {"bit": 1, "kbit": 1e3, "mbit": 1e6, "gbit": 1e9}


def _milliseconds(name, value):
    match = DURATION.match(str(value).strip())
    if not match:
        raise BadParameter(name, value, _("a duration such as 50ms, 0.2s or 50 (milliseconds)"))
    return round(float(match[1]) * SECONDS[match[2]] * 1000)


def _percent(name, value):
    text = str(value).strip().removesuffix("%")
    try:
        number = float(text)
    except ValueError:
        number = -1
    if not 0 <= number <= 100:
        raise BadParameter(name, value, _("a percentage from 0 to 100, such as 10%"))
    return number


def _kbit(name, value):
    match = RATE.match(str(value).strip())
    if not match or float(match[1]) <= 0:
        raise BadParameter(name, value, _("a rate such as 512kbit or 10mbit"))
    return max(1, round(float(match[1]) * BITS[match[2].lower()] / 1000))


@dataclass(frozen=True)
class Impairment:
    """What to do to a node's outgoing packets: delay ± jitter, random loss, a rate limit."""
    delay_ms: int = 0
    jitter_ms: int = 0
    loss: float = 0.0
    rate_kbit: int = 0

    @classmethod
    def parse(cls, delay=None, jitter=None, loss=None, rate=None):
        """From user text such as delay='50ms', jitter='5ms', loss='10%', rate='1mbit'."""
        spec = cls(delay_ms=_milliseconds("delay", delay) if delay is not None else 0,
                   jitter_ms=_milliseconds("jitter", jitter) if jitter is not None else 0,
                   loss=_percent("loss", loss) if loss is not None else 0.0,
                   rate_kbit=_kbit("rate", rate) if rate is not None else 0)
        if spec == cls():
            raise LabError(_("impair needs at least one of delay, loss or rate"))
        if spec.jitter_ms > spec.delay_ms:
            raise BadParameter("jitter", jitter, _("at most the delay ({delay_ms}ms)").format(delay_ms=spec.delay_ms))
        return spec

    def argv(self):
        return ["impair", f"--delay-ms={self.delay_ms}", f"--jitter-ms={self.jitter_ms}",
                f"--loss={self.loss}", f"--rate-kbit={self.rate_kbit}"]


class Fault:
    """A running sidecar holding one fault on one node."""

    def __init__(self, container):
        self.container = container
        self.kind = container.labels[labels.FAULT_KIND]
        self.node = container.labels[labels.FAULT_NODE]

    @classmethod
    def start(cls, node, argv):
        """Start `nodes.faults ARGV` beside node and return once its rules are in place."""
        container = node.engine.containers.run(
            node.container.image.id, ["python3", "-m", "nodes.faults", *argv], detach=True, init=True,
            network_mode=f"container:{node.container.id}", cap_add=["NET_ADMIN"],
            labels={labels.FAULT_PROJECT: node.project, labels.FAULT_NODE: node.name, labels.FAULT_KIND: argv[0]})
        fault = cls(container)
        for line in container.logs(stream=True, follow=True, stdout=False, stderr=True):
            if line.strip() == b"ready":
                return fault
        fault.container.reload()
        error = fault.container.logs(stdout=False).decode(errors="replace").strip().splitlines()
        fault.container.remove(force=True)
        raise FaultFailed(_("{fault} on {node} failed: {error}").format(
            fault=argv[0], node=node.name, error=error[-1] if error else _("the sidecar exited")))

    @classmethod
    def find(cls, engines, project, node=None, kind=None):
        """The running faults of a project on the engines (Docker clients), optionally of one node and one kind."""
        wanted = [f"{labels.FAULT_PROJECT}={project}"] + ([f"{labels.FAULT_NODE}={node}"] if node else []) + \
                 ([f"{labels.FAULT_KIND}={kind}"] if kind else [])
        return [cls(c) for engine in engines for c in engine.containers.list(all=True, filters={"label": wanted})]

    def stop(self):
        """Lift the fault: the sidecar removes its rules on SIGTERM. Returns its result."""
        try:
            self.container.stop(timeout=5)
            status = self.container.wait(timeout=10)["StatusCode"]
            output = self.container.logs(stderr=False).decode(errors="replace").strip()
            self.container.remove(force=True)
        except docker.errors.NotFound:
            return {}
        if status:
            message = _("lifting {fault} on {node} failed (exit {status}); `socklab down` resets the lab")
            raise FaultFailed(message.format(fault=self.kind, node=self.node, status=status))
        return json.loads(output.splitlines()[-1]) if output else {}
