"""The lab's shape, whichever engine runs it: its services, how many of each, the learner's files and account."""
import os
from pathlib import Path

SERVICES = ("server", "client", "worker")
ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "compose.yaml"  # the topology, written once: Compose runs it, the swarm's stack derives from it
DEFAULT_WORKERS = 3
CLIENTS = 2


def workspace():
    """SOCKLAB_WORKSPACE, or workspace/ of the repository: mounted at /workspace on every node."""
    return Path(os.environ.get("SOCKLAB_WORKSPACE") or ROOT / "workspace").resolve()


def host_user():
    """(uid, gid) the learner's programs run as in the nodes: SOCKLAB_UID/SOCKLAB_GID, else the user who
    called sudo, else this process's, so that files written in the workspace belong to that user."""
    uid = os.environ.get("SOCKLAB_UID") or os.environ.get("SUDO_UID") or str(os.getuid())
    gid = os.environ.get("SOCKLAB_GID") or os.environ.get("SUDO_GID") or str(os.getgid())
    return uid, gid


def node_names(workers):
    """(name, service, number) of every node of a lab with that many workers, server first."""
    return [("server", "server", 1)] + [(f"client{i}", "client", i) for i in range(1, CLIENTS + 1)] + \
        [(f"worker{i}", "worker", i) for i in range(1, workers + 1)]


def variables(lab, image):
    """What compose.yaml's ${…} read, for this lab and node image."""
    uid, gid = host_user()
    return {"SOCKLAB_IMAGE": image, "SOCKLAB_SUBNET": lab.subnet, "SOCKLAB_SECRETS": str(lab.secrets),
            "SOCKLAB_WORKSPACE": str(lab.workspace), "SOCKLAB_UID": uid, "SOCKLAB_GID": gid}
