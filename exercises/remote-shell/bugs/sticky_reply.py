"""remote-shell, a typical bug: the header counts characters, not bytes: run each command sent and reply with its stdout, stderr and exit code.

    python3 reference.py PORT

Request: a 4-byte "!I" length, then the command (UTF-8). Reply: a 4-byte "!I" length of a JSON header
{"stdout": N, "stderr": M, "exit_code": K}, the header, then N bytes of stdout and M bytes of stderr.
"""
import json
import socket
import struct
import subprocess
import sys
import threading

LENGTH = struct.Struct("!I")


def recv_exactly(conn, n):
    """Exactly n bytes, or None if the peer closed first: recv() may return fewer than asked."""
    data = bytearray()
    while len(data) < n:
        chunk = conn.recv(min(n - len(data), 65536))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def execute(command):
    # communicate() reads stdout and stderr together: neither pipe can fill up and block the command
    done = subprocess.run(command, shell=True, capture_output=True, text=True)
    header = json.dumps({"stdout": len(done.stdout), "stderr": len(done.stderr),
                         "exit_code": done.returncode}).encode()
    # BUG: len() of text counts characters; a character can take several bytes
    return LENGTH.pack(len(header)) + header + done.stdout.encode() + done.stderr.encode()


def serve(conn, peer):
    with conn:
        try:
            while (head := recv_exactly(conn, LENGTH.size)) is not None:
                command = recv_exactly(conn, LENGTH.unpack(head)[0])
                if command is None:
                    return
                conn.sendall(execute(command.decode(errors="replace")))
        except OSError as exc:
            print(f"{peer}: {exc}", file=sys.stderr)


def main():
    port = int(sys.argv[1])
    with socket.create_server(("", port)) as server:
        while True:
            conn, peer = server.accept()
            threading.Thread(target=serve, args=(conn, peer), daemon=True).start()


if __name__ == "__main__":
    main()
