#!/bin/sh
# PID 1 of a simulated machine: its engine, reachable from the host through a socket in the bound /run/socklab
# (and, inside, at the usual /var/run/docker.sock).
rm -f /run/socklab/docker.sock /var/run/docker.pid
exec dockerd --host unix:///run/socklab/docker.sock --host unix:///var/run/docker.sock --storage-driver overlay2 "$@"
