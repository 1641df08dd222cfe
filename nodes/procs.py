"""Process lessons staged for an outside observer: each subcommand sets up a situation, says its pids on
stderr (`ready PID...`) and, where the observer must look before it goes on, waits for SIGUSR1.

    python3 -m nodes.procs children [--count N]   children with pids; is_alive, terminate, join
    python3 -m nodes.procs zombie                 a child exits unjoined (a zombie) until SIGUSR1 joins it
    python3 -m nodes.procs orphan                 the parent exits first, leaving a sleeping child
    python3 -m nodes.procs orphans [--count N]    the parent exits, its children exit after it: orphaned zombies
    python3 -m nodes.procs daemon                 a daemonic child ends with its parent
    python3 -m nodes.procs daemon-main-ends       the main code ends while an ordinary child still works
    python3 -m nodes.procs daemon-killed          a daemonic child whose parent the observer SIGKILLs
    python3 -m nodes.procs daemon-child           a daemonic child tries to start a child

The observer (the scenario) runs `ps` in the node to see what the kernel sees; the program prints its own
account as one JSON line. Children that outlive their parent detach from its output first.
"""
import argparse
import multiprocessing as mp
import os
import signal
import sys
import time

from nodes.lib import program


def say_ready(*pids):
    sys.stderr.write(f"ready {' '.join(map(str, pids))}\n")  # one write: the observer reads whole lines


def wait_for_go():
    """Block until the observer sends SIGUSR1."""
    signal.sigwait({signal.SIGUSR1})


def detach():
    """Let go of the parent's stdout and stderr, so a child that outlives it holds nothing open."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)


def sleep_detached(seconds):
    detach()
    time.sleep(seconds)


def wait_then_exit(event, seconds):
    event.wait()
    time.sleep(seconds)


def introduce(said, target, *args):
    """A child says who it is, from inside — os.getpid() and os.getppid(), as the course prints them — then
    does its work."""
    said.put((os.getpid(), os.getppid()))
    target(*args)


def cleanup_then_die(signum, frame):
    """A SIGTERM handler that takes 0.3 s (a process closing files, say), then dies of the signal."""
    time.sleep(0.3)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def slow_to_die(seconds):
    signal.signal(signal.SIGTERM, cleanup_then_die)
    time.sleep(seconds)


def children(args):
    go, said = mp.Event(), mp.Queue()
    # the first child only sleeps: terminating a process while it waits on a shared Event would leave the
    # Event's condition waiting for it forever (the multiprocessing docs warn of exactly this)
    procs = [mp.Process(target=introduce, args=(said, slow_to_die, 60))] + \
            [mp.Process(target=introduce, args=(said, wait_then_exit, go, 0.3 * i)) for i in range(1, args.count)]
    for p in procs:
        p.start()
    inside = dict(said.get(timeout=10) for _ in procs)  # {pid: ppid}, as each child saw itself
    say_ready(os.getpid(), *[p.pid for p in procs])
    wait_for_go()
    alive_before = [p.is_alive() for p in procs]
    started = time.monotonic()
    procs[0].terminate()                      # SIGTERM to the first child: sent, not waited for
    alive_right_after_terminate = procs[0].is_alive()
    procs[0].join()
    terminate_took = round(time.monotonic() - started, 3)
    go.set()
    join_seconds = []
    for p in procs[1:]:
        started = time.monotonic()
        p.join()                              # blocks until that child has ended
        join_seconds.append(round(time.monotonic() - started, 3))
    return {"parent": os.getpid(), "children": [p.pid for p in procs], "alive_before": alive_before,
            "alive_after": [p.is_alive() for p in procs], "exitcodes": [p.exitcode for p in procs],
            "join_seconds": join_seconds, "seen_from_inside": {str(pid): ppid for pid, ppid in inside.items()},
            "alive_right_after_terminate": alive_right_after_terminate, "terminate_to_end_s": terminate_took}


def implicit_join(args):
    """The main code ends at once, without join(): multiprocessing's exit handler joins the child anyway."""
    child = mp.Process(target=time.sleep, args=(args.seconds,))
    child.start()
    return {"child": child.pid, "child_seconds": args.seconds, "joined": False}


