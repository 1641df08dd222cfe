"""The Compose CLI, v2 (`docker compose`) or v1 (`docker-compose`), used only to bring a project up and down."""
import os
import shutil
import subprocess
from pathlib import Path

from orchestrator.errors import ComposeFailed

COMPOSE_FILE = Path(__file__).resolve().parent.parent / "compose.yaml"


def detect():
    """The argv prefix of the Compose CLI on this host, v2 preferred."""
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    raise ComposeFailed("no Compose CLI found: install the Docker Compose plugin (docker compose) or docker-compose")


class Compose:
    """One Compose project of compose.yaml, with the variables the file reads."""

    def __init__(self, project, variables):
        self.cli = detect()
        self.project = project
        self.env = {**os.environ, "COMPOSE_PROJECT_NAME": project, **variables}

    def _run(self, *args):
        argv = [*self.cli, "-p", self.project, "-f", str(COMPOSE_FILE), *args]
        done = subprocess.run(argv, env=self.env, capture_output=True, text=True)
        if done.returncode:
            lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
            raise ComposeFailed(f"{' '.join(self.cli)} {args[0]} failed: {' | '.join(lines[-3:]) or done.returncode}")

    def up(self, scale):
        """Create or update the project's containers without building or pulling; scale is {service: count}."""
        options = [arg for service, count in scale.items() for arg in ("--scale", f"{service}={count}")]
        self._run("up", "-d", "--no-build", "--remove-orphans", *options)

    def down(self):
        """Remove the project's containers, networks and volumes."""
        self._run("down", "--volumes", "--remove-orphans", "--timeout", "2")
