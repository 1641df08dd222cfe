"""Thread lessons staged for an outside observer, beside processes: each subcommand sets up a situation and
prints its own account as one JSON line; where the observer must look first, it says its ids on stderr
(`ready PID...`) and waits for SIGUSR1, as nodes.procs does.

    python3 -m nodes.threads shared                 a child process and a thread each change a global
    python3 -m nodes.threads start-cost [--count N] [--rounds R]   start+join N threads, then N processes
    python3 -m nodes.threads memory [--count N]     N blocked processes and N blocked threads, their memory
    python3 -m nodes.threads race [--threads T] [--updates K] [--interval S]   n -= ... from T threads
    python3 -m nodes.threads daemon [--work S]      when a daemon thread and a daemon process end
    python3 -m nodes.threads introspect [--count N] threading's own view of N named threads

`daemon` runs `daemon-demo --kind thread|process` as interpreters of its own and times their output.
"""
import argparse
import contextlib
import json
import multiprocessing as mp
import os
import platform
import queue
import signal
import statistics
import subprocess
import sys
import threading
import time

from nodes.lib import program
from nodes.procs import say_ready, wait_for_go

n = 100  # the global that a child process and a thread change
TICK = 0.05  # a daemon's period (s)
DAEMON_S = 60  # how long a daemon would tick if nothing ended it
PAUSE = 0.01  # the course's demo: read n, wait, write n - 1


def change_then_wait(report, release):
    """Set the global n to 0, report n as this worker sees it, and wait to be released."""
    global n
    n = 0
    report(n)
    release.wait()


def shared(args):
    """A child process changes n: the parent still sees 100. A thread changes it: the parent sees 0."""
    start = n
    ours, theirs = mp.Pipe(duplex=False)
    child_go, thread_go = mp.Event(), threading.Event()
    child = mp.Process(target=change_then_wait, args=(theirs.send, child_go))
    child.start()
    theirs.close()                            # the child holds the writing end; its death is EOF here
    child_saw, after_child = ours.recv(), n
    said = queue.Queue()
    thread = threading.Thread(target=change_then_wait, args=(said.put, thread_go))
    thread.start()
    thread_saw, after_thread = said.get(timeout=10), n
    say_ready(os.getpid(), child.pid, thread.native_id)
    wait_for_go()
    child_go.set()
    thread_go.set()
    child.join()
    thread.join()
    return {"pid": os.getpid(), "child": child.pid, "thread_tid": thread.native_id, "start": start,
            "child_saw": child_saw, "parent_after_child": after_child, "thread_saw": thread_saw,
            "parent_after_thread": after_thread}


def nothing():
    """A worker that does no work: what is left to time is starting and joining it."""