def zombie(args):
    child = mp.Process(target=os._exit, args=(0,))
    child.start()
    say_ready(os.getpid(), child.pid)
    wait_for_go()                              # meanwhile the child has exited: nobody has waited for it
    child.join()                               # wait() reaps it
    print("joined", file=sys.stderr, flush=True)
    wait_for_go()
    return {"parent": os.getpid(), "child": child.pid, "exitcode": child.exitcode}


def orphan(args):
    child = mp.Process(target=sleep_detached, args=(args.seconds,))
    child.start()
    print(f'{{"parent":{os.getpid()},"child":{child.pid}}}', flush=True)
    os._exit(0)                                # leave at once: no join, no atexit handlers


def orphans(args):
    kids = [mp.Process(target=sleep_detached, args=(0.2,)) for _ in range(args.count)]
    for kid in kids:
        kid.start()
    print(f'{{"parent":{os.getpid()},"children":{[k.pid for k in kids]}}}', flush=True)
    os._exit(0)                                # the children outlive us, then exit: PID 1 must reap them


def daemon(args):
    child = mp.Process(target=sleep_detached, args=(60,), daemon=True)
    child.start()
    say_ready(os.getpid(), child.pid)
    wait_for_go()
    return {"parent": os.getpid(), "child": child.pid, "daemon": child.daemon}  # on exit, mp ends the child


def daemon_main_ends(args):
    """A daemon and an ordinary child that works until its own SIGUSR1; the main code ends at SIGUSR1 without
    join(): multiprocessing ends the daemon at once, then waits for the ordinary child."""
    ticking = mp.Process(target=sleep_detached, args=(60,), daemon=True)
    working = mp.Process(target=work_until_go)
    ticking.start()
    working.start()
    say_ready(os.getpid(), ticking.pid, working.pid)
    wait_for_go()
    return {"parent": os.getpid(), "daemon": ticking.pid, "ordinary": working.pid}  # main code ends here


def work_until_go():
    """An ordinary child's work, as long as the observer needs to look: until SIGUSR1 (blocked, inherited)."""
    detach()
    wait_for_go()


def daemon_killed(args):
    """A daemonic child, and a parent that waits to be killed: SIGKILL runs no exit handler."""
    child = mp.Process(target=sleep_detached, args=(60,), daemon=True)
    child.start()
    say_ready(os.getpid(), child.pid)
    wait_for_go()
    return {"parent": os.getpid(), "child": child.pid}


def try_to_have_a_child(queue):
    try:
        mp.Process(target=time.sleep, args=(0,)).start()
        queue.put("started a child")
    except AssertionError as exc:
        queue.put(f"AssertionError: {exc}")


def daemon_child(args):
    queue = mp.Queue()
    child = mp.Process(target=try_to_have_a_child, args=(queue,), daemon=True)
    child.start()
    said = queue.get(timeout=10)
    child.join()
    return {"child": child.pid, "daemon": True, "child_said": said}


def run(argv):
    parser = argparse.ArgumentParser(prog="nodes.procs")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("children").add_argument("--count", type=int, default=3)
    commands.add_parser("zombie")
    commands.add_parser("orphan").add_argument("--seconds", type=float, default=30)
    commands.add_parser("orphans").add_argument("--count", type=int, default=5)
    commands.add_parser("daemon")
    commands.add_parser("daemon-child")
    commands.add_parser("daemon-main-ends")
    commands.add_parser("daemon-killed")
    commands.add_parser("implicit-join").add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args(argv)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})  # delivered to sigwait(), not the default action
    handler = {"children": children, "zombie": zombie, "orphan": orphan, "orphans": orphans, "daemon": daemon,
               "daemon-child": daemon_child, "implicit-join": implicit_join, "daemon-main-ends": daemon_main_ends,
               "daemon-killed": daemon_killed}[args.command]
    return handler(args)


if __name__ == "__main__":
    mp.set_start_method("fork")
    program.main(run)
