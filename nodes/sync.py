"""Synchronisation between processes, staged for an outside observer: where the observer must look before
the program goes on, it says its pids on stderr (`ready PID...`) and waits for SIGUSR1.

    python3 -m nodes.sync event [--workers N]         workers wait on an Event; SIGUSR1 makes the parent set() it
    python3 -m nodes.sync semaphore [--workers N] [--slots N] [--hold S]   who was inside Semaphore(slots), when
    python3 -m nodes.sync lock-twice [--timeout S]    a function takes its lock twice: a Lock, then an RLock
    python3 -m nodes.sync deadlock [--order opposite|same] [--timeout S]   two processes take locks A and B;
        `ready PARENT STUCK...` names those still waiting after the timeout; each dumps its stack on SIGUSR1
        (faulthandler) and is killed once all have dumped (or after 30 s)
    python3 -m nodes.sync manager-dict [--processes N] [--increments N]   d["n"] += 1 without, then with a Lock
    python3 -m nodes.sync shared-memory [--rounds N]  cost per operation: Value and Array against a manager's proxy

Times are seconds since the program started (time.monotonic(), one clock for every process of the node).
Uses the fork start method, as the course's examples on Linux do.
"""
import argparse
import faulthandler
import linecache
import multiprocessing as mp
import os
import re
import select
import signal
import statistics
import time
from contextlib import nullcontext

from nodes.lib import program
from nodes.procs import say_ready

STARTED = time.monotonic()
WAIT = 30  # the longest any wait of this program lasts: nothing hangs
WORK = 0.2  # what a process does while it holds its first lock (s): long enough for the other to take its own
ORDERS = {"opposite": ("AB", "BA"), "same": ("AB", "AB")}
OPS = {"value": 2000, "array": 2000, "manager": 200}  # operations per round: each batch takes milliseconds
FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+) in (?P<function>\S+)')


def now():
    return round(time.monotonic() - STARTED, 4)


def wait_for_go():
    """Block until the observer sends SIGUSR1 (blocked, so it waits here), at most WAIT s."""
    if signal.sigtimedwait({signal.SIGUSR1}, WAIT) is None:
        raise program.ProgramError(f"no SIGUSR1 from the observer within {WAIT} s")


def started(target, args, count):
    processes = [mp.Process(target=target, args=args) for _ in range(count)]
    for process in processes:
        process.start()
    return processes


def gather(queue, count):
    return [queue.get(timeout=WAIT) for _ in range(count)]


def still_running(processes, timeout):
    """The processes still alive timeout s from now, each joined until then."""
    deadline = time.monotonic() + timeout
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
    return [process for process in processes if process.is_alive()]


def wait_for_start(start, said):
    said.put((os.getpid(), now()))
    set_seen = start.wait(WAIT)
    said.put((os.getpid(), now(), set_seen))


def event(args):
    """Workers say they wait, then wait on one Event; the parent set()s it when the observer says go."""
    start, said = mp.Event(), mp.Queue()
    workers = started(wait_for_start, (start, said), args.workers)
    waiting = dict(gather(said, len(workers)))  # {pid: when it began to wait}
    say_ready(os.getpid(), *[w.pid for w in workers])
    wait_for_go()
    set_at = now()
    start.set()
    woke = {pid: (at, seen) for pid, at, seen in gather(said, len(workers))}
    still_running(workers, WAIT)
    return {"parent": os.getpid(), "workers": [w.pid for w in workers], "set_at": set_at,
            "waiting_at": {str(pid): at for pid, at in waiting.items()},
            "woke_at": {str(pid): at for pid, (at, _seen) in woke.items()},
            "set_seen": {str(pid): seen for pid, (_at, seen) in woke.items()}}


def enter_and_hold(slots, said, hold):
    asked = now()
    with slots:
        entered = now()
        time.sleep(hold)  # the work done inside
        left = now()
    said.put([os.getpid(), asked, entered, left])


def semaphore(args):
    """Every worker asks for the semaphore at once; each says when it asked, entered and left."""
    slots, said = mp.Semaphore(args.slots), mp.Queue()
    workers = started(enter_and_hold, (slots, said, args.hold), args.workers)
    intervals = sorted(gather(said, len(workers)), key=lambda interval: interval[2])
    still_running(workers, WAIT)
    return {"slots": args.slots, "hold_s": args.hold, "intervals": intervals}


def take_twice(lock, depth):
    """A function that takes its lock, then takes it again before letting go."""
    with lock:
        depth.value = 1
        with lock:
            depth.value = 2