def start_join_us(make, count):
    """Microseconds per worker to make, start and join count workers."""
    started = time.perf_counter()
    workers = [make() for _ in range(count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return round((time.perf_counter() - started) / count * 1e6, 1)


def start_cost(args):
    """Rounds that alternate threads and processes, so that a busy moment of the host hits both alike."""
    rounds = {"thread": [], "process": []}
    for _ in range(args.rounds):
        rounds["thread"].append(start_join_us(lambda: threading.Thread(target=nothing), args.count))
        rounds["process"].append(start_join_us(lambda: mp.Process(target=nothing), args.count))
    return {"count": args.count, "rounds_us": rounds,
            "median_us": {kind: statistics.median(times) for kind, times in rounds.items()}}


def memory_kib(pid="self"):
    """{Rss, Pss, Private} in KiB of a process, from /proc/<pid>/smaps_rollup (exact: a page-table walk)."""
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            key, _, value = line.partition(":")
            if value.strip().endswith("kB"):
                fields[key] = int(value.split()[0])
    return {"rss": fields["Rss"], "pss": fields["Pss"], "private": fields["Private_Clean"] + fields["Private_Dirty"]}


def arrive_then_wait(arrived, release):
    arrived.release()
    release.wait()


def start_waiting(make, count, arrived, release):
    """count workers made by make(target, args), each started and waiting on release."""
    workers = [make(target=arrive_then_wait, args=(arrived, release)) for _ in range(count)]
    for worker in workers:
        worker.start()
    for _ in workers:
        arrived.acquire()
    return workers


def memory(args):
    """Processes first (forked with one thread), then threads: the process's growth is the threads' memory."""
    release_children, release_threads = mp.Event(), threading.Event()
    children = start_waiting(mp.Process, args.count, mp.Semaphore(0), release_children)
    before = memory_kib()
    threads = start_waiting(threading.Thread, args.count, threading.Semaphore(0), release_threads)
    after = memory_kib()
    per_child = [memory_kib(child.pid) for child in children]
    say_ready(os.getpid(), *[child.pid for child in children])
    wait_for_go()
    release_children.set()
    release_threads.set()
    for worker in children + threads:
        worker.join()
    return {"pid": os.getpid(), "children": [c.pid for c in children], "count": args.count,
            "before_threads_kib": before, "after_threads_kib": after,
            "thread_kib": round((after["rss"] - before["rss"]) / args.count, 1), "children_kib": per_child,
            "process_rss_kib": statistics.median(c["rss"] for c in per_child),
            "process_private_kib": statistics.median(c["private"] for c in per_child)}


def one():
    return 1


def minus_one():
    global n
    n -= 1                                    # no switch point between the read of n and the write


def minus_one_called():
    global n
    n -= one()                                # the call is a switch point between the read and the write


def minus_one_slowly():
    """The course's demo: read, sleep (the GIL is released), write."""
    global n
    temp = n
    time.sleep(PAUSE)
    n = temp - 1


SLOWLY = "temp = n; sleep; n = temp - 1"
RACES = {  # name: (the code, one update, whether a Lock guards it)
    "plain": ("n -= 1", minus_one, False),
    "call": ("n -= one()", minus_one_called, False),
    "call-lock": ("n -= one()", minus_one_called, True),
    "sleep": (SLOWLY, minus_one_slowly, False),
    "sleep-lock": (SLOWLY, minus_one_slowly, True),
}


def decrement(gate, step, times, guard):
    gate.wait()                               # every thread ready: they run together from here
    for _ in range(times):
        with guard:
            step()


def race(name, threads, times):
    """n starts at threads × times; each thread takes 1 off it `times` times: n ends at the updates lost."""
    global n
    code, step, locked = RACES[name]
    n = threads * times
    gate, guard = threading.Barrier(threads), threading.Lock() if locked else contextlib.nullcontext()
    workers = [threading.Thread(target=decrement, args=(gate, step, times, guard)) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return {"code": code, "lock": locked, "updates": threads * times, "lost": n,
            "seconds": round(time.perf_counter() - started, 3)}


def races(args):
    """Each race with a switch interval of args.interval; the sleeping ones do one update per thread."""
    sys.setswitchinterval(args.interval)
    found = {name: race(name, args.threads, 1 if name.startswith("sleep") else args.updates) for name in RACES}
    return {"python": platform.python_version(), "threads": args.threads, "switch_interval_s": args.interval,
            "races": found}


def tick(seconds):
    """Say `tick <clock>` every TICK s for seconds: a daemon's work, meant to outlast the rest."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        os.write(2, f"tick {time.monotonic()}\n".encode())  # one write a line, no buffer to flush at exit
        time.sleep(TICK)


def work(seconds):
    time.sleep(seconds)
    os.write(2, f"done {time.monotonic()}\n".encode())


def daemon_demo(args):
    """A daemon worker that would tick for DAEMON_S and an ordinary one that works args.work s, both saying
    what they do on stderr; the main code ends at once, and its JSON line (the clock then) is printed as it
    ends."""
    worker = threading.Thread if args.kind == "thread" else mp.Process
    worker(target=tick, args=(DAEMON_S,), daemon=True).start()
    worker(target=work, args=(args.work,)).start()
    return {"kind": args.kind, "main_code_ended": time.monotonic()}


def timed_demo(kind, seconds):
    """Run daemon-demo of kind; its ticks, the ordinary worker's end and the interpreter's exit, in seconds
    since its main code ended."""
    done = subprocess.run([sys.executable, "-m", "nodes.threads", "daemon-demo", "--kind", kind,
                           "--work", str(seconds)], capture_output=True, text=True, timeout=DAEMON_S + 30)
    exited = time.monotonic()
    if done.returncode:
        raise program.ProgramError(f"daemon-demo --kind {kind} exited {done.returncode}: {done.stderr.strip()[-200:]}")
    lines, ended = done.stderr.splitlines(), json.loads(done.stdout)["main_code_ended"]
    since = lambda clock: round(clock - ended, 3)
    return {"ticks_s": [since(float(line.split()[1])) for line in lines if line.startswith("tick ")],
            "ordinary_done_s": next(since(float(line.split()[1])) for line in lines if line.startswith("done ")),
            "exit_s": since(exited)}


def daemon(args):
    return {"work_s": args.work, "tick_s": TICK, "daemon_meant_s": DAEMON_S,
            **{kind: timed_demo(kind, args.work) for kind in ("thread", "process")}}


def name_then_wait(said, arrived, release):
    """Say this thread's own name and native id, as it sees itself, then wait."""
    said.append([threading.current_thread().name, threading.get_native_id()])
    arrive_then_wait(arrived, release)


def introspect(args):
    said, arrived, release = [], threading.Semaphore(0), threading.Event()
    workers = [threading.Thread(target=name_then_wait, args=(said, arrived, release), name=f"worker-{i}")
               for i in range(1, args.count + 1)]
    for worker in workers:
        worker.start()
    for _ in workers:
        arrived.acquire()
    inside = {"current_thread": threading.current_thread().name, "active_count": threading.active_count(),
              "enumerate": [t.name for t in threading.enumerate()],
              "native_ids": {t.name: t.native_id for t in threading.enumerate()}, "workers_said": sorted(said)}
    say_ready(os.getpid())
    wait_for_go()
    release.set()
    for worker in workers:
        worker.join()
    return {"pid": os.getpid(), **inside, "active_count_after_join": threading.active_count()}


def run(argv):
    parser = argparse.ArgumentParser(prog="nodes.threads")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("shared")
    cost = commands.add_parser("start-cost")
    cost.add_argument("--count", type=int, default=20)
    cost.add_argument("--rounds", type=int, default=5)
    commands.add_parser("memory").add_argument("--count", type=int, default=8)
    racing = commands.add_parser("race")
    racing.add_argument("--threads", type=int, default=8)
    racing.add_argument("--updates", type=int, default=50000)
    racing.add_argument("--interval", type=float, default=1e-6)
    commands.add_parser("daemon").add_argument("--work", type=float, default=0.5)
    demo = commands.add_parser("daemon-demo")
    demo.add_argument("--kind", choices=["thread", "process"], required=True)
    demo.add_argument("--work", type=float, required=True)
    commands.add_parser("introspect").add_argument("--count", type=int, default=3)
    args = parser.parse_args(argv)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})  # inherited by every thread and child
    handler = {"shared": shared, "start-cost": start_cost, "memory": memory, "race": races, "daemon": daemon,
               "daemon-demo": daemon_demo, "introspect": introspect}[args.command]
    return handler(args)


if __name__ == "__main__":
    mp.set_start_method("fork")
    program.main(run)
