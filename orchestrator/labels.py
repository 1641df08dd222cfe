"""Every Docker label socklab reads or writes, in one place.

Compose labels its own containers; socklab labels what it starts outside Compose (fault sidecars, scratch
nodes, images, bench containers), so that `down` finds and removes all of it.
"""
COMPOSE_PROJECT = "com.docker.compose.project"
COMPOSE_SERVICE = "com.docker.compose.service"
COMPOSE_NUMBER = "com.docker.compose.container-number"

NODE = "org.socklab.node"                   # on every node of compose.yaml
SCRATCH_PROJECT = "org.socklab.scratch.project"  # a scratch node's lab (Lab.scratch_node)
FAULT_PROJECT = "org.socklab.fault.project"  # a fault sidecar's lab
FAULT_NODE = "org.socklab.fault.node"        # the node whose network it impairs
FAULT_KIND = "org.socklab.fault"             # impair or partition
IMAGE = "org.socklab.image"                  # socklab-base or socklab-node
BENCH = "org.socklab.bench"                  # bare containers of the benchmark baseline
SERVICE = "org.socklab.service"              # a swarm node's service (server, client, worker) …
NUMBER = "org.socklab.number"                # … and its number: what Compose's own labels say under Compose
ENGINE = "org.socklab.engine"                # on a swarm node: how socklab reaches its engine (unix://, ssh://, tcp://)
STACK = "com.docker.stack.namespace"         # every container of a swarm stack
LOCAL_SWARM = "org.socklab.local-swarm"      # the engines-in-containers of `make swarm-local`