def lock_twice(args):
    """take_twice in a child, with a Lock then an RLock; a watchdog (join with a timeout) kills a stuck one."""
    found = {"timeout_s": args.timeout}
    for kind in ("Lock", "RLock"):
        depth = mp.RawValue("i", 0)
        child = mp.Process(target=take_twice, args=(getattr(mp, kind)(), depth))
        began = time.monotonic()
        child.start()
        stuck = bool(still_running([child], args.timeout))
        seconds = round(time.monotonic() - began, 3)
        if stuck:
            child.kill()
            child.join(WAIT)
        found[kind] = {"pid": child.pid, "depth": depth.value, "stuck": stuck, "seconds": seconds,
                       "exitcode": child.exitcode}
    return found


def stack_on_sigusr1(fd):
    """SIGUSR1 dumps this process's stack into fd (faulthandler, from C: it works however stuck Python is);
    then the Python handler it chains to closes fd, so the reader sees the dump end."""
    def close(signum, frame):
        faulthandler.unregister(signum)
        os.close(fd)
    signal.signal(signal.SIGUSR1, close)
    faulthandler.register(signal.SIGUSR1, file=fd, all_threads=False, chain=True)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1})  # blocked in the parent, inherited


def take_in_order(locks, order, start, holding, dump):
    """Take two locks one after the other, working a moment while holding the first."""
    stack_on_sigusr1(dump)
    start.wait(WAIT)
    first, second = (locks[name] for name in order)
    with first:
        holding.value = 1
        time.sleep(WORK)
        with second:
            holding.value = 2


def read_to_end(fds, timeout):
    """{fd: text} read from each pipe until its writer closes it, or until timeout."""
    texts, open_ = {fd: b"" for fd in fds}, set(fds)
    deadline = time.monotonic() + timeout
    while open_ and (left := deadline - time.monotonic()) > 0:
        for fd in select.select(list(open_), [], [], left)[0]:
            chunk = os.read(fd, 65536)
            texts[fd] += chunk
            if not chunk:
                open_.discard(fd)
    return {fd: text.decode(errors="replace") for fd, text in texts.items()}


def where_it_waits(stack):
    """A faulthandler dump down to this program's innermost frame, and that frame with its line of source:
    where in the lesson's code the process waits."""
    lines = stack.splitlines()
    for n, line in enumerate(lines):
        frame = FRAME.search(line)
        if frame and os.path.abspath(frame["file"]) == os.path.abspath(__file__):
            at = int(frame["line"])
            return lines[:n + 1], {"file": frame["file"], "line": at, "function": frame["function"],
                                   "code": linecache.getline(frame["file"], at).strip()}
    return lines, None


def start_takers(locks, orders, start):
    """A child per order, each with its own pipe for its stack; {child: (order, holding, pipe's read end)}."""
    takers = {}
    for order in orders:
        holding, (reader, writer) = mp.RawValue("i", 0), os.pipe()
        child = mp.Process(target=take_in_order, args=(locks, order, start, holding, writer))
        child.start()
        os.close(writer)  # before the next fork: only its own child holds each pipe's writing end
        takers[child] = (order, holding, reader)
    return takers


def deadlock(args):
    """Two children take locks A and B; a watchdog (join with a timeout) finds those still stuck, which the
    observer asks for their stacks before they are killed."""
    start = mp.Event()
    takers = start_takers({"A": mp.Lock(), "B": mp.Lock()}, ORDERS[args.order], start)
    began = time.monotonic()
    start.set()
    stuck = still_running(list(takers), args.timeout)
    seconds = round(time.monotonic() - began, 3)
    say_ready(os.getpid(), *[child.pid for child in stuck])
    dumps = read_to_end([takers[child][2] for child in stuck], WAIT)
    waits = {str(child.pid): where_it_waits(dumps[takers[child][2]]) for child in stuck}
    for child in stuck:
        child.kill()
    still_running(list(takers), WAIT)
    for _order, _holding, reader in takers.values():
        os.close(reader)
    return {"order": args.order, "timeout_s": args.timeout, "work_s": WORK, "seconds": seconds,
            "stuck": [child.pid for child in stuck],
            "locks": {str(child.pid): order for child, (order, _h, _r) in takers.items()},
            "holding": {str(child.pid): holding.value for child, (_o, holding, _r) in takers.items()},
            "stacks": {pid: stack for pid, (stack, _at) in waits.items()},
            "waiting_at": {pid: at for pid, (_stack, at) in waits.items()},
            "exitcodes": {str(child.pid): child.exitcode for child in takers}}


