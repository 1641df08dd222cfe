"""The ticket-grabbing race: oversold without a lock, exactly right with one — on one node, then across nodes."""
import time

from orchestrator.i18n import N_, _
from orchestrator.node import at_once
from orchestrator.result import Step
from orchestrator.scenarios._cleanup import nothing_left

NAME = "lock"
SUMMARY = N_("one ticket, many buyers: oversold without a lock; multiprocessing.Lock on one node, a lease lock "
             "across nodes")
LEASE = 1.0  # the store's lock lease (s): longer than a buyer's critical section, short enough to watch expire
PARAMS = {"buyers": (10, 2, 100), "pause": (0.1, 0.01, 5.0), "buyers_per_node": (2, 1, 20)}


def local_sale(node, p, lock) -> dict:
    """The ticket sale among processes on one node, with or without multiprocessing.Lock."""
    return node.program("tickets", "local", "--buyers", p["buyers"], "--pause", p["pause"], *(["--lock"] if lock else []))


def local_step(r, p, lock):
    if lock:
        return Step(
            "local-lock", _("one node, multiprocessing.Lock: exactly one buyer"),
            passed=r["successful_buyers"] == 1 and r["count_left"] == 0,
            expected=_("{buyers} processes take turns at read-pause-write; one gets the ticket, the rest see 0").format(
                buyers=p["buyers"]),
            observed=_("{successful} successful, {left} left, in {seconds} s").format(
                successful=r["successful_buyers"], left=r["count_left"], seconds=r["seconds"]),
            why=_("The lock makes read-pause-write one step that only one process at a time can be in: correct, "
                  "but the buyers now wait for each other."),
            facts=r)
    return Step(
        "local-oversold", _("one node, no lock: oversold"),
        passed=r["successful_buyers"] > r["tickets"],
        expected=_("{buyers} processes all read 1 before any writes 0: more buyers succeed than there are "
                   "tickets").format(buyers=p["buyers"]),
        observed=_("{successful} successful buyers for {tickets} ticket (oversold by {oversold}) in "
                   "{seconds} s").format(successful=r["successful_buyers"], tickets=r["tickets"],
                                         oversold=r["oversold"], seconds=r["seconds"]),
        why=_("Each buyer reads, pauses, then writes: during the pause the others read the same stale count."),
        facts=r)


def cost_step(unlocked, locked, p):
    ratio = locked["seconds"] / unlocked["seconds"]
    return Step(
        "lock-cost", _("the price of the lock"),
        passed=ratio > 1.5,
        expected=_("serialising {buyers} buyers that each pause {pause} s costs about {buyers}× the pause").format(
            buyers=p["buyers"], pause=p["pause"]),
        observed=_("without lock {without_lock} s, with lock {with_lock} s ({ratio:.1f}×)").format(
            without_lock=unlocked["seconds"], with_lock=locked["seconds"], ratio=ratio),
        why=_("Correctness came from taking turns: the critical section's time is paid once per buyer."),
        facts={"without_lock_s": unlocked["seconds"], "with_lock_s": locked["seconds"], "ratio": round(ratio, 2)})


def remote_step(lab, nodes, p, lock):
    server = lab.node("server")
    server.program("tickets", "reset", "server", "--tickets", 1, *(["--fenced"] if lock else []))
    at = time.time() + 1.0  # every buyer on every node starts at this moment
    def buy(node):
        return node.name, node.program("tickets", "buy", "server", "--buyers", p["buyers_per_node"], "--pause",
                                       p["pause"], "--at", at, *(["--lock"] if lock else []), timeout=120)
    results = dict(at_once(buy, nodes))
    sold = sum(r["successful_buyers"] for r in results.values())
    left = server.program("tickets", "status", "server")["count"]
    buyers = len(nodes) * p["buyers_per_node"]
    facts = {"nodes": list(results), "buyers": buyers, "successful_buyers": sold, "count_left": left,
             "per_node": {name: r["successful_buyers"] for name, r in results.items()}}
    if lock:
        return Step(
            "remote-lease-lock", _("across nodes, a lease lock on the server: exactly one buyer"),
            passed=sold == 1 and left == 0,
            expected=_("{buyers} buyers on {nodes} nodes take the store's lock in turn: one ticket, one buyer").format(
                buyers=buyers, nodes=len(nodes)),
            observed=_("{successful} successful, {left} left; per node {per_node}").format(
                successful=sold, left=left, per_node=facts["per_node"]),
            why=_("A multiprocessing.Lock lives in one kernel; across hosts the lock must live somewhere all can "
                  "reach — here a lock service in the store, with a lease (a dead holder cannot block forever) and "
                  "a fencing token on every write (a holder whose lease ran out cannot write): the next step makes "
                  "both happen."),
            facts=facts)
    return Step(
        "remote-oversold", _("across nodes, no coordination: oversold"),
        passed=sold > 1,
        expected=_("{buyers} buyers on {nodes} nodes read the store's count at the same moment: oversold").format(
            buyers=buyers, nodes=len(nodes)),
        observed=_("{successful} successful buyers for 1 ticket; per node {per_node}").format(
            successful=sold, per_node=facts["per_node"]),
        why=_("The store serves each read and write correctly, but read-pause-write spans two requests: nothing "
              "stops another host from reading in between."),
        facts=facts)


