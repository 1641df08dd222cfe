"""The course's Queue across hosts: a broker built on multiprocessing.managers, producers and consumers.

    python3 -m nodes.queues broker [--port P] [--maxsize M] [--lease S] [--grace S]
    python3 -m nodes.queues produce HOST [--count N] [--start ID] [--mode plain|reliable] [--pills K] [--join]
    python3 -m nodes.queues consume HOST [--mode plain|reliable] [--work-ms MS | --cpu N] [--task-done]
                                         [--idle S] [--batch B] [--record-every N]
    python3 -m nodes.queues history HOST

The broker serves, to holders of the lab's authkey (/run/socklab/queue.key):
- `plain`: a queue.Queue(maxsize) — the course's Queue: put() blocks while it is full, get() hands an item
  over for good (a consumer that dies holding it loses it);
- `reliable`: get() hands out (id, item) on a lease; ack(id) completes it; an expired lease puts the item
  back (so a task may run twice: duplicates, never losses);
- `log`: every completion (id, consumer) and the plain queue's depth after every put and get: the history
  the orchestrator checks.

WARNING: managers speak pickle. Anyone with the authkey can make the broker unpickle what they send, which
runs code: the key is per lab, mounted into the lab's nodes only, and the broker listens on the lab network.

A connection must pass the authkey challenge within --grace seconds; one that does not (garbage, a wrong
key, silence) is one log line and is closed, and the broker serves everyone else.

A consumer stops on a poison pill (None), or after --idle seconds without work; if the broker goes away,
producers and consumers exit with one error line.
"""
import argparse
import collections
import os
import queue
import socket
import sys
import threading
import time
from multiprocessing import AuthenticationError, connection, managers
from multiprocessing.managers import BaseManager, Server

from nodes.lib import keys, ports, program, serving

PORT = ports.QUEUES


def prompt_client(address, family=None, authkey=None):
    """multiprocessing's Client, with TCP_NODELAY. A client's handshake ends with two small writes in a row
    (its WELCOME, then its first request): Nagle held the second until the broker's delayed ACK, 40 ms later,
    on every connection a proxy opens (made, first used, released: 160 ms for a consumer's log)."""
    with socket.create_connection(address) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = connection.Connection(sock.detach())
    if authkey is not None:
        connection.answer_challenge(conn, authkey)
        connection.deliver_challenge(conn, authkey)
    return conn


SERIALIZER = "pickle, prompt"  # managers' pickle, whose connections are made by prompt_client
managers.listener_client[SERIALIZER] = (connection.Listener, prompt_client)


class Authenticating:
    """A manager connection that knows when its peer has authenticated: the server's first recv() of a
    pickled request comes only after both authkey challenges passed."""

    def __init__(self, conn):
        self._conn, self.authenticated = conn, threading.Event()

    def recv(self):
        self.authenticated.set()
        self.recv = self._conn.recv  # from now on the plain method: serve_client's loop pays nothing
        return self._conn.recv()

    def __getattr__(self, name):
        return getattr(self._conn, name)


class GuardedServer(Server):
    """multiprocessing's manager server with what every socklab server promises: a peer that has not
    passed the authkey challenge within the grace time is cut off, and a failed one is one log line."""
    grace = 5.0

    def accepter(self):
        while True:
            try:
                conn = self.listener.accept()
            except OSError:
                continue
            peer = serving.peer_name(self.listener.last_accepted)
            threading.Thread(target=self.guarded, args=(conn, peer), daemon=True).start()

    def guarded(self, conn, peer):
        watched = Authenticating(conn)
        expired = threading.Event()

        def cut_off():  # wakes the blocked recv with end-of-file, so the request handler ends
            if not watched.authenticated.is_set():
                expired.set()
                with serving.contained("queues", peer, "cut-off failed"):
                    socket.socket(fileno=os.dup(conn.fileno())).shutdown(socket.SHUT_RDWR)
        timer = threading.Timer(self.grace, cut_off)
        timer.start()
        try:
            self.handle_request(watched)
        finally:
            timer.cancel()
        if not watched.authenticated.is_set():
            serving.log("queues", peer, "cut off: silent past the grace time" if expired.is_set() else
                        "refused: failed the authkey challenge (a wrong key, or not a manager client)")


class Broker(BaseManager):
    pass


