"""Commands over real SSH with paramiko (Debian's), for comparison with execd's framed protocol.

    python3 -m nodes.sshexec HOST [--user root] [--repeat N] 'CMD' 'CMD' ...

Key authentication with this node's key; the server's host key must already be in known_hosts (put there
from the server itself): an unknown or changed key is refused, never added blindly. One JSON line in the
shape of `nodes.rexec --json`.
"""
import argparse
import hashlib
import os
import socket
import threading
import time

import paramiko

from nodes.lib import program

KEY = os.path.expanduser("~/.ssh/id_ed25519")
KNOWN_HOSTS = os.path.expanduser("~/.ssh/known_hosts")


def execute(transport, command):
    """(exit code, stdout, stderr) of one command, both streams read at once."""
    channel = transport.open_session()
    channel.exec_command(command)
    stderr = []
    reader = threading.Thread(target=lambda: stderr.append(channel.makefile_stderr("rb").read()))
    reader.start()
    stdout = channel.makefile("rb").read()
    reader.join()
    code = channel.recv_exit_status()
    channel.close()
    return code, stdout, stderr[0]


def run(argv):
    parser = argparse.ArgumentParser(prog="nodes.sshexec")
    parser.add_argument("host")
    parser.add_argument("--user", default="root")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("commands", nargs="+")
    args = parser.parse_args(argv)
    client = paramiko.SSHClient()
    client.load_host_keys(KNOWN_HOSTS)
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    try:
        sock = socket.create_connection((args.host, 22), timeout=10)
        # as OpenSSH's client does: without it, each small write waits for the server's delayed ACK (Nagle),
        # ~40 ms a command
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client.connect(args.host, username=args.user, key_filename=KEY, sock=sock, look_for_keys=False,
                       allow_agent=False, timeout=10)
    except (paramiko.SSHException, OSError) as exc:
        raise program.ProgramError(f"ssh to {args.host}: {exc}") from None
    results = []
    with client:
        transport = client.get_transport()
        for command in args.commands:
            times = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                code, stdout, stderr = execute(transport, command)
                times.append(round(time.perf_counter() - started, 6))
            results.append({"command": command, "exit_code": code, "stdout_size": len(stdout),
                            "stderr_size": len(stderr), "received_stdout_sha256": hashlib.sha256(stdout).hexdigest(),
                            "received_stderr_sha256": hashlib.sha256(stderr).hexdigest(),
                            "stdout_head": stdout[:80].decode(errors="replace"), "round_trip_s": times})
    return {"protocol": "ssh", "results": results}


if __name__ == "__main__":
    program.main(run)
