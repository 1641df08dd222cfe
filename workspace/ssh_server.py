"""模拟ssh远程命令 — the homemade "ssh" server of the course: run a command, send back its output.
模拟ssh远程命令——课程里自己写的 “ssh” 服务端：执行一条命令，把它的输出发回去。

    socklab run -d server workspace/ssh_server.py 9300
    socklab run client1 workspace/ssh_client.py server 9300

It uses subprocess.Popen with pipes (not os.system, which would only return a status and print the
output here, on the server). THE BUG IS LEFT IN ON PURPOSE: the output goes back with no 报头 (header)
saying how long it is, and the client reads it with one recv(1024). Run `seq 1 2000` (more than 1024
bytes), then `pwd`: the answer to pwd is the rest of seq's output. That is 粘包 (sticky packets). The fix
is a length header — struct.pack("!I", len(data)) before the data, and a loop that reads exactly that many
bytes; the lab's own nodes/lib/framing.py does it, and `socklab check` will grade yours.

它用的是带管道的 subprocess.Popen（而不是 os.system：os.system 只返回一个终止状态，输出则打印在这里，也就是
服务端上）。这个 BUG 是故意留着的：输出发回去时前面没有报头说明它有多长，而客户端只用一次 recv(1024) 去读。
先运行 `seq 1 2000`（超过 1024 字节），再运行 `pwd`：pwd 的回答是 seq 输出剩下的部分。这就是粘包。解决办法是
长度报头——在数据前面加上 struct.pack("!I", len(data))，再用一个循环正好读这么多字节；实验环境自己的
nodes/lib/framing.py 就是这么做的，`socklab check` 会给你写的版本打分。
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
            # one recv: a long command, or two sent quickly, is cut or merged here too
            # 只 recv 一次：太长的命令，或者紧挨着发来的两条命令，在这里同样会被截断或粘在一起
            cmd = conn.recv(1024)
            # the client closed the connection
            # 客户端关闭了连接
            if not cmd:
                break
            res = subprocess.Popen(cmd.decode("utf-8"), shell=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            # both pipes at once: reading one, then the other, can deadlock
            # 同时读两个管道：先把一个读完再读另一个，可能死锁
            stdout, stderr = res.communicate()
            # BUG: no header, the client cannot tell where it ends
            # BUG：没有报头，客户端无从知道回复在哪里结束
            conn.send(stdout + stderr or b"(no output)\n")
        # the client went away with replies unread: serve the next one
        # 客户端没读完回复就走了：接着服务下一个客户端
        except ConnectionResetError:
            break
    print("disconnected:", client_addr, flush=True)
    conn.close()
