"""模拟ssh远程命令 — the homemade "ssh" server of the course: run a command, send back its output.

    socklab run -d server workspace/ssh_server.py 9300
    socklab run client1 workspace/ssh_client.py server 9300

It uses subprocess.Popen with pipes (not os.system, which would only return a status and print the
output here, on the server). THE BUG IS LEFT IN ON PURPOSE: the output goes back with no 报头 (header)
saying how long it is, and the client reads it with one recv(1024). Run `seq 1 2000` (more than 1024
bytes), then `pwd`: the answer to pwd is the rest of seq's output. That is 粘包 (sticky packets). The fix
is a length header — struct.pack("!I", len(data)) before the data, and a loop that reads exactly that many
bytes; the lab's own nodes/lib/framing.py does it, and `socklab check` will grade yours.
"""
import socket
import subprocess
import sys

port = int(sys.argv[1]) if len(sys.argv) > 1 else 9300

phone = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
phone.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
phone.bind(("", port))
phone.listen(5)
print(f"listening on port {port}", flush=True)

while True:
    conn, client_addr = phone.accept()
    print("connected:", client_addr, flush=True)
    while True:
        try:
            cmd = conn.recv(1024)  # one recv: a long command, or two sent quickly, is cut or merged here too
            if not cmd:  # the client closed the connection
                break
            res = subprocess.Popen(cmd.decode("utf-8"), shell=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            stdout, stderr = res.communicate()  # both pipes at once: reading one, then the other, can deadlock
            conn.send(stdout + stderr or b"(no output)\n")  # BUG: no header, the client cannot tell where it ends
        except ConnectionResetError:  # the client went away with replies unread: serve the next one
            break
    print("disconnected:", client_addr, flush=True)
    conn.close()
