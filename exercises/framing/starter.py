"""framing: echo each length-prefixed message back, framed the same way.  python3 starter.py PORT
framing：把每条带长度报头的消息回显回去，按同样的方式加报头。运行：python3 starter.py PORT

Protocol (see README.md): a message is a 4-byte unsigned length in network byte order (struct format
"!I"), then that many bytes. Echo each one back the same way, in order, until the client closes. Serve
several clients at once.
协议（见 README.zh-CN.md）：一条消息是一个 4 字节、网络字节序的无符号长度（struct 格式 "!I"），后面紧跟这么多
字节。把每条消息按同样的方式发回去，保持顺序，直到客户端关闭连接。同时服务多个客户端。
"""
import socket
import struct
import sys


def main():
    port = int(sys.argv[1])
    with socket.create_server(("", port)) as server:
        while True:
            conn, peer = server.accept()
            # TODO: read a 4-byte length, then exactly that many bytes (recv may return fewer!),
            # send them back with the same header; repeat until recv returns b"". Serve clients concurrently.
            # TODO：先读 4 字节的长度，再正好读这么多字节（recv 可能返回得更少！），
            # 加上同样的报头发回去；一直重复，直到 recv 返回 b""。同时服务多个客户端。
            conn.close()


if __name__ == "__main__":
    main()
