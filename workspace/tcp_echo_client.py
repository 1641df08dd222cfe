"""简单的通信 — the client of tcp_echo_server.py.

    socklab run client1 workspace/tcp_echo_client.py server 9100 hello world

Sends each word as a message and prints the reply. With `socklab impair server --delay 50ms` each reply
comes 50 ms later (`socklab clear server` lifts it).
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
