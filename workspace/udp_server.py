"""The same echo over UDP (SOCK_DGRAM): no listen(), no accept(), no connection — a datagram each time.
同样的回显，改用 UDP（SOCK_DGRAM）：没有 listen()，没有 accept()，没有连接——每次一个数据报。

    socklab run -d server workspace/udp_server.py 9200
    socklab run client1 workspace/udp_client.py server 9200 hello world

What to look for: each recvfrom() returns exactly one datagram, and tells who sent it; nothing is merged.
Add loss (`socklab impair client1 --loss 30%`) and some datagrams simply never arrive: UDP does not resend.
要注意看什么：每次 recvfrom() 正好返回一个数据报，并告诉你是谁发来的；什么都不会粘在一起。加上丢包
（`socklab impair client1 --loss 30%`），有些数据报就再也到不了：UDP 不会重发。
"""
import socket
import sys

port = int(sys.argv[1]) if len(sys.argv) > 1 else 9200

server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
server.bind(("", port))
print(f"listening on port {port} (UDP)", flush=True)
while True:
    data, client_addr = server.recvfrom(1024)
    print("from", client_addr, data, flush=True)
    server.sendto(data.upper(), client_addr)
