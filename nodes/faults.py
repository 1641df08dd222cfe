"""Network faults for one node, run by a sidecar that shares the node's network namespace.

    python3 -m nodes.faults impair [--delay-ms D] [--jitter-ms J] [--loss PCT] [--rate-kbit R]
    python3 -m nodes.faults partition IP [IP...]
    python3 -m nodes.faults clear

`impair` and `partition` install their rules, say `ready` on stderr, hold the fault until SIGTERM, remove
their rules and print their result. Nodes themselves have no CAP_NET_ADMIN: only the sidecar does, so a
program in the node cannot lift a fault. Delay, jitter and loss hold each outgoing packet in an NFQUEUE
until its verdict (kernels without the netem qdisc have NFQUEUE); rate is a TBF qdisc; a partition is an
iptables DROP of what comes in from the peers.
"""
import argparse
import heapq
import random
import select
import signal
import subprocess
import sys
import time

from nodes.lib import program
from nodes.lib.nfqueue import Queue

DEVICE = "eth0"
IMPAIR, PARTITION = "SOCKLAB_IMPAIR", "SOCKLAB_PARTITION"
# Impairments act on what the node sends, as netem does; a partition drops what the node receives from its
# peers (the peers do the same), so that senders see a silent cut rather than an error from their own firewall.
HOOKS = {IMPAIR: ("OUTPUT", "-o"), PARTITION: ("INPUT", "-i")}


def command(*argv, check=True):
    """Run a network tool; its error output becomes the error."""
    done = subprocess.run(argv, capture_output=True, text=True)
    if check and done.returncode:
        raise program.ProgramError(f"{' '.join(argv)}: {done.stderr.strip()}")
    return done.returncode == 0


def install(chain, rules):
    """A fresh chain holding `rules`, jumped to from its hooks for traffic on the lab device."""
    remove(chain)
    command("iptables", "-w", "-N", chain)
    for rule in rules:
        command("iptables", "-w", "-A", chain, *rule)
    hook, direction = HOOKS[chain]
    command("iptables", "-w", "-I", hook, "1", direction, DEVICE, "-j", chain)


def remove(chain):
    """Remove the chain and its hooks if present (left behind by a killed sidecar, say)."""
    hook, direction = HOOKS[chain]
    while command("iptables", "-w", "-D", hook, direction, DEVICE, "-j", chain, check=False):
        pass
    command("iptables", "-w", "-F", chain, check=False)
    command("iptables", "-w", "-X", chain, check=False)


def hold(until_stopped):
    """Say ready, run until SIGTERM or SIGINT, then ignore both so that clean-up runs to the end."""
    def stop(signum, frame):
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("ready", file=sys.stderr, flush=True)
    try:
        until_stopped()
    except SystemExit:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def emulate(queue, delay, jitter, loss, pending, stats):
    """Drop each queued packet with probability loss, else release it after delay ± jitter seconds (uniform).

    The verdict comes after the sender's send() has returned, so a loss is silent, as on a real link.
    pending is a heap of (release time, packet id).
    """
    while True:
        wait = max(0.0, pending[0][0] - time.monotonic()) if pending else None
        if select.select([queue], [], [], wait)[0]:
            now = time.monotonic()
            for packet in queue.receive():
                if random.random() < loss:
                    queue.verdict(packet, accept=False)
                    stats["dropped"] += 1
                else:
                    heapq.heappush(pending, (now + max(0.0, random.uniform(delay - jitter, delay + jitter)), packet))
                    stats["passed"] += 1
        now = time.monotonic()
        while pending and pending[0][0] <= now:
            queue.verdict(heapq.heappop(pending)[1])


def release(queue, pending):
    """Accept every packet still held or still waiting in the socket (the queue rule is already gone)."""
    queue.sock.setblocking(False)
    try:
        while True:
            pending.extend((0, packet) for packet in queue.receive())
    except BlockingIOError:
        pass
    for _, packet in pending:
        queue.verdict(packet)
    queue.close()


def impair(args):
    if not (args.delay_ms or args.loss or args.rate_kbit):
        raise program.ProgramError("impair needs at least one of --delay-ms, --loss, --rate-kbit")
    if args.jitter_ms > args.delay_ms:
        raise program.ProgramError("--jitter-ms cannot exceed --delay-ms")
    queue, pending, stats = None, [], {"passed": 0, "dropped": 0}
    if args.delay_ms or args.loss:
        queue = Queue()
    try:
        if args.rate_kbit:
            burst = max(4096, args.rate_kbit * 1000 // 8 // 100)  # bytes: 10 ms at the rate, at least a few MTUs
            command("tc", "qdisc", "replace", "dev", DEVICE, "root", "tbf", "rate", f"{args.rate_kbit}kbit",
                    "burst", str(burst), "latency", "1s")
        if queue:
            install(IMPAIR, [["-j", "NFQUEUE", "--queue-num", str(queue.number), "--queue-bypass"]])
            hold(lambda: emulate(queue, args.delay_ms / 1000, args.jitter_ms / 1000, args.loss / 100, pending, stats))
        else:
            hold(signal.pause)
    finally:
        remove(IMPAIR)
        if args.rate_kbit:
            command("tc", "qdisc", "del", "dev", DEVICE, "root", check=False)
        if queue:
            release(queue, pending)
    return {"fault": "impair", "delay_ms": args.delay_ms, "jitter_ms": args.jitter_ms, "loss": args.loss,
            "rate_kbit": args.rate_kbit, **stats}


def partition(args):
    try:
        install(PARTITION, [["-s", ip, "-j", "DROP"] for ip in args.peers])
        hold(signal.pause)
    finally:
        remove(PARTITION)
    return {"fault": "partition", "peers": args.peers}


def clear(args):
    remove(IMPAIR)
    remove(PARTITION)
    command("tc", "qdisc", "del", "dev", DEVICE, "root", check=False)
    return {"fault": "clear"}


def percent(text):
    value = float(text)
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{text} is not a percentage from 0 to 100")
    return value


def non_negative(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


def run(argv):
    parser = argparse.ArgumentParser(prog="nodes.faults")
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("impair")
    p.add_argument("--delay-ms", type=non_negative, default=0)
    p.add_argument("--jitter-ms", type=non_negative, default=0)
    p.add_argument("--loss", type=percent, default=0.0)
    p.add_argument("--rate-kbit", type=non_negative, default=0)
    p.set_defaults(handler=impair)
    p = commands.add_parser("partition")
    p.add_argument("peers", nargs="+")
    p.set_defaults(handler=partition)
    commands.add_parser("clear").set_defaults(handler=clear)
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    program.main(run)
