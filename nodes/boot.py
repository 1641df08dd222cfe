"""A node's first process: check the node can serve the lab, make the learner's account, mark it ready,
then idle as `sleep`.

Ready is said twice: a file, which the Compose health check tests once a minute, and a line in the
container's log, which the orchestrator follows to know the node is up without polling it.
"""
import os
import socket
import subprocess
import sys

from nodes.lib.layout import PROGRAMS, READY, READY_LINE

LEARNER = "learner"


def check():
    """The node has an address on the lab network and resolves its own service name to it."""
    service = os.environ["SOCKLAB_SERVICE"]
    addresses = {info[4][0] for info in socket.getaddrinfo(service, None, socket.AF_INET)}
    mine = {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
    if not addresses & mine:
        raise SystemExit(f"boot: {service} resolves to {sorted(addresses)}, not to this node {sorted(mine)}")


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
