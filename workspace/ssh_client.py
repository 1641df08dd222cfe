"""The client of ssh_server.py: type a command, see its output — with the course's recv(1024).

    socklab run client1 workspace/ssh_client.py server 9300            (then type: seq 1 2000, then: pwd)
    echo 'seq 1 2000
    pwd' | socklab run client1 workspace/ssh_client.py server 9300     (the same, from a pipe)

What to look for: after a command whose output is longer than 1024 bytes, every answer is late — the
reply you see belongs to the command before. 粘包: TCP is a stream of bytes, not of messages.
"""
import socket
import sys
import time

host, port = sys.argv[1], int(sys.argv[2])

phone = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
phone.connect((host, port))
for line in sys.stdin:
    cmd = line.strip()
    if not cmd:
        continue
    phone.send(cmd.encode("utf-8"))
    time.sleep(0.2)  # (only so that a piped list of commands shows the bug the same way every time)
    data = phone.recv(1024)  # BUG: at most 1024 bytes, and no way to know how many belong to this answer
    print(f"$ {cmd}\n{data.decode('utf-8', errors='replace')}", flush=True)
phone.close()
