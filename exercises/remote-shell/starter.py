"""remote-shell: run the commands a client sends and reply with their output.  python3 starter.py PORT

Protocol (see README.md). Request: a 4-byte "!I" length, then the command as UTF-8. Reply: a 4-byte "!I"
length of a JSON header {"stdout": N, "stderr": M, "exit_code": K}, the header, then N bytes of stdout and
M bytes of stderr. One connection carries any number of commands; serve several clients at once.
"""
import socket
import subprocess
import sys


def main():
    port = int(sys.argv[1])
    with socket.create_server(("", port)) as server:
        while True:
            conn, peer = server.accept()
            # TODO: read the length and the command (loop: recv may return fewer bytes), run it with
            # subprocess (both pipes at once!), send the framed header, stdout and stderr; repeat.
            conn.close()


if __name__ == "__main__":
    main()
