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

from orchestrator.i18n import N_, _
from orchestrator.watch.sockets import Connection, SocketTable

# what keeps a node up, and what wraps the programs socklab starts (a session of their own, a time limit)
PLUMBING = ("sleep infinity", "setsid -w sh -c", "timeout -k ")
NODES_EVERY_S = 5.0  # nodes change seldom, and asking the engine costs it too; programs and faults: /proc
STEADY = {"ESTABLISHED", "LISTEN"}  # a table of only these stays as it was while no segment moves
DUMP_AT_LEAST_EVERY_S = 2.0  # listen() and closing a listener move no counter: seen within this
TCP_MOVED = ("ActiveOpens", "PassiveOpens", "AttemptFails", "EstabResets", "InSegs", "OutSegs")
EVENTS_KEPT, EVENTS_SENT = 500, 100  # a page keeps those it has seen: a sample carries the newest
ZERO = Connection("", ("", 0), ("", 0), 0)
CLOSING = {"FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT", "CLOSE", "CLOSE-WAIT", "LAST-ACK", "CLOSING"}


def host_pids(nodes):
    """{name: the pid on this host of the node's first process, or None when it is not on this kernel}. This
    host's engine says it; a node of a local swarm runs in an engine that is itself a container, whose pids
    are its own, so there the pid is found by the container's id in /proc/*/cgroup (one pass for all)."""
    found, missing = {}, {}
    for node in nodes:
        said = node.container.attrs["State"].get("Pid")
        if said and node.container.id in _read(f"/proc/{said}/cgroup"):
            found[node.name] = said
        else:
            found[node.name], missing[node.container.id] = None, node.name
    if missing:
        for cgroup in sorted(Path("/proc").glob("[0-9]*/cgroup"), key=lambda p: int(p.parent.name)):
            text = _read(cgroup)
            for container, name in list(missing.items()):
                if container in text:
                    found[name] = int(cgroup.parent.name)
                    del missing[container]
            if not missing:
                break
    return found


def _read(path):
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def processes(pids):
    """({name: [{"pid", "command"}]}, [fault]): the processes sharing each named pid's pid namespace, as that
    namespace numbers them, and the fault sidecars sharing its network namespace (nodes.faults, beside the
    node: its faults as they are now); one pass over /proc for every node."""
    by_pid_ns, by_net_ns = {}, {}
    for name, pid in pids.items():
        try:
            by_pid_ns[os.readlink(f"/proc/{pid}/ns/pid")] = name
            by_net_ns[os.readlink(f"/proc/{pid}/ns/net")] = name
        except OSError:
            continue
    found, faults = {name: [] for name in pids}, []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
            if argv[1:3] == FAULTS and len(argv) > 3:
                node = by_net_ns.get(os.readlink(entry / "ns/net"))
                if node:
                    faults.append(fault_text(argv[3], node, argv[4:]))
                continue
            name = by_pid_ns.get(os.readlink(entry / "ns/pid"))
            if name is None:
                continue
            inner = next(line.split()[-1] for line in (entry / "status").read_text().splitlines()
                         if line.startswith("NSpid:"))
        except (OSError, StopIteration):
            continue
        command = " ".join(argv)
        if command and inner != "1" and not command.startswith(PLUMBING):
            found[name].append({"pid": int(inner), "command": command})
    return {name: sorted(running, key=lambda p: p["pid"]) for name, running in found.items()}, faults


FAULTS = ["-m", "nodes.faults"]  # a fault sidecar's program (orchestrator.fault), after its python
IMPAIRMENT = {"delay-ms": N_("delay {value} ms"), "jitter-ms": N_("jitter {value} ms"), "loss": N_("loss {value}%"),
              "rate-kbit": N_("rate {value} kbit/s")}


def fault_text(kind, node, args):
    """{"kind", "node", "args"} of a fault from its sidecar's arguments: an impairment's said as `delay 20 ms`,
    those at 0 left out; a partition's, the peers' addresses."""
    said = []
    for arg in args:
        name, _sep, value = arg.lstrip("-").partition("=")
        if name in IMPAIRMENT:
            if float(value or 0):
                said.append(_(IMPAIRMENT[name]).format(value=f"{float(value):g}"))
        else:
            said.append(arg)
    return {"kind": kind, "node": node, "args": said}


def engine_fault(fault):
    """fault_text of a sidecar the engine lists (a node on another machine, whose /proc is not this one)."""
    command = fault.container.attrs["Config"].get("Cmd") or []
    return fault_text(fault.kind, fault.node, command[command.index(fault.kind) + 1:] if fault.kind in command else [])


class Watcher:
    """Samples one lab; each sample() returns the picture and the events since the previous one."""

    def __init__(self, lab, clock=time.time):
        self.lab, self.clock = lab, clock
        self.tables, self.pids = {}, {}
        self.nodes, self.faults, self.programs = [], [], {}
        self.checked, self.remote_faults = None, []
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
        """The nodes at most every NODES_EVERY_S (and the faults of those on other machines); programs and
        faults of this host's nodes at every sample, from /proc."""
        if self.checked is None or self.clock() - self.checked >= NODES_EVERY_S:
            self.checked = self.clock()
            self.nodes = self.lab.nodes()
            self._tables()
            elsewhere = {name for name, pid in self.pids.items() if not pid}
            self.remote_faults = [engine_fault(f) for f in self.lab.faults() if f.node in elsewhere] \
                if elsewhere else []
        self._programs()

    def _tables(self):
        """A socket table per node on this host, opened again when its container changed; what was kept of a
        node that went or changed is dropped (a table holds its namespace alive)."""
        pids = host_pids(self.nodes)
        for name in set(self.pids) | set(self.tables):
            if pids.get(name) != self.pids.get(name) or name not in pids:
                if name in self.tables:
                    self.tables.pop(name).close()
                self.seen.pop(name, None)
                self.udp.pop(name, None)
        self.programs = {name: running for name, running in self.programs.items() if name in pids}
        self.pids = pids
        for name, pid in pids.items():
            if pid and name not in self.tables:
                try:
                    self.tables[name] = SocketTable(pid)
                except OSError:  # gone meanwhile, or not this kernel's
                    self.pids[name] = None

    def _programs(self):
        """The programs of every node now, and an event for each that started or ended since."""
        running_now, faults = processes({name: pid for name, pid in self.pids.items() if pid})
        self.faults = faults + self.remote_faults
        for name in self.pids:  # a node that stopped runs nothing
            running = running_now.get(name, [])
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
        if last is None or last[0] != moved or any(sock.state not in STEADY for sock in last[1]) \
                or self.clock() - last[2] >= DUMP_AT_LEAST_EVERY_S:
            self.seen[name] = last = (moved, table.tcp(), self.clock())
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
            if closing(entry["states"]) and not closing(before.get(key, {})):  # new and closing already: both
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