class ReliableQueue:
    """Items handed out on leases: (id, item) until acked, back in line when the lease runs out."""

    def __init__(self, maxsize, lease):
        self.maxsize, self.lease = maxsize, lease
        self.ready, self.leased = collections.deque(), {}  # id -> (item, expires)
        self.changed = threading.Condition()
        self.redelivered = 0
        self.empty_gets = 0  # get_many calls that timed out with nothing: a consumer that has been waiting

    def _expire(self):
        now = time.monotonic()
        for task_id, (item, expires) in list(self.leased.items()):
            if expires < now:
                del self.leased[task_id]
                self.ready.appendleft((task_id, item))
                self.redelivered += 1
                self.changed.notify_all()

    def put_many(self, tasks, timeout=60):
        """Enqueue [(id, item)], blocking while the queue is full."""
        with self.changed:
            for task in tasks:
                if len(self.ready) >= self.maxsize:
                    self.changed.notify_all()  # what is in already can be taken while we wait for room
                    if not self.changed.wait_for(lambda: len(self.ready) < self.maxsize, timeout):
                        raise queue.Full
                self.ready.append(task)
            self.changed.notify_all()  # once per batch: waking every consumer per task cost more than it gave

    def get_many(self, batch=1, timeout=1.0):
        """Up to batch (id, item) on a lease, [] if none came within timeout."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                self._expire()
                if self.ready:
                    taken = [self.ready.popleft() for _ in range(min(batch, len(self.ready)))]
                    expires = time.monotonic() + self.lease
                    for task_id, item in taken:
                        self.leased[task_id] = (item, expires)
                    self.changed.notify_all()
                    return taken
                left = deadline - time.monotonic()
                if left <= 0:
                    self.empty_gets += 1
                    return []
                self.changed.wait(min(left, self.lease / 2))

    def ack(self, ids):
        """Done with these: their leases end and they never come back."""
        with self.changed:
            for task_id in ids:
                self.leased.pop(task_id, None)

    def release(self, ids):
        """Not done with these, and not going to be: back to the front of the line now, not when the lease
        runs out (a consumer that stops at a pill gives back what it took after it)."""
        with self.changed:
            for task_id in reversed(ids):
                if task_id in self.leased:
                    self.ready.appendleft((task_id, self.leased.pop(task_id)[0]))
            self.changed.notify_all()

    def stats(self):
        with self.changed:
            return {"ready": len(self.ready), "leased": len(self.leased), "redelivered": self.redelivered,
                    "empty_gets": self.empty_gets}


class DepthQueue(queue.Queue):
    """The course's Queue(maxsize), noting its depth after every put and get: the history's depth curve,
    exact, without a sampling thread taking the GIL a hundred times a second."""

    def __init__(self, maxsize, keep=200_000):
        super().__init__(maxsize)
        self.started, self.depths = time.monotonic(), collections.deque(maxlen=keep)
        self._note = self.depths.append

    def _put(self, item, clock=time.monotonic):  # with the queue's mutex held, as _get; queue.Queue's, inlined
        self.queue.append(item)
        self._note((clock(), len(self.queue)))  # rounded when read: curve()

    def _get(self, clock=time.monotonic):
        item = self.queue.popleft()
        self._note((clock(), len(self.queue)))
        return item

    def curve(self, depths):
        """[(seconds since the queue was made, depth)] of depths, a copy of self.depths taken under the mutex."""
        return [(round(t - self.started, 4), depth) for t, depth in depths]


class Log:
    """Completions, and the plain queue's depth over time."""

    def __init__(self, plain):
        self.completed, self.lock, self.plain = [], threading.Lock(), plain
        self.started = plain.started

    def record(self, ids, consumer):
        now = round(time.monotonic() - self.started, 3)
        with self.lock:
            self.completed.extend((task_id, consumer, now) for task_id in ids)

    def history(self):
        with self.lock, self.plain.mutex:  # one moment's copy; rounded after, so puts and gets wait no longer
            completed, depths = list(self.completed), list(self.plain.depths)
        return {"completed": completed, "depths": self.plain.curve(depths)}



def broker(args):
    plain = DepthQueue(args.maxsize)
    reliable = ReliableQueue(args.maxsize, args.lease)
    log = Log(plain)
    Broker.register("plain", callable=lambda: plain)
    Broker.register("reliable", callable=lambda: reliable)
    Broker.register("log", callable=lambda: log)
    manager = Broker(address=("", args.port), authkey=keys.load(args.key), serializer=SERIALIZER)
    server = GuardedServer(manager._registry, manager.address, manager._authkey, manager._serializer)
    server.grace = args.grace
    print("listening", file=sys.stderr, flush=True)
    server.serve_forever()


