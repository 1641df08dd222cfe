"""简单的通信 — a TCP echo server, the course's first socket program.

Run it on the server node, then the client on another node:
    socklab run -d server workspace/tcp_echo_server.py 9100
    socklab run client1 workspace/tcp_echo_client.py server 9100 hello
    socklab logs server            # what the server printed
    socklab stop server

What to look for: the server's address is ("", 9100) — every interface of the server node — and the
client reaches it by the node's name, `server`, through the lab's DNS. One client at a time: while one is
connected, the next waits in the listen() backlog (try two clients at once from client1 and client2).
"""
import socket
import sys

port = int(sys.argv[1]) if len(sys.argv) > 1 else 9100

phone = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # 套接字: AF_INET family, SOCK_STREAM = TCP
phone.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # restart at once, without "Address already in use"
phone.bind(("", port))
phone.listen(5)
print(f"listening on port {port}", flush=True)

while True:  # 连接循环: one client after another
    conn, client_addr = phone.accept()
    print("connected:", client_addr, flush=True)
    while True:  # 通信循环: one message after another
        data = conn.recv(1024)
        if not data:  # the client closed: recv() returns b"" — without this check the loop never ends
            break
        print("got:", data, flush=True)
        conn.send(data.upper())
    conn.close()
