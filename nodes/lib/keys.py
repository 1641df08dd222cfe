"""The lab's secrets as node programs find them: one file each, made per lab by the orchestrator and mounted
by compose.yaml into the nodes that may use it."""
from nodes.lib import program

EXECD = "/run/socklab/execd.key"  # execd's HMAC key: the server and the clients
QUEUE = "/run/socklab/queue.key"  # the queue broker's authkey: the server, clients and workers


def load(path, missing=program.ProgramError):
    """The key in the file at path; `missing` (a ProgramError) naming the path when there is none."""
    try:
        with open(path, "rb") as f:
            return f.read().strip()
    except FileNotFoundError:
        raise missing(f"no key at {path}: this node is not given one") from None
