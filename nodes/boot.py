"""A node's first process: check the node can serve the lab, mark it ready, then idle as `sleep`.

Ready is said twice: a file, which the Compose health check tests once a minute, and a line in the
container's log, which the orchestrator follows to know the node is up without polling it.
"""
import os
import socket
import sys

READY = "/run/socklab-ready"
READY_LINE = "socklab: ready"


def check():
    """The node has an address on the lab network and resolves its own service name to it."""
    service = os.environ["SOCKLAB_SERVICE"]
    addresses = {info[4][0] for info in socket.getaddrinfo(service, None, socket.AF_INET)}
    mine = {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
    if not addresses & mine:
        raise SystemExit(f"boot: {service} resolves to {sorted(addresses)}, not to this node {sorted(mine)}")


if __name__ == "__main__":
    check()
    with open(READY, "w") as ready:
        ready.write(f"{os.getpid()}\n")
    print(READY_LINE, file=sys.stdout, flush=True)
    os.execvp("sleep", ["sleep", "infinity"])