def connect(host, port, key_path):
    Broker.register("plain")
    Broker.register("reliable")
    Broker.register("log")
    manager = Broker(address=(host, port), authkey=keys.load(key_path), serializer=SERIALIZER)
    try:
        manager.connect()
    except ConnectionRefusedError:
        raise program.ProgramError(f"no broker at {host}:{port}") from None
    except AuthenticationError as exc:
        raise program.ProgramError(f"the broker refused us: {exc}") from None
    return manager


def guarded(action):
    """Run action; a broker that went away, or a queue that stayed full, becomes one clear error."""
    try:
        return action()
    except (EOFError, ConnectionError) as exc:
        raise program.ProgramError(f"lost the broker: {type(exc).__name__}") from None
    except queue.Full:
        raise program.ProgramError("the queue stayed full past --timeout: are any consumers running?") from None


def produce(args):
    manager = connect(args.host, args.port, args.key)
    ids = list(range(args.start, args.start + args.count))
    blocked, started = 0.0, time.monotonic()

    def run():
        nonlocal blocked
        if args.mode == "plain":
            q = manager.plain()
            put, clock, timeout = q.put, time.monotonic, args.timeout  # held: the loop is all a task costs here
            for task_id in ids:
                t = clock()
                put(task_id, True, timeout)  # blocks while the queue is full: backpressure
                blocked += clock() - t
            for _ in range(args.pills):
                q.put(None, True, args.timeout)
            if args.join:
                t = time.monotonic()
                q.join()  # until every item has been task_done()
                return round(time.monotonic() - t, 3), time.time()
        else:
            q = manager.reliable()
            for i in range(0, len(ids), args.batch):
                t = time.monotonic()
                q.put_many([(task_id, task_id) for task_id in ids[i:i + args.batch]], args.timeout)
                blocked += time.monotonic() - t
            q.put_many([(f"pill-{i}", None) for i in range(args.pills)], args.timeout)
        return None, None
    join_s, joined_at = guarded(run)
    return {"produced": {"start": args.start, "count": args.count}, "mode": args.mode, "pills": args.pills,
            "blocked_s": round(blocked, 3), "seconds": round(time.monotonic() - started, 3), "join_s": join_s,
            "joined_at": joined_at}


class Said:
    """`done N` lines for stderr, written together at most every `every` seconds by a thread of their own,
    which also formats them: a line per task without a system call or a lock in the consumer's loop (stderr
    is line-buffered, and a write per no-op task halved the consumer's rate). Nothing waits longer than
    `every` to be said; flush() says the rest at once."""

    def __init__(self, every=0.05):
        self.items = collections.deque()  # append and popleft are atomic: the consumer never waits for a lock
        self.note = self.items.append  # note(item): `done {item}` is said soon
        self.flushing = threading.Lock()
        threading.Thread(target=self._loop, args=(every,), daemon=True).start()

    def _loop(self, every):
        while True:
            time.sleep(every)
            self.flush()

    def flush(self):
        with self.flushing:
            items = [self.items.popleft() for _ in range(len(self.items))]
            if items:
                sys.stderr.write("".join(f"done {item}\n" for item in items))
                sys.stderr.flush()


def work(args):
    if args.cpu:
        total = 0
        for i in range(args.cpu):
            total += i * i
    elif args.work_ms:
        time.sleep(args.work_ms / 1000)


def span(first, last):
    """Seconds from the first item to the last (monotonic times), 0 when none came."""
    return 0.0 if first is None else round(max(last - first, 0.0), 4)


def consume_plain(q, args, record, said):
    """The course's loop: get, work, until a poison pill or --idle seconds without work; completions are
    recorded every --record-every tasks. Returns (tasks done, why it stopped, seconds from the first item to
    the last).

    The loop is the whole of a no-op task's cost on this side, so it looks nothing up that it could hold."""
    get, idle, task_done, every = q.get, args.idle, args.task_done, args.record_every
    busy = args.cpu or args.work_ms
    processed, unrecorded, first = 0, [], None
    while True:
        try:
            item = get(True, idle)  # positional: no keyword dict to pickle on every call
        except queue.Empty:
            reason, last = f"idle {idle} s", time.monotonic() - idle
            break
        if first is None:
            first = time.monotonic()
        if item is None:
            reason, last = "poison pill", time.monotonic()
            if task_done:
                q.task_done()
            break
        if busy:
            work(args)
        unrecorded.append(item)
        said(item)
        if task_done:
            q.task_done()
        processed += 1
        if len(unrecorded) >= every:
            record(unrecorded)
            unrecorded = []
    if unrecorded:
        record(unrecorded)
    return processed, reason, span(first, last)


