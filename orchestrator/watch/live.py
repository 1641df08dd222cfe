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
# nodes and faults change seldom, and asking the engine costs it too; programs come from /proc
NODES_EVERY_S, PROGRAMS_EVERY_S = 5.0, 2.0
STEADY = {"ESTABLISHED", "LISTEN"}  # a table of only these stays as it was while no segment moves
TCP_MOVED = ("ActiveOpens", "PassiveOpens", "AttemptFails", "EstabResets", "InSegs", "OutSegs")
EVENTS_KEPT, EVENTS_SENT = 500, 100  # a page keeps those it has seen: a sample carries the newest
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


def programs(pids):
    """{name: [{"pid", "command"}]} of the processes sharing each named pid's pid namespace, as that namespace
    numbers them; one pass over /proc for every node."""
    wanted = {}
    for name, pid in pids.items():
        try:
            wanted[os.readlink(f"/proc/{pid}/ns/pid")] = name
        except OSError:
            continue
    found = {name: [] for name in pids}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name = wanted.get(os.readlink(entry / "ns/pid"))
            if name is None:
                continue
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            inner = next(line.split()[-1] for line in (entry / "status").read_text().splitlines()
                         if line.startswith("NSpid:"))
        except (OSError, StopIteration):
            continue
        if command and inner != "1" and not command.startswith(PLUMBING):
            found[name].append({"pid": int(inner), "command": command})
    return {name: sorted(running, key=lambda p: p["pid"]) for name, running in found.items()}


IMPAIRMENT = {"delay-ms": "delay {} ms", "jitter-ms": "jitter {} ms", "loss": "loss {}%", "rate-kbit": "rate {} kbit/s"}


def fault_text(fault):
    """What a fault sidecar holds, from its command: {"kind", "node", "args"}; an impairment's args said as
    `delay 20 ms`, those at 0 left out; a partition's, the peers' addresses."""
    command = fault.container.attrs["Config"].get("Cmd") or []
    args = command[command.index(fault.kind) + 1:] if fault.kind in command else []
    said = []
    for arg in args:
        name, _, value = arg.lstrip("-").partition("=")
        if name in IMPAIRMENT:
            if float(value or 0):
                said.append(IMPAIRMENT[name].format(f"{float(value):g}"))
        else:
            said.append(arg)
    return {"kind": fault.kind, "node": fault.node, "args": said}


