"""The client of ssh_server.py: type a command, see its output — with the course's recv(1024).
ssh_server.py 的客户端：输入一条命令，看它的输出——用的是课程里的 recv(1024)。

    socklab run client1 workspace/ssh_client.py server 9300            (then type: seq 1 2000, then: pwd)
    echo 'seq 1 2000
    pwd' | socklab run client1 workspace/ssh_client.py server 9300     (the same, from a pipe)

（第一行：运行后先输入 seq 1 2000，再输入 pwd；后两行是同样的操作，命令从管道输入。）

What to look for: after a command whose output is longer than 1024 bytes, every answer is late — the
reply you see belongs to the command before. 粘包: TCP is a stream of bytes, not of messages.
要注意看什么：一条输出超过 1024 字节的命令之后，每个回答都晚了一步——你看到的回复属于前一条命令。
粘包：TCP 传的是字节流，不是一条条消息。
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
    # (only so that a piped list of commands shows the bug the same way every time)
    # （只是为了让从管道输入的一串命令每次都以同样的方式重现这个 bug）
    time.sleep(0.2)
    # BUG: at most 1024 bytes, and no way to know how many belong to this answer
    # BUG：最多 1024 字节，而且无从知道其中多少属于这一条命令的回答
    data = phone.recv(1024)
    print(f"$ {cmd}\n{data.decode('utf-8', errors='replace')}", flush=True)
phone.close()
