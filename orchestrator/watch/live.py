"""The lab as it is now, sampled from the host: its nodes, their programs, the TCP connections between them
with the bytes and segments each way since the last sample, the faults in force, and what changed.

Nothing runs in a node for this: sockets come from the kernel's socket tables (watch.sockets), programs from
/proc, faults from their sidecars' labels and commands. A node of a swarm on another machine is listed
without sockets or programs: its kernel is not this one.
"""
import os
import time
from collections import deque
from pathlib import Path

from orchestrator.watch.sockets import Connection, NotOnThisHost, SocketTable

# what keeps a node up, and what wraps the programs socklab starts (a session of their own, a time limit)
PLUMBING = ("sleep infinity", "setsid -w sh -c", "timeout -k ")
SLOW_EVERY_S = 2.0   # nodes, programs and faults change seldom; sockets are read at every sample
EVENTS_KEPT = 500
ZERO = Connection("", ("", 0), ("", 0), 0)
CLOSING = {"FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT", "CLOSE", "CLOSE-WAIT", "LAST-ACK", "CLOSING"}


def host_pid(node):
    """The pid on this host of the node's first process; None when it is not on this kernel. This host's
    engine says it; a node of a local swarm runs in an engine that is itself a container, whose pids are its
    own, so there the pid is found by the container's id in /proc/*/cgroup."""
    said = node.container.attrs["State"].get("Pid")
    if said and node.container.id in _read(f"/proc/{said}/cgroup"):
        return said
    pids = []
    for cgroup in Path("/proc").glob("[0-9]*/cgroup"):
        if node.container.id in _read(cgroup):
            pids.append(int(cgroup.parent.name))
    return min(pids) if pids else None


def _read(path):
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def programs(pid):
    """[{"pid", "command"}] of the processes sharing pid's pid namespace, as that namespace numbers them."""
    try:
        namespace = os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return []
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.readlink(entry / "ns/pid") != namespace:
                continue
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            inner = next(line.split()[-1] for line in (entry / "status").read_text().splitlines()
                         if line.startswith("NSpid:"))
        except (OSError, StopIteration):
            continue
        if command and inner != "1" and not command.startswith(PLUMBING):
            found.append({"pid": int(inner), "command": command})
    return sorted(found, key=lambda p: p["pid"])


def fault_text(fault):
    """What a fault sidecar holds, from its command: {"kind", "node", "args"}."""
    command = fault.container.attrs["Config"].get("Cmd") or []
    args = command[command.index(fault.kind) + 1:] if fault.kind in command else []
    return {"kind": fault.kind, "node": fault.node, "args": [a.lstrip("-") for a in args if not a.endswith("=0")
                                                             and not a.endswith("=0.0")]}


