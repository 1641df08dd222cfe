"""Every node reaches every other by service name and by IP; then an impaired node shows its added delay."""
import statistics

from orchestrator.i18n import N_, _
from orchestrator.node import at_once
from orchestrator.result import Step

NAME = "ping"
SUMMARY = N_("every node reaches every other by service name and IP, with RTTs; then a 50 ms impairment shows")
PARAMS = {"count": (5, 1, 100), "delay_ms": (50, 1, 1000), "node": ("server", "(server|client|worker)[0-9]*")}


def sweep(sources, targets, count):
    """{source name: {target: ping summary}}, every source pinging every target, sources in parallel."""
    def one(node):  # a node's own service name could answer with itself: it pings the others
        others = [t for t in targets if t not in (node.ip, node.name, node.service)]
        return node.name, {t["host"]: t for t in node.program("ping", "--count", count, *others)["targets"]}
    return dict(at_once(one, sources))


def p50(summary):
    return round(statistics.median(summary["rtt_ms"]), 3) if summary["rtt_ms"] else None


def by_name(nodes, pings):
    ips = {s: {n.ip for n in nodes if n.service == s} for s in {n.service for n in nodes}}
    answered = sum(p["received"] for per in pings.values() for p in per.values())
    sent = sum(p["sent"] for per in pings.values() for p in per.values())
    wrong = [f"{src}→{name}={p['ip']}" for src, per in pings.items() for name, p in per.items()
             if p["ip"] not in ips[name] or p["ip"] == next(n.ip for n in nodes if n.name == src)]
    partial = [f"{src}→{name}" for src, per in pings.items() for name, p in per.items()
               if set(p["addresses"]) != ips[name]]
    replicas = {name: len(ips[name]) for name in ips}
    return Step(
        "reach-by-name", _("reach by service name"),
        passed=answered == sent and not wrong and not partial,
        expected=_("every node's pings to the other services ({services}) are all answered; a service's name "
                   "resolves to the addresses of all its replicas").format(services=", ".join(sorted(ips))),
        observed=_("{answered}/{sent} answered; {resolution}; replicas per name: {replicas}").format(
            answered=answered, sent=sent, replicas=replicas,
            resolution=_("wrong addresses: {wrong}").format(wrong=", ".join(wrong)) if wrong else
            _("every name resolved to another node of its service"))
                 + (_("; not every replica listed: {partial}").format(partial=partial) if partial else ""),
        why=_("Docker's embedded DNS answers service names on a user-defined network with every replica's address; "
              "the resolver uses the first. A node does not ping its own service's name: that could be itself."),
        facts={"sent": sent, "answered": answered, "service_ips": {s: sorted(v) for s, v in ips.items()},
               "pings": {src: {name: {"ip": p["ip"], "addresses": p["addresses"], "received": p["received"],
                                      "rtt_p50_ms": p50(p)}
                               for name, p in per.items()} for src, per in pings.items()}})


def by_machine(nodes, pings):
    """{"same", "across"}: the median RTT of the pairs on one machine and of those between two, in ms
    (None where there are none: under Compose every pair is on one machine)."""
    machine = {n.ip: n.machine_name for n in nodes} | {n.name: n.machine_name for n in nodes}
    rtts = {"same": [], "across": []}
    for src, per in pings.items():
        for ip, p in per.items():
            rtts["same" if machine[src] == machine[ip] else "across"] += p["rtt_ms"]
    return {kind: round(statistics.median(values), 3) if values else None for kind, values in rtts.items()}


def ip_why(rtts, machines):
    """Why the round trips took what they took: the overlay between machines, or one host's bridge."""
    if machines["across"] is not None and machines["same"] is not None:
        return _("Between machines an echo crosses the swarm's overlay: wrapped in VXLAN (UDP) by one machine's "
                 "kernel and unwrapped by the other's — {across:.3f} ms at the median, against {same:.3f} ms "
                 "between two nodes of one machine.").format(**machines)
    if not rtts:
        return _("No echo came back: there was no round trip to measure.")
    p50_ms = statistics.median(rtts)
    if p50_ms < 1:
        return _("The nodes share one bridge: an echo crosses veth, bridge, veth — {p50_ms:.3f} ms at the median, "
                 "well under a millisecond.").format(p50_ms=p50_ms)
    return _("The nodes share one bridge: an echo crosses veth, bridge, veth; here the median was {p50_ms:.3f} "
             "ms, not the fraction of a millisecond a bridge takes when the host is idle.").format(p50_ms=p50_ms)


