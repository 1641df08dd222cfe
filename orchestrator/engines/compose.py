"""The lab on one engine: a Compose project, brought up and down with the Compose CLI (v2 `docker compose`,
or v1 `docker-compose`); everything else goes through the Docker SDK."""
import os
import re
import shutil
import subprocess

from orchestrator import labels
from orchestrator.engines import Machine, connect
from orchestrator.errors import BadParameter, ComposeFailed
from orchestrator.i18n import _
from orchestrator.image import Images, node_tag
from orchestrator.topology import CLIENTS, COMPOSE_FILE, ROOT, variables

START_INTERVAL_FILE = ROOT / "compose.start-interval.yaml"  # health checks' start_interval: API 1.44+, v2 only
START_INTERVAL_API = (1, 44)
START_INTERVAL_COMPOSE = (2, 20, 2)


V2, V1 = ["docker", "compose"], ["docker-compose"]


def has_v2():
    return bool(shutil.which("docker")) and subprocess.run([*V2, "version"], capture_output=True).returncode == 0


def detect():
    """The argv prefix of the Compose CLI on this host: v2 preferred, or the one SOCKLAB_COMPOSE (v1, v2) names."""
    wanted = os.environ.get("SOCKLAB_COMPOSE", "auto")
    if wanted not in ("auto", "v1", "v2"):
        raise ComposeFailed(_("SOCKLAB_COMPOSE={wanted!r}: expected auto, v1 or v2").format(wanted=wanted))
    if wanted in ("auto", "v2") and has_v2():
        return V2
    if wanted in ("auto", "v1") and shutil.which("docker-compose"):
        return V1
    if wanted != "auto":
        raise ComposeFailed(_("SOCKLAB_COMPOSE={wanted}, but Compose {wanted} is not installed").format(wanted=wanted))
    raise ComposeFailed(_("no Compose CLI found: install the Docker Compose plugin (docker compose) or docker-compose"))


def version(text):
    """(2, 20, 2) from '2.20.2', 'v2.20.2' or '2.20.2+ds1'; () when there is no number."""
    return tuple(int(part) for part in re.findall(r"\d+", text.lstrip("v").split("+")[0])[:3])


def files(cli, api_version, compose_version=lambda: ""):
    """compose.yaml, and the start_interval override where the engine (API 1.44+) and the CLI (Compose
    2.20.2+) both have it; compose_version is asked only when the rest already holds."""
    fast_start = cli == V2 and version(api_version)[:2] >= START_INTERVAL_API \
        and version(compose_version()) >= START_INTERVAL_COMPOSE
    return [COMPOSE_FILE, *([START_INTERVAL_FILE] if fast_start else [])]


def cli_version(cli):
    """The Compose CLI's own version, as it says it."""
    return subprocess.run([*cli, "version", "--short"], capture_output=True, text=True).stdout.strip()


class Compose:
    """One Compose project of compose.yaml, with the variables the file reads."""

    def __init__(self, project, variables, api_version="1.41"):
        self.cli = detect()
        self.project = project
        self.files = files(self.cli, api_version, lambda: cli_version(self.cli))
        self.env = {**os.environ, "COMPOSE_PROJECT_NAME": project, **variables}

    def _run(self, *args):
        argv = [*self.cli, "-p", self.project, *(arg for f in self.files for arg in ("-f", str(f))), *args]
        done = subprocess.run(argv, env=self.env, capture_output=True, text=True)
        if done.returncode:
            lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
            raise ComposeFailed(_("{compose} {action} failed: {output}").format(
                compose=" ".join(self.cli), action=args[0], output=" | ".join(lines[-3:]) or done.returncode))

    def up(self, scale):
        """Create or update the project's containers without building or pulling; scale is {service: count}."""
        options = [arg for service, count in scale.items() for arg in ("--scale", f"{service}={count}")]
        self._run("up", "-d", "--no-build", "--remove-orphans", *options)

    def down(self):
        """Remove the project's containers, networks and volumes."""
        self._run("down", "--volumes", "--remove-orphans", "--timeout", "2")


class ComposeEngine:
    """The lab as a Compose project on one engine: this host's (DOCKER_HOST), or the client given."""
    name = "compose"

    def __init__(self, client=None):
        self._client = client
        self._machines = None

    @property
    def client(self):
        """The engine's Docker client, connected on first use."""
        if self._client is None:
            self._client = connect()
        return self._client

    def record(self):
        """What a later command needs to find the lab: Compose, on this host's engine."""
        return {"engine": self.name}

    def machines(self):
        """The one engine, named as it calls itself."""
        if self._machines is None:
            self._machines = [Machine(self.client.info().get("Name") or "local", None, self.client)]
        return self._machines

    def image(self, progress):
        """The node image, built on the engine if missing."""
        return Images(self.client, progress).ensure()

    def up(self, lab, image, workers, placement=None):
        """Create or rescale the project's containers (placement: refused, one engine has one machine)."""
        if placement:
            raise BadParameter("--placement", ",".join(f"{k}={v}" for k, v in placement.items()),
                               _("a swarm (--engine swarm): Compose has one machine"))
        Compose(lab.project, variables(lab, image), self.client.api.api_version).up(
            {"server": 1, "client": CLIENTS, "worker": workers})

    def down(self, lab):
        """Remove the project; its one engine answered, or this raised."""
        # compose.yaml needs its variables to take the lab down too
        Compose(lab.project, variables(lab, node_tag()), self.client.api.api_version).down()
        return []

    def containers(self, project):
        """(Machine, container) of every container of the project."""
        machine = self.machines()[0]
        return [(machine, c) for c in
                self.client.containers.list(all=True, filters={"label": f"{labels.COMPOSE_PROJECT}={project}"})]

    def restart(self, node):
        """The node's own container, restarted."""
        node.container.restart(timeout=2)
        return node.container
