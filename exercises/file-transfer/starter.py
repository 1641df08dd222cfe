"""file-transfer: store uploads in DIR and serve downloads from it.  python3 starter.py PORT DIR
file-transfer：把上传的文件存进 DIR，并从 DIR 提供下载。运行：python3 starter.py PORT DIR

Protocol (see README.md): a request is a 4-byte length (struct "!I"), then a JSON header; a reply likewise.
  put: {"cmd": "put", "filename": NAME, "size": N, "md5": HEX} then N bytes -> {"ok": true} once DIR/NAME is
       stored and its MD5 matches, else {"ok": false, "error": TEXT} and no file NAME is left
  get: {"cmd": "get", "filename": NAME} -> {"ok": true, "size": N, "md5": HEX} then N bytes, or ok false
A NAME with "/", or "", "." or "..", is refused. Any number of requests per connection; several clients.
协议（见 README.zh-CN.md）：请求是一个 4 字节的长度（struct "!I"），后面是 JSON 报头；回复也一样。
  put：报头之后是 N 个字节；存好 DIR/NAME 且 MD5 一致才回复 {"ok": true}，否则回复 ok 为 false，且不留下名为 NAME 的文件
  get：回复 {"ok": true, "size": N, "md5": HEX} 再跟 N 个字节；文件不存在时回复 ok 为 false
含 "/" 的 NAME，以及 ""、"."、".."，一律拒绝。一个连接上可以有任意多个请求；同时服务多个客户端。
"""
import hashlib
import json
import os
import socket
import struct
import sys

PREFIX = struct.Struct("!I")


def send(conn, header):
    """Send one reply header: its length, then its JSON. 发送一个回复报头：先长度，再 JSON。"""
    data = json.dumps(header).encode()
    conn.sendall(PREFIX.pack(len(data)) + data)


def serve(conn, directory):
    with conn:
        # TODO: loop over requests until the client closes. Read the 4-byte length, then exactly that many
        # bytes of JSON header (recv may return fewer: loop!), never more: the file's bytes follow it.
        # TODO：循环处理请求，直到客户端关闭。先读 4 字节的长度，再正好读这么多字节的 JSON 报头
        # （recv 可能返回得更少：要循环！），一个字节也不能多读：报头后面紧跟着的是文件的字节。
        # TODO: put: refuse a NAME that is not a plain file name; receive the N bytes piece by piece into a
        # temporary file in DIR, hashlib.md5().update() each piece; os.replace() it to DIR/NAME only if the
        # MD5 matches, else delete it. get: reply the size and MD5, then send the file piece by piece.
        # TODO：put：NAME 不是普通文件名就拒绝；把 N 个字节一块一块地收进 DIR 里的临时文件，每块都
        # hashlib.md5().update()；MD5 一致才用 os.replace() 改名为 DIR/NAME，否则删掉它。
        # get：先回复大小和 MD5，再一块一块地发送文件。
        send(conn, {"ok": False, "error": "not written yet"})


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    with socket.create_server(("", port)) as server:
        while True:
            conn, peer = server.accept()
            # TODO: serve several clients at once: a thread per connection.
            # TODO：同时服务多个客户端：每个连接一个线程。
            serve(conn, directory)


if __name__ == "__main__":
    main()
