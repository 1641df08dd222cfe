"""event-loop: the upper-casing line server in one thread, on selectors.  python3 starter.py PORT
event-loop：把每行转成大写的服务端，只用一个线程，基于 selectors。运行：python3 starter.py PORT

Protocol (see README.md): lines of UTF-8 text ending in "\n"; for each one received, send it back
upper-cased. One thread of one process serves 1,100 connections at once; a client that never reads its
replies must not hold up the others.
协议（见 README.zh-CN.md）：以 "\n" 结尾的 UTF-8 文本行；每收到一行，就把它转成大写发回去。一个进程的一个线程
同时服务 1,100 个连接；一个从不读取回复的客户端不能拖住其他客户端。
"""
import selectors
import socket
import sys


class Connection:
    """One client's socket and its two buffers. 一个客户端的套接字和它的两个缓冲区。"""

    def __init__(self, sock):
        self.sock = sock
        self.inbox = bytearray()   # what came in, a half line at its end / 收到的数据，末尾可能有半行
        self.outbox = bytearray()  # what send() has not taken yet / send() 还没有发出去的数据


def handle(selector, connection, mask):
    """One ready connection's turn: never wait here. 一个就绪连接的一轮处理：这里绝不等待。"""
    # TODO: readable (mask & EVENT_READ): recv(); b"" means the client closed (unregister, close);
    #       every whole line goes to connection.outbox upper-cased
    # TODO：可读（mask & EVENT_READ）：recv()；返回 b"" 表示客户端关闭了（注销、关闭）；
    #       每个完整的行转成大写放进 connection.outbox
    # TODO: writable (mask & EVENT_WRITE): send() the outbox, delete what was sent; never sendall()
    # TODO：可写（mask & EVENT_WRITE）：send() 发送 outbox，删掉已经发出去的部分；不要用 sendall()
    # TODO: wait for EVENT_WRITE only while the outbox holds something (selector.modify)
    # TODO：只在 outbox 里有数据时才等待 EVENT_WRITE（selector.modify）
    # TODO: an OSError from one connection ends that connection only
    # TODO：一个连接的 OSError 只结束这个连接


def main():
    selector = selectors.DefaultSelector()  # epoll on Linux: any descriptor number / Linux 上是 epoll：描述符编号不受限制
    server = socket.create_server(("", int(sys.argv[1])), backlog=128)
    server.setblocking(False)
    selector.register(server, selectors.EVENT_READ)
    while True:
        for key, mask in selector.select():  # sleeps until a socket is ready / 睡眠，直到有套接字就绪
            if key.fileobj is server:
                conn, peer = server.accept()
                conn.setblocking(False)
                # TODO: register conn for reading, with a Connection(conn) as its data
                # TODO：注册 conn（等待可读），并把 Connection(conn) 作为它的 data
                conn.close()
            else:
                handle(selector, key.data, mask)


if __name__ == "__main__":
    main()