def fencing_step(server, holder_node, other_node, lease):
    """A holder frozen past its lease wakes up and writes: its stale token is refused; so is a write with
    no token at all."""
    server.program("tickets", "reset", "server", "--tickets", 1, "--fenced")
    holder = holder_node.start("tickets", "stale-holder", "server")
    __, token, pid = holder.line("holding ").split()  # and then it stops itself (SIGSTOP), frozen mid-sale
    token = int(token)
    started = time.monotonic()
    other = other_node.program("tickets", "buy", "server", "--buyers", 1, "--lock", timeout=60)  # waits for the lease
    waited = round(time.monotonic() - started, 2)
    holder_node.run(["kill", "-CONT", pid])
    late = holder.result(30)
    bypass = other_node.program("tickets", "unfenced-write", "server", "--tickets", 5)["write"]
    left = server.program("tickets", "status", "server")["count"]
    return Step(
        "fencing-token", _("a holder frozen past its lease: its late write is refused"),
        passed=late["write"] == "fenced" and other["successful_buyers"] == 1 and bypass == "fenced" and left == 0,
        expected=_("a buyer takes the lock ({lease} s lease), reads 1, and is frozen (SIGSTOP); another buyer gets the "
                   "lock when the lease runs out and buys; the first wakes up and writes with its old token: refused, "
                   "as is a write with no token").format(lease=lease),
        observed=_("holder's token {token} (read {read}): its write was {write!r}; the other buyer waited {waited} s "
                   "and bought {bought}; a write without a token: {unfenced_write!r}; {left} left").format(
            token=late["token"], read=late["read"], write=late["write"], waited=waited,
            bought=other["successful_buyers"], unfenced_write=bypass, left=left),
        why=_("The lease let the lock outlive a holder that stopped answering ({waited} s of waiting, not for ever); "
              "but the frozen holder cannot know its lease ran out. The fencing token tells the store: it had "
              "handed out a newer one, so it refused token {token}'s write — without that check the ticket would "
              "have been sold twice. A write that skips the lock is refused the same way.").format(
            waited=waited, token=token),
        facts={"token": token, "holder": late, "other": other, "waited_s": waited, "unfenced_write": bypass,
               "count_left": left, "lease_s": lease})


def run(lab, params, progress):
    node = lab.node("worker1")
    progress(_("{buyers} buyers on one node, without and with multiprocessing.Lock").format(buyers=params["buyers"]))
    unlocked, locked = local_sale(node, params, lock=False), local_sale(node, params, lock=True)
    steps = [local_step(unlocked, params, lock=False), local_step(locked, params, lock=True),
             cost_step(unlocked, locked, params)]
    buyers = lab.nodes("client") + lab.nodes("worker")
    progress(_("buyers on {nodes} nodes against the ticket store on the server").format(nodes=len(buyers)))
    with lab.node("server").serve("tickets", "serve", "--lease", LEASE):
        steps += [remote_step(lab, buyers, params, lock=False), remote_step(lab, buyers, params, lock=True)]
        progress(_("fencing: a lock holder frozen past its lease"))
        steps.append(fencing_step(lab.node("server"), buyers[0], buyers[1], LEASE))
    steps.append(nothing_left([lab.node("server"), *buyers], ["nodes.tickets"],
                              _("Buyers are joined by their parent; the store was stopped with its session.")))
    return steps
