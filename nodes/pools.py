"""Process and thread pools measured from inside a node: multiprocessing.Pool and concurrent.futures.

    python3 -m nodes.pools sizes --kind cpu|io [--sizes 1,2,4,8] [--tasks N] [--work N] [--rounds R]
    python3 -m nodes.pools calls [--workers W] [--ms MS]   map against apply_async / submit: when the caller waits
    python3 -m nodes.pools callback [--ms MS]              in which process and thread a callback runs
    python3 -m nodes.pools serve [--workers W] [--port P] [--idle S]
    python3 -m nodes.pools starve HOST [--port P] [--connections N] [--request 'io 10'] [--patience S]

Work is nodes.reqserver's: `cpu N` counts to N in pure Python (it holds the GIL), `io MS` waits MS
milliseconds without using the CPU. Times come from time.monotonic(), one clock for every process of a
node, in milliseconds from the moment a call was made.

`serve` is nodes.reqserver's one-request protocol on a fixed multiprocessing.Pool of W processes: the parent
accepts, hands each connection to the pool with apply_async, and closes its own copy in the callback once
a worker has served it. A connection holds its worker until it ends (or stays silent for --idle seconds).
`starve` holds N connections open without a word, then sends one request and waits --patience seconds;
unanswered, it closes one held connection and times the answer.
"""
import argparse
import multiprocessing as mp
import multiprocessing.pool
import os
import signal
import socket
import statistics
import sys
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor

from nodes.lib import ports, program
from nodes.reqserver import Stopped, accepted, handle, stop, work

EXECUTORS = {"process": ProcessPoolExecutor, "thread": ThreadPoolExecutor}
POOLS = {"pool": mp.Pool, **EXECUTORS}  # multiprocessing.Pool beside concurrent.futures' two executors


def ms_since(origin, moment):
    return round((moment - origin) * 1000, 1)


def cores():
    """What the node offers: os.cpu_count() (the machine's CPUs) and the CPUs this process may run on."""
    return {"cpu_count": os.cpu_count(), "usable_cpus": len(os.sched_getaffinity(0))}


def cpu_spent(kind, amount):
    """Do one piece of work; the CPU seconds the thread doing it spent on it."""
    started = time.thread_time()
    work(kind, amount)
    return time.thread_time() - started


def timed_map(executor, size, kind, amount, tasks):
    """Seconds that `tasks` pieces of work take through map() on a pool of `size` workers, started beforehand,
    and how many CPUs they kept busy meanwhile (the CPU seconds of every task over those seconds)."""
    with executor(size) as pool:
        list(pool.map(work, ["io"] * size, [0] * size))  # the workers up before the clock starts
        started = time.monotonic()
        spent = sum(pool.map(cpu_spent, [kind] * tasks, [amount] * tasks))
        seconds = time.monotonic() - started
        return round(seconds, 4), round(spent / seconds, 2)


def sizes(args):
    taken = {name: [[] for _ in args.sizes] for name in EXECUTORS}
    busy = {name: [[] for _ in args.sizes] for name in EXECUTORS}
    for _round in range(args.rounds):  # alternating rounds, medians: the cores are shared with the whole lab
        for name, executor in EXECUTORS.items():
            for index, size in enumerate(args.sizes):
                seconds, cpus = timed_map(executor, size, args.kind, args.work, args.tasks)
                taken[name][index].append(seconds)
                busy[name][index].append(cpus)
    return {"kind": args.kind, "tasks": args.tasks, "work": args.work, "sizes": args.sizes, **cores(),
            "seconds": {name: [statistics.median(runs) for runs in rows] for name, rows in taken.items()},
            "cpus_busy": {name: [statistics.median(runs) for runs in rows] for name, rows in busy.items()},
            "rounds_s": taken}


def stamped(ms):
    """Wait ms milliseconds; when the task started and ended."""
    started = time.monotonic()
    work("io", ms)
    return started, time.monotonic()


def submit(pool, *args):
    """apply_async on a multiprocessing.Pool, submit on an executor: either returns a handle at once."""
    return pool.apply_async(stamped, args) if isinstance(pool, mp.pool.Pool) else pool.submit(stamped, *args)


def outcome(pending):
    """AsyncResult.get() or Future.result(): either waits for its task."""
    return pending.result() if isinstance(pending, Future) else pending.get()


def timeline(origin, returned, spans):
    """When the call returned, when every result was in hand, and each task's [start, end]: ms from the call."""
    done = time.monotonic()
    return {"returned_ms": ms_since(origin, returned), "done_ms": ms_since(origin, done),
            "tasks_ms": [[ms_since(origin, start), ms_since(origin, end)] for start, end in spans]}


def two_ways(pool, workers, ms):
    """The same tasks submitted synchronously (map) and asynchronously (one handle per task, then each result)."""
    list(pool.map(stamped, [0] * workers))  # the workers up before the clock starts
    origin = time.monotonic()
    answers = pool.map(stamped, [ms] * workers)
    returned = time.monotonic()
    synchronous = timeline(origin, returned, list(answers))  # list(): Executor.map's answers are an iterator
    origin = time.monotonic()
    pending = [submit(pool, ms) for _ in range(workers)]
    returned = time.monotonic()
    return {"map": synchronous, "async": timeline(origin, returned, [outcome(p) for p in pending])}