class Watcher:
    """Samples one lab; each sample() returns the picture and the events since the previous one."""

    def __init__(self, lab, clock=time.time):
        self.lab, self.clock = lab, clock
        self.tables, self.pids = {}, {}
        self.nodes, self.faults, self.programs = [], [], {}
        self.checked = self.programs_checked = 0.0
        self.previous, self.udp, self.seen = {}, {}, {}
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
        """Nodes and faults at most every NODES_EVERY_S, programs every PROGRAMS_EVERY_S."""
        if self.clock() - self.checked >= NODES_EVERY_S or not self.nodes:
            self.checked = self.clock()
            self.nodes = self.lab.nodes()
            self._tables()
            self.faults = [fault_text(f) for f in self.lab.faults()]
        if self.clock() - self.programs_checked >= PROGRAMS_EVERY_S:
            self.programs_checked = self.clock()
            self._programs()

    def _tables(self):
        """A socket table per node on this host, opened again when its container changed."""
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

    def _programs(self):
        """The programs of every node now, and an event for each that started or ended since."""
        for name, running in programs({n.name: self.pids[n.name] for n in self.nodes if self.pids.get(n.name)}).items():
            before = {p["command"] for p in self.programs.get(name, [])}
            now = {p["command"] for p in running}
            if name in self.programs:
                for command in sorted(now - before):
                    self._event("program-started", node=name, command=command)
                for command in sorted(before - now):
                    self._event("program-ended", node=name, command=command)
            self.programs[name] = running

    def _sockets(self, name, table):
        """(TCP sockets, UDP (in, out) datagrams) of a node. The table is dumped again only when a segment
        moved since, or when it held a connection on its way in or out (whose end the counters do not tell):
        an idle lab costs a file read per node."""
        counters = table.counters()
        moved = tuple(counters["Tcp"][key] for key in TCP_MOVED)
        last = self.seen.get(name)
        if last is None or last[0] != moved or any(sock.state not in STEADY for sock in last[1]):
            self.seen[name] = last = (moved, table.tcp())
        return last[1], (counters["Udp"]["InDatagrams"], counters["Udp"]["OutDatagrams"])

    def sample(self) -> dict:
        """{"time", "nodes", "connections", "links", "faults", "events"}: the lab now; a link is one pair of
        nodes, with the TCP bytes and segments per second each way since the last sample."""
        self._refresh()
        now = self.clock()
        elapsed = max(1e-3, now - self.last_time) if self.last_time else None
        self.last_time = now
        owner = {node.ip: node.name for node in self.nodes if node.ip}
        current = {}
        nodes = [self._node(node, owner, elapsed, current) for node in self.nodes]
        connections, links = self._connections(current, elapsed)
        self.previous = current
        return {"time": now, "nodes": nodes, "connections": connections, "links": links, "faults": self.faults,
                "events": list(self.events)[-EVENTS_SENT:]}

    def _node(self, node, owner, elapsed, current):
        """The node as the page shows it; its sockets connected to other nodes go into current, by
        (node, port, peer, peer's port)."""
        table, sockets, udp_rate = self.tables.get(node.name), [], None
        if table:
            try:
                sockets, udp = self._sockets(node.name, table)
            except OSError:  # the node stopped between two samples
                udp = None
            if udp and node.name in self.udp and elapsed:
                udp_rate = [round((a - b) / elapsed, 1) for a, b in zip(udp, self.udp[node.name])]
            if udp:
                self.udp[node.name] = udp
        for sock in sockets:
            peer = owner.get(sock.remote[0])
            if peer and sock.state != "LISTEN" and sock.local[0] == node.ip:
                current[(node.name, sock.local[1], peer, sock.remote[1])] = sock
        listening = {s.local[1] for s in sockets if s.state == "LISTEN" and not s.local[0].startswith("127.")}
        return {"name": node.name, "service": node.service, "ip": node.ip, "here": table is not None,
                "machine": node.machine_name if self.lab.backend.name == "swarm" else "",
                "programs": self.programs.get(node.name, []), "udp_per_s": udp_rate, "listening": sorted(listening)}

    def _connections(self, current, elapsed):
        """(connections, links): both ends of each connection as one, an event for each that opened, began
        closing or went since the last sample; and the traffic per pair of nodes, each way."""
        merged, before = {}, {}
        for (node, port, peer, peer_port), sock in current.items():
            key = tuple(sorted([(node, port), (peer, peer_port)]))
            entry = merged.setdefault(key, {"a": key[0][0], "a_port": key[0][1], "b": key[1][0],
                                            "b_port": key[1][1], "states": {}})
            entry["states"][node if node != peer else f"{node}:{port}"] = sock.state
        for (node, port, peer, peer_port), sock in self.previous.items():
            before.setdefault(tuple(sorted([(node, port), (peer, peer_port)])), {})[node] = sock.state
        for key, entry in merged.items():
            where = {"a": entry["a"], "a_port": entry["a_port"], "b": entry["b"], "b_port": entry["b_port"]}
            closing = lambda states: any(state in CLOSING for state in states.values())
            if key not in before:
                self._event("connection-opened", **where, states=entry["states"])
            elif closing(entry["states"]) and not closing(before[key]):
                self._event("connection-closing", **where, states=entry["states"])
        for (a, a_port), (b, b_port) in before.keys() - merged.keys():
            self._event("connection-closed", a=a, a_port=a_port, b=b, b_port=b_port)
        return list(merged.values()), self._links(current, elapsed)

    def _links(self, current, elapsed):
        """[{"from", "to", "proto", "bytes_per_s", "packets_per_s", "connections"}]: what each node sent each
        other node since the last sample, counted at the sender (a connection new since then: all it sent)."""
        links = {}
        for (node, port, peer, peer_port), sock in current.items():
            if not elapsed or sock.state == "TIME-WAIT":  # a TIME-WAIT socket keeps no counters
                continue
            old = self.previous.get((node, port, peer, peer_port)) or ZERO
            link = links.setdefault((node, peer), {"from": node, "to": peer, "proto": "tcp", "bytes_per_s": 0.0,
                                                   "packets_per_s": 0.0, "connections": 0})
            link["bytes_per_s"] += max(0, sock.bytes_out - old.bytes_out) / elapsed
            link["packets_per_s"] += max(0, sock.segs_out - old.segs_out) / elapsed
            link["connections"] += sock.state == "ESTABLISHED"
        for link in links.values():
            link["bytes_per_s"], link["packets_per_s"] = round(link["bytes_per_s"]), round(link["packets_per_s"], 1)
        return list(links.values())
