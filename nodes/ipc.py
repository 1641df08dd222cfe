"""multiprocessing's pipes and queues from the inside: what Queue is made of, and where it bites.

    python3 -m nodes.ipc pipe | feeder [--mib N] | join-deadlock [--kib N] | joinable [--items N] | nowait

Each prints one JSON result line of what it measured (see the functions). Uses the fork start method,
as the course's examples on Linux do.
"""
import argparse
import multiprocessing as mp
import os
import queue
import time

from nodes.lib import program


def talk_back(end):
    end.send(("child", os.getpid(), "ping"))
    end.send(("child", "got", end.recv()))
    end.close()


def pipe(args):
    """Pipe(): two ends, each can send and receive (duplex); Pipe(duplex=False): receive on one, send on the other."""
    mine, theirs = mp.Pipe()
    child = mp.Process(target=talk_back, args=(theirs,))
    child.start()
    first = mine.recv()
    mine.send("pong")
    second = mine.recv()
    child.join()
    reader, writer = mp.Pipe(duplex=False)
    try:
        reader.send("wrong way")
        wrong_way = "sent"
    except OSError as exc:
        wrong_way = f"{type(exc).__name__}: {exc}"
    return {"from_child": list(first), "reply_seen_by_child": list(second), "one_way_send": wrong_way}


def feeder(args):
    """Queue.put() hands the object to a feeder thread and returns: the pickling and the writing into the pipe
    happen after it. Times put() of a large object against the whole trip to a child's get()."""
    q, done = mp.Queue(), mp.Queue()
    child = mp.Process(target=lambda: done.put((len(q.get()), time.monotonic())))
    child.start()
    item = b"x" * (args.mib << 20)
    started = time.monotonic()
    q.put(item)
    put_s = time.monotonic() - started
    empty_right_after = q.empty()
    size, got_at = done.get(timeout=60)
    child.join()
    return {"bytes": size, "put_returned_after_s": round(put_s, 6), "empty_right_after_put": empty_right_after,
            "arrived_after_s": round(got_at - started, 4)}


def put_big_then_exit(q, size):
    q.put(b"x" * size)  # returns at once; the process cannot end until its feeder has written it all


def join_deadlock(args):
    """A child puts more than the pipe holds, then ends: joined before anyone gets the item, it cannot end."""
    q = mp.Queue()
    child = mp.Process(target=put_big_then_exit, args=(q, args.kib << 10))
    child.start()
    child.join(2)  # the course's order, join then get: it would wait for ever without the timeout
    stuck = child.is_alive()
    got = len(q.get(timeout=10))
    child.join(10)
    return {"bytes": got, "alive_after_join_2s": stuck, "exitcode_after_get": child.exitcode}


def work_through(q, done):
    while (item := q.get()) is not None:
        done.put(item)
        time.sleep(0.02)
        q.task_done()
    q.task_done()


def joinable(args):
    """JoinableQueue: join() returns once every item put has been matched by a task_done()."""
    q, done = mp.JoinableQueue(), mp.Queue()
    workers = [mp.Process(target=work_through, args=(q, done)) for _ in range(2)]
    for w in workers:
        w.start()
    for i in range(args.items):
        q.put(i)
    started = time.monotonic()
    q.join()
    joined_s = time.monotonic() - started
    finished = sorted(done.get(timeout=10) for _ in range(args.items))
    for _ in workers:
        q.put(None)
    for w in workers:
        w.join(10)
    return {"items": args.items, "join_waited_s": round(joined_s, 3), "done_when_join_returned": len(finished),
            "exitcodes": [w.exitcode for w in workers]}


def nowait(args):
    """Queue(maxsize=2): the non-blocking calls raise instead of waiting; full() and empty() say the state."""
    q = mp.Queue(maxsize=2)
    q.put_nowait("a")
    q.put_nowait("b")
    full = q.full()
    try:
        q.put_nowait("c")
        third = "accepted"
    except queue.Full:
        third = "queue.Full"
    taken = [q.get(timeout=5), q.get(timeout=5)]
    try:
        q.get_nowait()
        fourth = "got one"
    except queue.Empty:
        fourth = "queue.Empty"
    return {"full_at_maxsize": full, "third_put_nowait": third, "taken": taken, "get_nowait_on_empty": fourth,
            "empty": q.empty()}


def run(argv):
    parser = argparse.ArgumentParser(prog="nodes.ipc")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("pipe").set_defaults(handler=pipe)
    p = commands.add_parser("feeder")
    p.add_argument("--mib", type=int, default=16)
    p.set_defaults(handler=feeder)
    p = commands.add_parser("join-deadlock")
    p.add_argument("--kib", type=int, default=1024)
    p.set_defaults(handler=join_deadlock)
    p = commands.add_parser("joinable")
    p.add_argument("--items", type=int, default=20)
    p.set_defaults(handler=joinable)
    commands.add_parser("nowait").set_defaults(handler=nowait)
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    mp.set_start_method("fork")
    program.main(run)
