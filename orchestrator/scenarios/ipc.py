"""Pipes and queues between processes: Pipe's two ends, and what Queue is made of (a pipe, a lock and a
feeder thread) — with the two ways it surprises: put() returns before the data is in the pipe, and a child
that put a large item cannot end until someone gets it."""
from orchestrator.i18n import N_, _
from orchestrator.result import Step

NAME = "ipc"
SUMMARY = N_("Pipe (duplex or one-way), Queue's feeder thread, the join-before-get deadlock, JoinableQueue, "
             "full/empty/put_nowait/get_nowait")
PARAMS = {"mib": (16, 1, 256), "kib": (1024, 128, 65536), "items": (20, 1, 1000)}


def pipe_step(node):
    r = node.program("ipc", "pipe")
    return Step(
        "pipe-two-ends", _("Pipe(): two ends, both ways"),
        passed=r["from_child"][2] == "ping" and r["reply_seen_by_child"][2] == "pong"
        and r["one_way_send"].startswith("OSError"),
        expected=_("Pipe() gives two connected ends: the child sends on its end and receives the parent's reply; "
                   "Pipe(duplex=False) gives a receiving end that cannot send"),
        observed=_("child {pid} sent {sent}, then received {received}; send() on a one-way pipe's reading end: "
                   "{error}").format(pid=r['from_child'][1], sent=repr(r['from_child'][2]),
                                     received=repr(r['reply_seen_by_child'][2]), error=r['one_way_send']),
        why=_("A Pipe is a pair of connected sockets (or an OS pipe for duplex=False): each end sends and receives "
              "pickled objects. A Queue is built on a one-way pipe, with a lock so that many can share it."),
        facts=r)


def feeder_step(node, p):
    r = node.program("ipc", "feeder", "--mib", p["mib"], timeout=120)
    return Step(
        "queue-feeder-thread", _("Queue.put() returns before the data is in the pipe"),
        passed=r["bytes"] == p["mib"] << 20 and r["put_returned_after_s"] < r["arrived_after_s"] / 5,
        expected=_("put() of a {mib} MiB object returns at once; the child has it only later").format(mib=p['mib']),
        observed=_("put() returned after {put_ms:.2f} ms; empty() right after: {empty}; the child had all {size} "
                   "bytes after {arrived_ms:.0f} ms").format(
            put_ms=r['put_returned_after_s'] * 1000, empty=r['empty_right_after_put'], size=r['bytes'],
            arrived_ms=r['arrived_after_s'] * 1000),
        why=_("put() appends to a buffer in the process and wakes a feeder thread, which pickles the object and "
              "writes it into the pipe later. So put() never waits for the reader — and empty() can be True just "
              "after a put(). Queues are for messages, not big data: every object is pickled and copied through "
              "the pipe."),
        facts=r)


def deadlock_step(node, p):
    r = node.program("ipc", "join-deadlock", "--kib", p["kib"], timeout=60)
    return Step(
        "join-before-get", _("a child that put a large item cannot end until it is got"),
        passed=r["alive_after_join_2s"] and r["exitcode_after_get"] == 0 and r["bytes"] == p["kib"] << 10,
        expected=_("a child puts {kib} KiB and returns; join() before get() waits (2 s here, for ever without a "
                   "timeout); after get(), the child ends at once").format(kib=p['kib']),
        observed=_("still alive after join(2): {alive}; after get() of {size} bytes it exited with "
                   "{exitcode}").format(alive=r['alive_after_join_2s'], size=r['bytes'],
                                        exitcode=r['exitcode_after_get']),
        why=_("A process that put items waits, as it exits, for its feeder thread to write them all into the pipe; "
              "the pipe holds about 64 KiB, so the rest waits for a reader. Joining before getting waits on a child "
              "that waits on you: get first, join after."),
        facts=r)


def joinable_step(node, p):
    r = node.program("ipc", "joinable", "--items", p["items"], timeout=60)
    return Step(
        "joinable-queue", _("JoinableQueue.join() waits for task_done()"),
        passed=r["done_when_join_returned"] == p["items"] and r["exitcodes"] == [0, 0]
        and r["join_waited_s"] >= p["items"] * 0.02 / 2 * 0.8,
        expected=_("{items} items for 2 workers taking 20 ms each: join() returns only when every item has been "
                   "marked task_done()").format(items=p['items']),
        observed=_("join() waited {seconds} s; {done}/{items} items were done when it returned; workers exited "
                   "{exitcodes}").format(seconds=r['join_waited_s'], done=r['done_when_join_returned'],
                                         items=p['items'], exitcodes=r['exitcodes']),
        why=_("JoinableQueue counts unfinished tasks: put() adds one, task_done() removes one, join() blocks until "
              "the count is 0. A worker that forgets task_done() makes join() wait for ever."),
        facts=r)


def nowait_step(node):
    r = node.program("ipc", "nowait")
    return Step(
        "full-empty-nowait", _("Queue(maxsize): full(), put_nowait(), get_nowait()"),
        passed=r["full_at_maxsize"] and r["third_put_nowait"] == "queue.Full"
        and r["get_nowait_on_empty"] == "queue.Empty" and r["taken"] == ["a", "b"],
        expected=_("Queue(maxsize=2) after 2 puts: full() is True, a third put_nowait() raises queue.Full; "
                   "emptied, get_nowait() raises queue.Empty"),
        observed=_("full(): {full}; third put_nowait(): {third_put}; got {taken} in order; get_nowait() on empty: "
                   "{get_on_empty}").format(full=r['full_at_maxsize'], third_put=r['third_put_nowait'],
                                            taken=r['taken'], get_on_empty=r['get_nowait_on_empty']),
        why=_("put() and get() block (the course: 当队列put满了阻塞,get空了阻塞); their _nowait forms raise instead, "
              "so a program can do something else. full() and empty() are only snapshots: another process may "
              "change the queue the moment after."),
        facts=r)


def run(lab, params, progress):
    node = lab.node("worker1")
    progress(_("Pipe, then Queue's feeder thread and the join-before-get deadlock"))
    steps = [pipe_step(node), feeder_step(node, params), deadlock_step(node, params)]
    progress(_("JoinableQueue, full/empty and the _nowait calls"))
    steps += [joinable_step(node, params), nowait_step(node)]
    return steps
