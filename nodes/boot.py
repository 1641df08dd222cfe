"""A node's first process: check the node can serve the lab, make the learner's account, mark it ready,
then idle as `sleep`.

Ready is said twice: a file, which the Compose health check tests once a minute, and a line in the
container's log, which the orchestrator follows to know the node is up without polling it.
"""
import os
import socket
import subprocess
import sys
import time

from nodes.lib.layout import PROGRAMS, READY, READY_LINE

LEARNER = "learner"
DNS_WAIT_S = 15


def resolves_to_me(service):
    """'' when the node's service name resolves to (among others) this node's own address, else why not."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(service, None, socket.AF_INET)}
        mine = {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
    except socket.gaierror as exc:
        return f"{service}: {exc}"
    return "" if addresses & mine else f"{service} resolves to {sorted(addresses)}, not to this node {sorted(mine)}"


def check(timeout=DNS_WAIT_S):
    """The node has an address on the lab network and resolves its own service name to it. On a swarm the
    name reaches the cluster's DNS a moment after the task starts: asked again until it does, or timeout."""
    service = os.environ["SOCKLAB_SERVICE"]
    deadline = time.monotonic() + timeout
    while problem := resolves_to_me(service):
        if time.monotonic() > deadline:
            raise SystemExit(f"boot: {problem}")
        time.sleep(0.1)  # nothing announces the name's arrival in the DNS: asked again


def learner():
    """The account a learner's programs run as: the host user's uid and gid, so that what they write in
    /workspace belongs to the host user (for uid 0, root itself)."""
    uid, gid = os.environ.get("SOCKLAB_UID", "0"), os.environ.get("SOCKLAB_GID", "0")
    if uid != "0":
        for argv in (["groupadd", "-o", "-g", gid, LEARNER],
                     ["useradd", "-o", "-u", uid, "-g", gid, "-M", "-d", "/workspace", "-s", "/bin/bash", LEARNER]):
            done = subprocess.run(argv, capture_output=True, text=True)
            if done.returncode not in (0, 9):  # 9: it exists already (a restarted node)
                raise SystemExit(f"boot: {' '.join(argv)}: {done.stderr.strip()}")
    os.makedirs(PROGRAMS, exist_ok=True)
    os.chmod(PROGRAMS, 0o1777)


if __name__ == "__main__":
    check()
    learner()
    with open(READY, "w") as ready:
        ready.write(f"{os.getpid()}\n")
    print(READY_LINE, file=sys.stdout, flush=True)
    os.execvp("sleep", ["sleep", "infinity"])
