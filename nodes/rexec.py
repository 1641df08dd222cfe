"""rexec: the client of execd, with its command from sys.argv.

    python3 -m nodes.rexec HOST [--naive] -- CMD ARGS...     run one command, like ssh: its stdout and stderr
                                                           go to ours, its exit code becomes ours
    python3 -m nodes.rexec HOST [--naive] --interactive      a prompt; one command a line
    python3 -m nodes.rexec HOST [--naive] --json [--repeat N] [--runner system] 'CMD' 'CMD' ...
                                                           the commands in order on one connection; one
                                                           JSON line with what each returned (for scenarios)

--naive talks the course's protocol: one recv(1024) per reply, so a long output's rest comes back as the
answer to the next command.
"""
import argparse
import hashlib
import shlex
import socket
import sys
import time

from nodes.lib import execproto, framing, keys, program


class Session:
    """One authenticated connection to execd."""

    def __init__(self, host, port, key, naive=False, timeout=60):
        self.naive, self.timeout = naive, timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        (execproto.naive_client_handshake if naive else execproto.client_handshake)(self.sock, key)
        # where the naive commands and replies start in each direction's stream, past the handshake (a replay
        # ties each to the packets that carried it): the MAC out; the nonce and "OK" in
        self.sent, self.received = hashlib.sha256().digest_size, execproto.NONCE_BYTES + 2

    def run(self, command, runner="popen"):
        """The framed protocol: (result header, stdout, stderr)."""
        framing.send_frame(self.sock, kind="exec", command=command, timeout=self.timeout, runner=runner)
        reply = framing.read_frame(self.sock, timeout=self.timeout)
        if reply is None:
            raise program.ProgramError("execd closed the connection")
        if reply.kind != "result":
            raise program.ProgramError(f"execd: {reply.header.get('reason', reply.kind)}")
        split = reply.header["stdout_size"]
        return reply.header, bytes(reply.body[:split]), bytes(reply.body[split:])

    def run_naive(self, command):
        """The course's client: send the command, take what one recv(1024) gives as its reply."""
        self.sock.sendall(command.encode())
        self.sent += len(command.encode())
        reply = self.sock.recv(1024)
        self.received += len(reply)
        return reply

    def close(self):
        self.sock.close()


def sha(data):
    return hashlib.sha256(data).hexdigest()


def one(session, command):
    if session.naive:
        sys.stdout.buffer.write(session.run_naive(command))
        return 0
    header, stdout, stderr = session.run(command)
    sys.stdout.buffer.write(stdout)
    sys.stderr.buffer.write(stderr)
    return header["exit_code"]


def interactive(session, host):
    while True:
        try:
            line = input(f"{host}$ ").strip()
        except EOFError:
            print()
            return 0
        if line in ("exit", "quit"):
            return 0
        if line:
            one(session, line)
            sys.stdout.flush()


def as_json(session, commands, repeat, runner):
    results = []
    for command in commands:
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            if session.naive:
                sent_at, sent_offset, reply_offset = time.time(), session.sent, session.received
                reply = session.run_naive(command)
                times.append(time.perf_counter() - started)
                entry = {"command": command, "reply_size": len(reply), "reply_sha256": sha(reply),
                         "reply_head": reply[:80].decode(errors="replace"), "sent_at": round(sent_at, 6),
                         "sent_offset": sent_offset, "sent_bytes": len(command.encode()),
                         "replied_at": round(time.time(), 6), "reply_offset": reply_offset}
                continue
            header, stdout, stderr = session.run(command, runner)
            times.append(time.perf_counter() - started)
            entry = {"command": command, **header, "received_stdout_sha256": sha(stdout),
                     "received_stderr_sha256": sha(stderr),
                     "intact": runner == "system" or (sha(stdout) == header["stdout_sha256"]
                                                       and sha(stderr) == header["stderr_sha256"]),
                     "stdout_head": stdout[:80].decode(errors="replace"),
                     "stderr_head": stderr[:80].decode(errors="replace")}
        entry["round_trip_s"] = [round(t, 6) for t in times]
        results.append(entry)
    return {"protocol": "naive" if session.naive else "framed", "port": session.sock.getsockname()[1],
            "results": results}


def run(argv):
    parser = argparse.ArgumentParser(prog="nodes.rexec")
    parser.add_argument("host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--naive", action="store_true", help="the course's unframed protocol (unsafe)")
    parser.add_argument("--key", default=keys.EXECD)
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--interactive", action="store_true")
    parser.add_argument("--json", action="store_true", help="each argument is one command; print one JSON line")
    parser.add_argument("--repeat", type=int, default=1, help="with --json: run each command this many times")
    parser.add_argument("--runner", choices=["popen", "system"], default="popen")
    parser.add_argument("command", nargs="*", help="after --: the command and its arguments")
    args = parser.parse_intermixed_args(argv)
    command = args.command
    if not (command or args.interactive):
        parser.error("give a command after --, or --interactive")
    port = args.port or (execproto.NAIVE_PORT if args.naive else execproto.FRAMED_PORT)
    session = Session(args.host, port, execproto.load_key(args.key), args.naive, args.timeout)
    try:
        if args.json:
            return as_json(session, command, args.repeat, args.runner)
        code = interactive(session, args.host) if args.interactive else one(session, shlex.join(command))
    finally:
        session.close()
    sys.exit(code)


if __name__ == "__main__":
    program.main(run)