def calls(args):
    measured = {}
    for name, make in POOLS.items():
        with make(args.workers) as pool:
            measured[name] = two_ways(pool, args.workers, args.ms)
    return {"workers": args.workers, "task_ms": args.ms, **measured}


def whoami(ms=0):
    """The process and thread this runs in, after waiting ms milliseconds."""
    work("io", ms)
    return {"pid": os.getpid(), "tid": threading.get_native_id(), "thread": threading.current_thread().name}


def where_callback_runs(pool, ms):
    """A task that takes ms, with a callback attached while it runs: who ran the task, who ran the callback."""
    seen, called = {}, threading.Event()

    def callback(result):
        seen["callback"] = whoami()
        seen["task"] = result.result() if isinstance(result, Future) else result
        called.set()

    if isinstance(pool, mp.pool.Pool):
        pool.apply_async(whoami, (ms,), callback=callback)
        seen["done_before_attached"] = False  # apply_async takes the callback with the task
    else:
        future = pool.submit(whoami, ms)
        seen["done_before_attached"] = future.done()  # a done future runs a new callback at once, in the caller
        future.add_done_callback(callback)
    if not called.wait(30):
        raise program.ProgramError(f"the callback of a {type(pool).__name__} never ran")
    return seen


def callbacks(args):
    found = {"main": whoami()}
    for name, make in POOLS.items():
        with make(1) as pool:
            found[name] = where_callback_runs(pool, args.ms)
    return found


def closer(conn):
    """A pool callback closing the parent's copy of a connection once a worker has served it."""
    return lambda _outcome: conn.close()


def serve(args):
    # the pool first, so that its workers do not inherit the listener; they die of SIGTERM, the parent returns
    pool = mp.Pool(args.workers, initializer=signal.signal, initargs=(signal.SIGTERM, signal.SIG_DFL))
    listener = socket.create_server(("", args.port), backlog=128)
    print("listening", file=sys.stderr, flush=True)
    signal.signal(signal.SIGTERM, stop)
    try:
        while True:
            conn, peer = accepted(listener)
            # pickled for the worker (the descriptor passed over a Unix socket), so the parent may not close it
            # before the task is done
            pool.apply_async(handle, (conn, peer, args.idle, "pools"), callback=closer(conn),
                             error_callback=closer(conn))
    except Stopped:
        pool.terminate()
        return {"workers": args.workers, "stopped": "SIGTERM"}


def answer_within(sock, seconds):
    """The server's answer line, or None if nothing came within seconds."""
    sock.settimeout(seconds)
    data = b""
    try:
        while not data.endswith(b"\n") and (chunk := sock.recv(200)):
            data += chunk
    except TimeoutError:
        if not data:
            return None
    return data.decode(errors="replace").strip()


def starve(args):
    """A later client behind N idle connections: answered within the patience, or once one of them closes?"""
    address = (args.host, args.port)
    held = [socket.create_connection(address, timeout=10) for _ in range(args.connections)]
    later = socket.create_connection(address, timeout=10)
    origin = time.monotonic()
    later.sendall(args.request.encode() + b"\n")
    answer, closed = answer_within(later, args.patience), None
    if answer is None:
        held.pop(0).close()
        closed = time.monotonic()
        answer = answer_within(later, args.wait)
    answered = time.monotonic() if answer is not None else None
    for sock in (*held, later):
        sock.close()
    return {"connections": args.connections, "request": args.request, "patience_s": args.patience,
            "starved": closed is not None, "answer": answer,
            "closed_ms": ms_since(origin, closed) if closed else None,
            "answered_ms": ms_since(origin, answered) if answered else None,
            "after_close_ms": ms_since(closed, answered) if closed and answered else None}


def sizes_list(text):
    return [int(size) for size in text.split(",")]


def run(argv):
    parser = argparse.ArgumentParser(prog="nodes.pools")
    commands = parser.add_subparsers(dest="command", required=True)
    measure = commands.add_parser("sizes")
    measure.add_argument("--kind", choices=("cpu", "io"), required=True)
    measure.add_argument("--sizes", type=sizes_list, default=[1, 2, 4, 8])
    measure.add_argument("--tasks", type=int, default=16)
    measure.add_argument("--work", type=int, default=300_000, help="cpu: count to N; io: wait N ms")
    measure.add_argument("--rounds", type=int, default=3)
    calling = commands.add_parser("calls")
    calling.add_argument("--workers", type=int, default=4)
    calling.add_argument("--ms", type=int, default=200)
    commands.add_parser("callback").add_argument("--ms", type=int, default=200)
    server = commands.add_parser("serve")
    server.add_argument("--workers", type=int, default=4)
    server.add_argument("--port", type=int, default=ports.REQSERVER)  # nodes.reqserver's protocol and port
    server.add_argument("--idle", type=float, default=30.0)
    client = commands.add_parser("starve")
    client.add_argument("host")
    client.add_argument("--port", type=int, default=ports.REQSERVER)
    client.add_argument("--connections", type=int, default=4)
    client.add_argument("--request", default="io 10")
    client.add_argument("--patience", type=float, default=1.0)
    client.add_argument("--wait", type=float, default=30.0, help="how long to wait once a connection is closed")
    args = parser.parse_args(argv)
    handler = {"sizes": sizes, "calls": calls, "callback": callbacks, "serve": serve, "starve": starve}
    return handler[args.command](args)


if __name__ == "__main__":
    mp.set_start_method("fork")  # Linux's default before Python 3.14; the server's pool relies on it
    program.main(run)
