"""A socket's life, the parts that surprise: the end of a stream, TIME_WAIT, an empty reply, merged commands.

    python3 -m nodes.socklife eof | time-wait | empty-reply | merged-commands

Each runs its server in a thread and its client in the main thread, over loopback inside the node, and
prints one JSON line of what happened.
"""
import argparse
import errno
import socket
import subprocess
import threading
import time

from nodes.lib import program


def listener(port=0, reuse=False):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if reuse:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(1)
    return sock


def eof(args):
    """The peer closed: every recv() returns b"" at once, for ever. A loop that does not stop on it spins."""
    server = listener()
    client = socket.create_connection(server.getsockname())
    conn, _ = server.accept()
    client.sendall(b"hi")
    client.close()
    first, second = conn.recv(1024), conn.recv(1024)
    spins, deadline = 0, time.monotonic() + 0.1
    while time.monotonic() < deadline:  # the course's loop without `if not data: break`, for 0.1 s
        conn.recv(1024)
        spins += 1
    conn.close(), server.close()
    return {"first": first.decode(), "after_close": second.decode(), "empty_recvs_in_100ms": spins}


def closed_first(reuse):
    """A listener (SO_REUSEADDR or not) whose side of one connection closed first: its port, and the TIME_WAIT
    line ss shows for it."""
    server = listener(0, reuse=reuse)
    port = server.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    conn, _ = server.accept()
    conn.close()              # the server closes first: its side of the connection goes to TIME_WAIT
    client.recv(1)
    client.close()
    server.close()
    time.sleep(0.05)
    waiting = subprocess.run(["ss", "-Htan", "state", "time-wait", f"( sport = :{port} )"],
                             capture_output=True, text=True).stdout.split("\n")[0].split()
    return port, " ".join(waiting)


def bind_again(port, reuse):
    """"bound", or the errno's name bind() failed with."""
    try:
        listener(port, reuse=reuse).close()
        return "bound"
    except OSError as exc:
        return errno.errorcode.get(exc.errno, str(exc.errno))


def time_wait(args):
    """The side that closes first keeps the connection in TIME_WAIT; binding its port again needs SO_REUSEADDR
    (on Linux, set on the old listener as well as on the new one: servers set it always, before bind())."""
    port, waiting = closed_first(reuse=True)
    plain = bind_again(port, reuse=False)
    both = bind_again(port, reuse=True)
    old_port, old_waiting = closed_first(reuse=False)  # the old listener without it, the new one with it
    return {"port": port, "ss_time_wait": waiting, "bind_again": plain, "bind_again_with_so_reuseaddr": both,
            "old_without_reuseaddr": {"port": old_port, "ss_time_wait": old_waiting,
                                      "bind_again_with_so_reuseaddr": bind_again(old_port, reuse=True)}}


def one_recv_server(server, reply, said, finished):
    """The course's server for one command: ONE recv(1024), the output sent as it is, the connection kept
    open for the next command until the client is finished."""
    conn, _ = server.accept()
    time.sleep(0.2)             # busy a moment: what the client sent meanwhile piles up in the buffer
    command = conn.recv(1024)
    said.append(command.decode())
    done = subprocess.run(command.decode(), shell=True, capture_output=True)
    conn.sendall(reply(done))
    finished.wait(10)
    conn.close()


def empty_reply(args):
    """The course's server sends a command's output as it is: for `true` that is nothing, and the client's
    recv() waits for bytes that never come."""
    server, said, finished = listener(), [], threading.Event()
    threading.Thread(target=one_recv_server, args=(server, lambda done: done.stdout + done.stderr, said, finished),
                     daemon=True).start()
    client = socket.create_connection(server.getsockname())
    client.settimeout(2.0)
    client.sendall(b"true")
    started = time.monotonic()
    try:
        got = client.recv(1024).decode()
        outcome = "replied" if got else "closed"
    except socket.timeout:
        outcome = "still waiting after 2 s"
    finished.set()
    return {"command": said, "outcome": outcome, "waited_s": round(time.monotonic() - started, 2)}


def merged_commands(args):
    """Two commands sent quickly reach the server's one recv(1024) together: 粘包 the other way round."""
    server, said, finished = listener(), [], threading.Event()
    threading.Thread(target=one_recv_server, args=(server, lambda done: done.stdout + done.stderr or b"\n", said,
                                                   finished), daemon=True).start()
    client = socket.create_connection(server.getsockname())
    client.sendall(b"pwd")
    client.sendall(b"ls")
    client.settimeout(5)
    reply = client.recv(1024).decode(errors="replace").strip()
    finished.set()
    return {"sent": ["pwd", "ls"], "server_received": said, "reply": reply}


def run(argv):
    parser = argparse.ArgumentParser(prog="nodes.socklife")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("eof").set_defaults(handler=eof)
    commands.add_parser("time-wait").set_defaults(handler=time_wait)
    commands.add_parser("empty-reply").set_defaults(handler=empty_reply)
    commands.add_parser("merged-commands").set_defaults(handler=merged_commands)
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    program.main(run)