def by_ip(nodes, pings):
    names = {n.ip: n.name for n in nodes}
    matrix = {src: {names[ip]: p50(p) for ip, p in per.items()} for src, per in pings.items()}
    machines = by_machine(nodes, pings)
    lost = [f"{src}→{names[ip]}" for src, per in pings.items() for ip, p in per.items() if p["received"] < p["sent"]]
    rtts = [rtt for per in pings.values() for p in per.values() for rtt in p["rtt_ms"]]
    pairs = sum(len(per) for per in pings.values())
    return Step(
        "reach-by-ip", _("reach by IP"),
        passed=not lost and pairs == len(nodes) * (len(nodes) - 1),
        expected=_("all {pairs} ordered pairs of the {nodes} nodes exchange echoes").format(
            pairs=len(nodes) * (len(nodes) - 1), nodes=len(nodes)),
        observed=_("{pairs} pairs without loss").format(pairs=pairs - len(lost))
                 + (_("; lost: {lost}").format(lost=", ".join(lost)) if lost else "")
                 + (_("; RTT p50 {p50_ms:.3f} ms, max {max_ms:.3f} ms").format(p50_ms=statistics.median(rtts),
                                                                              max_ms=max(rtts)) if rtts else "")
                 + (_("; p50 within a machine {same:.3f} ms, between machines {across:.3f} ms").format(**machines)
                    if machines["across"] is not None and machines["same"] is not None else ""),
        why=ip_why(rtts, machines),
        facts={"rtt_p50_ms": matrix, "lost_pairs": lost,
               "rtt_p50_all_ms": round(statistics.median(rtts), 3) if rtts else None,
               "rtt_p50_same_machine_ms": machines["same"], "rtt_p50_across_machines_ms": machines["across"]})


def added_delay(target, delay_ms, before, during, after):
    added = {src: round(p50(during[src][target.ip]) - p50(before[src][target.ip]), 3)
             if p50(during[src][target.ip]) is not None else None for src in during}
    back = {src: p50(after[src][target.ip]) for src in after}
    in_band = all(a is not None and 0.8 * delay_ms <= a <= delay_ms + 25 for a in added.values())
    restored = all(b is not None and b < delay_ms / 2 for b in back.values())
    shown = ", ".join(f"{src} +{a} ms" for src, a in added.items())
    return Step(
        "impaired-delay", _("impair {node}: delay {delay_ms} ms").format(node=target.name, delay_ms=delay_ms),
        passed=in_band and restored,
        expected=_("every round trip to {node} gains about {delay_ms} ms, and loses it after clear()").format(
            node=target.name, delay_ms=delay_ms),
        observed=_("{added}; after clear p50 ≤ {p50_ms:.3f} ms").format(
            added=shown, p50_ms=max(b for b in back.values() if b is not None))
        if all(b is not None for b in back.values()) else _("{added}; unreachable after clear").format(added=shown),
        why=_("{node}'s sidecar holds every packet it sends for {delay_ms} ms in an NFQUEUE: the replies wait, "
              "the requests do not, so each round trip gains the delay once.").format(node=target.name,
                                                                                      delay_ms=delay_ms),
        facts={"node": target.name, "delay_ms": delay_ms, "added_ms": added,
               "before_p50_ms": {s: p50(before[s][target.ip]) for s in during},
               "during_p50_ms": {s: p50(during[s][target.ip]) for s in during}, "after_p50_ms": back})


def run(lab, params, progress):
    nodes = lab.nodes()
    count = params["count"]
    progress(_("every node pings the service names and every other node, {count} times each").format(count=count))
    names = sweep(nodes, sorted({n.service for n in nodes}), count)
    before = sweep(nodes, [n.ip for n in nodes], count)
    steps = [by_name(nodes, names), by_ip(nodes, before)]
    target = lab.node(params["node"])
    others = [n for n in nodes if n.name != target.name]
    progress(_("impairing {node} with {delay_ms} ms of delay").format(node=target.name, delay_ms=params["delay_ms"]))
    with target.impaired(delay=f"{params['delay_ms']}ms"):
        during = sweep(others, [target.ip], count)
    after = sweep(others, [target.ip], count)
    steps.append(added_delay(target, params["delay_ms"], before, during, after))
    return steps