class Watcher:
    """Samples one lab; each sample() returns the picture and the events since the previous one."""

    def __init__(self, lab, clock=time.time):
        self.lab, self.clock = lab, clock
        self.tables, self.pids = {}, {}
        self.nodes, self.faults, self.programs = [], [], {}
        self.checked = 0.0
        self.previous, self.udp = {}, {}
        self.events, self.sequence = deque(maxlen=EVENTS_KEPT), 0
        self.last_time = None

    def close(self):
        for table in self.tables.values():
            table.close()
        self.tables.clear()

    def _event(self, kind, **fields):
        self.sequence += 1
        self.events.append({"id": self.sequence, "time": self.clock(), "kind": kind, **fields})

    def _refresh(self):
        """Nodes, their programs and the faults, at most every SLOW_EVERY_S."""
        if self.clock() - self.checked < SLOW_EVERY_S and self.nodes:
            return
        self.checked = self.clock()
        self.nodes = self.lab.nodes()
        for node in self.nodes:
            pid = host_pid(node)
            if pid != self.pids.get(node.name):
                old = self.tables.pop(node.name, None)
                if old:
                    old.close()
                self.pids[node.name] = pid
            if pid and node.name not in self.tables:
                try:
                    self.tables[node.name] = SocketTable(pid)
                except NotOnThisHost:
                    self.pids[node.name] = None
            running = programs(pid) if pid else []
            before = {p["command"] for p in self.programs.get(node.name, [])}
            now = {p["command"] for p in running}
            if node.name in self.programs:
                for command in sorted(now - before):
                    self._event("program-started", node=node.name, command=command)
                for command in sorted(before - now):
                    self._event("program-ended", node=node.name, command=command)
            self.programs[node.name] = running
        self.faults = [fault_text(f) for f in self.lab.faults()]

    def sample(self) -> dict:
        """{"time", "nodes", "connections", "links", "faults", "events"}: the lab now; a link is one pair of
        nodes, with the TCP bytes and segments per second each way since the last sample."""
        self._refresh()
        now = self.clock()
        elapsed = max(1e-3, now - self.last_time) if self.last_time else None
        self.last_time = now
        owner = {node.ip: node.name for node in self.nodes if node.ip}
        current, nodes = {}, []
        for node in self.nodes:
            table = self.tables.get(node.name)
            udp_rate = None
            if table:
                try:
                    sockets = table.tcp()
                    udp = table.udp_datagrams()
                except OSError:  # the node stopped between two samples
                    sockets, udp = [], None
                if udp and node.name in self.udp and elapsed:
                    udp_rate = [round((a - b) / elapsed, 1) for a, b in zip(udp, self.udp[node.name])]
                if udp:
                    self.udp[node.name] = udp
                for sock in sockets:
                    peer = owner.get(sock.remote[0])
                    if peer and sock.state != "LISTEN" and sock.local[0] == node.ip:
                        current[(node.name, sock.local[1], peer, sock.remote[1])] = sock
                listening = sorted({s.local[1] for s in sockets if s.state == "LISTEN"
                                    and not s.local[0].startswith("127.")})  # not Docker's own resolver
            else:
                listening = []
            nodes.append({"name": node.name, "service": node.service, "ip": node.ip, "machine": node.machine_name if self.lab.backend.name == "swarm" else "",
                          "here": table is not None, "programs": self.programs.get(node.name, []),
                          "udp_per_s": udp_rate, "listening": listening})
        connections, links = self._connections(current, elapsed)
        self.previous = current
        return {"time": now, "nodes": nodes, "connections": connections, "links": links, "faults": self.faults,
                "events": list(self.events)}

    def _connections(self, current, elapsed):
        """Both ends of each connection as one, the events of those that opened, changed or went, and the
        traffic per pair of nodes."""
        merged = {}
        for (node, port, peer, peer_port), sock in current.items():
            key = tuple(sorted([(node, port), (peer, peer_port)]))
            entry = merged.setdefault(key, {"a": key[0][0], "a_port": key[0][1], "b": key[1][0],
                                            "b_port": key[1][1], "states": {}})
            entry["states"][node if node != peer else f"{node}:{port}"] = sock.state
        before = {}
        for (node, port, peer, peer_port), sock in self.previous.items():
            before.setdefault(tuple(sorted([(node, port), (peer, peer_port)])), {})[node] = sock.state
        for key, entry in merged.items():
            closing = any(state in CLOSING for state in entry["states"].values())
            was = before.get(key)
            where = dict(a=entry["a"], a_port=entry["a_port"], b=entry["b"], b_port=entry["b_port"])
            if was is None:
                self._event("connection-opened", **where, states=entry["states"])
            elif closing and not any(state in CLOSING for state in was.values()):
                self._event("connection-closing", **where, states=entry["states"])
        for key in before.keys() - merged.keys():
            (a, a_port), (b, b_port) = key
            self._event("connection-closed", a=a, a_port=a_port, b=b, b_port=b_port)
        links = {}
        for (node, port, peer, peer_port), sock in current.items():
            if not elapsed or sock.state == "TIME-WAIT":  # a TIME-WAIT socket keeps no counters
                continue
            old = self.previous.get((node, port, peer, peer_port)) or ZERO  # new: all it carried is new
            link = links.setdefault((node, peer), {"from": node, "to": peer, "proto": "tcp", "bytes_per_s": 0.0,
                                                   "packets_per_s": 0.0, "connections": 0})
            link["bytes_per_s"] += max(0, sock.bytes_out - old.bytes_out) / elapsed
            link["packets_per_s"] += max(0, sock.segs_out - old.segs_out) / elapsed
        for (node, port, peer, peer_port), sock in current.items():
            if (node, peer) in links and sock.state == "ESTABLISHED":
                links[(node, peer)]["connections"] += 1
        for link in links.values():
            link["bytes_per_s"], link["packets_per_s"] = round(link["bytes_per_s"]), round(link["packets_per_s"], 1)
        return list(merged.values()), list(links.values())
