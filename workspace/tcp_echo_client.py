"""简单的通信 — the client of tcp_echo_server.py.
简单的通信——tcp_echo_server.py 的客户端。

    socklab run client1 workspace/tcp_echo_client.py server 9100 hello world

Sends each word as a message and prints the reply. With `socklab impair server --delay 50ms` each reply
comes 50 ms later (`socklab clear server` lifts it).
把每个单词作为一条消息发出去，并打印回复。执行 `socklab impair server --delay 50ms` 之后，每个回复都晚到 50 ms
（`socklab clear server` 撤掉延迟）。
"""
import socket
import sys
import time

host, port, words = sys.argv[1], int(sys.argv[2]), sys.argv[3:] or ["hello"]

phone = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
phone.connect((host, port))
for word in words:
    started = time.monotonic()
    phone.send(word.encode("utf-8"))
    data = phone.recv(1024)
    print(data.decode("utf-8"), f"({(time.monotonic() - started) * 1000:.1f} ms)")
phone.close()