def consume_reliable(q, args, record, said):
    """Leased batches: completed first, acknowledged second (a crash between is a duplicate, never a loss);
    what was taken after a poison pill goes back at once. Returns (tasks done, why it stopped, seconds from
    the first task to the last)."""
    processed, first = 0, None
    while True:
        tasks = q.get_many(args.batch, args.idle)
        if not tasks:
            return processed, f"idle {args.idle} s", span(first, time.monotonic() - args.idle)
        if first is None:
            first = time.monotonic()
        done, reason = [], None
        for taken, (lease_id, item) in enumerate(tasks, 1):
            if item is None:
                reason, last = "poison pill", time.monotonic()
                break
            work(args)
            done.append(item)
            said(item)
        if done:
            record(done)
        q.ack([lease_id for lease_id, __ in tasks[:taken]])
        if tasks[taken:]:
            q.release([lease_id for lease_id, __ in tasks[taken:]])
        processed += len(done)
        if reason:
            return processed, reason, span(first, last)


class Stamped:
    """A plain queue whose task_done() notes when it was last called (as it was sent, before the broker's
    reply: a join() waiting on it may return first), on the wall clock the producer's join() is compared with."""

    def __init__(self, q):
        self.get, self._task_done, self.last_task_done = q.get, q.task_done, None

    def task_done(self):
        called = time.time()
        self._task_done()
        self.last_task_done = called


def consume(args):
    manager = connect(args.host, args.port, args.key)
    me = f"{socket.gethostname()}/{os.getpid()}"
    log = manager.log()
    started, say = time.monotonic(), Said()

    stamped = None

    def run():
        nonlocal stamped
        q = manager.plain() if args.mode == "plain" else manager.reliable()
        if args.task_done:
            q = stamped = Stamped(q)
        print("consuming", file=sys.stderr, flush=True)
        loop = consume_plain if args.mode == "plain" else consume_reliable
        return loop(q, args, lambda ids: log.record(ids, me), say.note)
    try:
        processed, exit_reason, busy = guarded(run)
    finally:
        say.flush()
    return {"consumer": me, "mode": args.mode, "processed": processed, "exit": exit_reason,
            "seconds": round(time.monotonic() - started, 3), "busy_s": busy,
            **({"last_task_done_at": stamped.last_task_done} if stamped else {})}


def history(args):
    manager = connect(args.host, args.port, args.key)
    return guarded(lambda: {**manager.log().history(), "reliable": manager.reliable().stats()})


def run(argv):
    parser = argparse.ArgumentParser(prog="nodes.queues")
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("broker")
    p.add_argument("--maxsize", type=int, default=10)
    p.add_argument("--lease", type=float, default=1.0)
    p.add_argument("--grace", type=float, default=5.0, help="seconds to pass the authkey challenge")
    p.set_defaults(handler=broker)
    p = commands.add_parser("produce")
    p.add_argument("host")
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--start", type=int, default=0)
    p.add_argument("--mode", choices=["plain", "reliable"], default="plain")
    p.add_argument("--pills", type=int, default=0, help="poison pills to put after the items")
    p.add_argument("--join", action="store_true", help="then wait until every item is task_done()")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--timeout", type=float, default=60)
    p.set_defaults(handler=produce)
    p = commands.add_parser("consume")
    p.add_argument("host")
    p.add_argument("--mode", choices=["plain", "reliable"], default="plain")
    p.add_argument("--work-ms", type=float, default=0)
    p.add_argument("--cpu", type=int, default=0, help="count to N per task instead of sleeping")
    p.add_argument("--task-done", action="store_true")
    p.add_argument("--idle", type=float, default=5.0)
    p.add_argument("--batch", type=int, default=1, help="reliable: tasks per get")
    p.add_argument("--record-every", type=int, default=1, help="plain: record completions in batches of N")
    p.set_defaults(handler=consume)
    p = commands.add_parser("history")
    p.add_argument("host")
    p.set_defaults(handler=history)
    for p in commands.choices.values():
        p.add_argument("--port", type=int, default=PORT)
        p.add_argument("--key", default=keys.QUEUE)
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    program.main(run)
