"""remote-shell: run the commands a client sends and reply with their output.  python3 starter.py PORT
remote-shell：执行客户端发来的命令，把它们的输出作为回复发回去。运行：python3 starter.py PORT

Protocol (see README.md). Request: a 4-byte "!I" length, then the command as UTF-8. Reply: a 4-byte "!I"
length of a JSON header {"stdout": N, "stderr": M, "exit_code": K}, the header, then N bytes of stdout and
M bytes of stderr. One connection carries any number of commands; serve several clients at once.
协议（见 README.zh-CN.md）。请求：一个 4 字节的 "!I" 长度，然后是 UTF-8 编码的命令。回复：一个 4 字节的 "!I"
长度，表示 JSON 报头 {"stdout": N, "stderr": M, "exit_code": K} 的长度；然后是报头，再然后是 N 字节的 stdout 和
M 字节的 stderr。一个连接可以承载任意多条命令；同时服务多个客户端。
"""
import socket
import subprocess
import sys


def main():
    port = int(sys.argv[1])
    with socket.create_server(("", port)) as server:
        while True:
            conn, peer = server.accept()
            # TODO: read the length and the command (loop: recv may return fewer bytes), run it with
            # subprocess (both pipes at once!), send the framed header, stdout and stderr; repeat.
            # TODO：读出长度和命令（要用循环：recv 可能返回更少的字节），用 subprocess 执行它
            # （同时读两个管道！），再把报头、stdout 和 stderr 按带报头协议发回去；如此重复。
            conn.close()


if __name__ == "__main__":
    main()
