"""Where things are on a node, and what it says: shared by the node programs and the orchestrator.

READY, READY_LINE  nodes.boot marks a node ready with the file (the Compose health check tests it) and the
                   line in the container's log (the orchestrator follows it)
PROGRAMS           nodes.programs keeps a learner's detached programs here
SANDBOX_UID        nodes.sandbox runs a learner's program as this uid: no account has it, so the process
                   limit counts this user only, host-wide
"""
READY = "/run/socklab-ready"
READY_LINE = "socklab: ready"
PROGRAMS = "/var/lib/socklab/programs"
SANDBOX_UID = 48_611