def add_up(shared, lock, start, increments):
    start.wait(WAIT)
    for _ in range(increments):
        with lock:
            shared["n"] += 1  # a get, then a set: two round trips to the manager


def count_together(manager, lock, args):
    shared, start = manager.dict(n=0), mp.Event()
    workers = started(add_up, (shared, lock, start, args.increments), args.processes)
    began = time.monotonic()
    start.set()
    if still_running(workers, WAIT):
        raise program.ProgramError(f"workers still counting after {WAIT} s")
    final = shared["n"]
    return {"final": final, "lost": args.processes * args.increments - final,
            "seconds": round(time.monotonic() - began, 3)}


def manager_dict(args):
    """Processes add 1 to a manager's dict entry together: without a lock, then with one."""
    with mp.Manager() as manager:
        unlocked = count_together(manager, nullcontext(), args)
        locked = count_together(manager, mp.Lock(), args)
    return {"processes": args.processes, "increments": args.increments,
            "expected": args.processes * args.increments, "without_lock": unlocked, "with_lock": locked}


def bump_value(value, count):
    for _ in range(count):
        with value.get_lock():
            value.value += 1


def bump_array(array, count):
    for i in range(count):
        with array.get_lock():
            array[i % len(array)] += 1


def bump_manager(shared, count):
    for _ in range(count):
        shared["n"] += 1  # two round trips to the manager's process


def per_op_us(bump, target, count):
    began = time.perf_counter()
    bump(target, count)
    return (time.perf_counter() - began) / count * 1e6


def measure(targets, start, rounds, report):
    """Time each kind of update in alternating rounds (forward, then backward), so a busy moment of the host
    falls on all of them; send every round's cost per operation."""
    start.wait(WAIT)
    bumps = {"value": bump_value, "array": bump_array, "manager": bump_manager}
    samples = {name: [] for name in bumps}
    for round_ in range(rounds):
        for name in list(bumps)[::1 if round_ % 2 == 0 else -1]:
            samples[name].append(round(per_op_us(bumps[name], targets[name], OPS[name]), 3))
    report.send(samples)


def shared_memory(args):
    """A child updates a Value and an Array in shared memory and a manager's dict; the parent reads what it
    did. Ready (parent, child) before the child starts measuring: the observer can look at both."""
    with mp.Manager() as manager:
        targets = {"value": mp.Value("i", 0), "array": mp.Array("i", 16), "manager": manager.dict(n=0)}
        start, (mine, theirs) = mp.Event(), mp.Pipe(duplex=False)
        child = mp.Process(target=measure, args=(targets, start, args.rounds, theirs))
        child.start()
        say_ready(os.getpid(), child.pid)
        wait_for_go()
        start.set()
        if not mine.poll(WAIT):
            raise program.ProgramError(f"the measuring child said nothing within {WAIT} s")
        samples = mine.recv()
        still_running([child], WAIT)
        totals = {"value": targets["value"].value, "array": sum(targets["array"]),
                  "manager": targets["manager"]["n"]}
    return {"parent": os.getpid(), "child": child.pid, "rounds": args.rounds, "ops_per_round": OPS,
            "samples_us": samples, "per_op_us": {name: statistics.median(s) for name, s in samples.items()},
            "totals": totals, "expected_totals": {name: args.rounds * ops for name, ops in OPS.items()}}


def run(argv):
    parser = argparse.ArgumentParser(prog="nodes.sync")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("event").add_argument("--workers", type=int, default=3)
    slots = commands.add_parser("semaphore")
    slots.add_argument("--workers", type=int, default=8)
    slots.add_argument("--slots", type=int, default=3)
    slots.add_argument("--hold", type=float, default=0.2)
    commands.add_parser("lock-twice").add_argument("--timeout", type=float, default=1.0)
    locks = commands.add_parser("deadlock")
    locks.add_argument("--order", choices=ORDERS, default="opposite")
    locks.add_argument("--timeout", type=float, default=1.0)
    counting = commands.add_parser("manager-dict")
    counting.add_argument("--processes", type=int, default=4)
    counting.add_argument("--increments", type=int, default=200)
    commands.add_parser("shared-memory").add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})  # delivered to sigtimedwait(), not the default action
    handler = {"event": event, "semaphore": semaphore, "lock-twice": lock_twice, "deadlock": deadlock,
               "manager-dict": manager_dict, "shared-memory": shared_memory}[args.command]
    return handler(args)


if __name__ == "__main__":
    mp.set_start_method("fork")
    program.main(run)
