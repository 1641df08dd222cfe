"""简单的通信 — a TCP echo server, the course's first socket program.
简单的通信——一个 TCP 回显服务端，课程里的第一个套接字程序。

Run it on the server node, then the client on another node:
先在 server 节点上运行它，再在另一个节点上运行客户端：
    socklab run -d server workspace/tcp_echo_server.py 9100
    socklab run client1 workspace/tcp_echo_client.py server 9100 hello
    socklab logs server            # what the server printed · 服务端打印了什么
    socklab stop server

What to look for: the server's address is ("", 9100) — every interface of the server node — and the
client reaches it by the node's name, `server`, through the lab's DNS. One client at a time: while one is
connected, the next waits in the listen() backlog (try two clients at once from client1 and client2).
要注意看什么：服务端的地址是 ("", 9100)——server 节点的所有网络接口——客户端通过实验环境的 DNS，按节点名
`server` 找到它。一次只服务一个客户端：一个客户端连着的时候，下一个只能在 listen() 的等待队列（backlog）里等着
（试试从 client1 和 client2 同时运行两个客户端）。
"""
import socket
import sys

port = int(sys.argv[1]) if len(sys.argv) > 1 else 9100

# 套接字: AF_INET family, SOCK_STREAM = TCP
# 套接字：AF_INET 地址族，SOCK_STREAM 即 TCP
phone = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
# restart at once, without "Address already in use"
# 可以立刻重启，不会报 “Address already in use”
phone.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
phone.bind(("", port))
phone.listen(5)
print(f"listening on port {port}", flush=True)

# 连接循环: one client after another
# 连接循环：一个客户端接一个客户端
while True:
    conn, client_addr = phone.accept()
    print("connected:", client_addr, flush=True)
    # 通信循环: one message after another
    # 通信循环：一条消息接一条消息
    while True:
        data = conn.recv(1024)
        # the client closed: recv() returns b"" — without this check the loop never ends
        # 客户端关闭了连接：recv() 返回 b""——没有这个判断，循环永远不会结束
        if not data:
            break
        print("got:", data, flush=True)
        conn.send(data.upper())
    conn.close()
