"""The client of udp_server.py: each word one datagram, each reply awaited for one second.
udp_server.py 的客户端：每个单词一个数据报，每个回复最多等一秒。

    socklab run client1 workspace/udp_client.py server 9200 hello world
"""
import socket
import sys

host, port, words = sys.argv[1], int(sys.argv[2]), sys.argv[3:] or ["hello"]

client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
client.settimeout(1.0)
for word in words:
    client.sendto(word.encode("utf-8"), (host, port))
    try:
        data, server_addr = client.recvfrom(1024)
        print(data.decode("utf-8"))
    except socket.timeout:
        print(f"{word}: no reply within 1 s (lost?)")
client.close()
