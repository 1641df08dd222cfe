"""thread-pool-server: the upper-casing line server, on a fixed pool of 4 threads.  python3 starter.py PORT
thread-pool-server：把每行转成大写的服务端，用固定的 4 个线程组成的线程池来服务。运行：python3 starter.py PORT

Protocol (see README.md): lines of UTF-8 text ending in "\n"; for each one received, send it back
upper-cased. Many clients at once, served by at most 4 worker threads (at most 5 threads in all, with the
main one); a client that vanishes mid-line must not take a worker with it.
协议（见 README.zh-CN.md）：以 "\n" 结尾的 UTF-8 文本行；每收到一行，就把它转成大写发回去。同时服务多个客户端，
但最多只用 4 个工作线程（加上主线程，一共最多 5 个线程）；一个发到半行就消失的客户端不能把工作线程也带走。
"""
import socket
import sys
from concurrent.futures import ThreadPoolExecutor


def serve(conn):
    # TODO: read whole lines from conn and send each back upper-cased, until the client closes
    # TODO：从 conn 读完整的行，把每一行转成大写发回去，直到客户端关闭连接
    conn.close()


def main():
    port = int(sys.argv[1])
    with socket.create_server(("", port)) as server:
        while True:
            conn, peer = server.accept()
            # TODO: hand conn to a pool of 4 threads made once, before this loop
            # TODO：把 conn 交给一个线程池（4 个线程，在这个循环之前就创建好）
            serve(conn)


if __name__ == "__main__":
    main()
