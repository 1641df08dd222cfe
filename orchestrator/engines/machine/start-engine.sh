#!/bin/sh
# PID 1 of a simulated machine: its engine, reachable from the host through a socket in the bound /run/socklab
# (and, inside, at the usual /var/run/docker.sock); with REGISTRY_PORT, the host's port of that number is
# forwarded to this machine's loopback (forward.py).
rm -f /run/socklab/docker.sock /var/run/docker.pid
if [ -n "$REGISTRY_PORT" ]; then
  python3 /usr/local/lib/forward.py "$(ip route | awk '/^default/ {print $3}')" "$REGISTRY_PORT" &
fi
exec dockerd --host unix:///run/socklab/docker.sock --host unix:///var/run/docker.sock --storage-driver overlay2 "$@"
