"""concurrent-server: reply to every line with the same line upper-cased.  python3 starter.py PORT
concurrent-server：每收到一行，就回复同一行的大写形式。运行：python3 starter.py PORT

Protocol (see README.md): lines of UTF-8 text ending in "\n"; for each one received, send it back
upper-cased. Many clients at once; one that sends nothing, or half a line and vanishes, must not disturb
the others.
协议（见 README.zh-CN.md）：以 "\n" 结尾的 UTF-8 文本行；每收到一行，就把它转成大写发回去。同时服务多个客户端；
一个什么都不发的客户端，或者发了半行就消失的客户端，都不能影响其他客户端。
"""
import socket
import sys


def main():
    port = int(sys.argv[1])
    with socket.create_server(("", port)) as server:
        while True:
            conn, peer = server.accept()
            # TODO: serve this connection without keeping the others waiting (threads? selectors?)
            # TODO：服务这个连接，同时不让其他连接等着（用线程？用 selectors？）
            conn.close()


if __name__ == "__main__":
    main()
