"""file-transfer, a typical bug: json.loads of what one recv(1024) returned, after the length.

    python3 json_after_recv_1024.py PORT DIR

Like the reference, but a request is read with one recv(1024) and everything after its 4-byte length
is taken for the JSON header: when the file's first bytes came in the same recv() (粘包), json.loads
fails ("Extra data"), and they are lost.
"""
import hashlib
import json
import os
import socket
import struct
import sys
import tempfile
import threading

PREFIX = struct.Struct("!I")  # 4 bytes, network byte order (big-endian), unsigned
CHUNK = 64 * 1024


class Refused(Exception):
    """A request the server refuses: the text goes back as its error, and the connection goes on."""
    ends = False


class Unreadable(Refused):
    """A request whose bytes cannot be followed: the error goes back, then the connection ends."""
    ends = True


def read_header(conn):
    """The next request's header (a dict), or None when the client closed between requests."""
    data = conn.recv(1024)
    if not data:
        return None
    try:
        header = json.loads(data[PREFIX.size:])  # BUG: the file's first bytes may be in data too
    except ValueError as exc:
        raise Unreadable(f"the header is not JSON: {exc}") from None
    if not isinstance(header, dict):
        raise Unreadable("the header is not a JSON object")
    return header


def send(conn, header):
    data = json.dumps(header).encode()
    conn.sendall(PREFIX.pack(len(data)) + data)


def path_of(directory, name):
    """DIR/NAME for a plain file name; Refused for anything else: never trust a name from the network."""
    if not isinstance(name, str) or name in ("", ".", "..") or "/" in name or "\0" in name:
        raise Refused(f"not a plain file name: {name!r}")
    return os.path.join(directory, name)


def stream(conn, size, out):
    """Move `size` bytes from conn to the file out, piece by piece; their MD5."""
    digest, left = hashlib.md5(), size
    while left:
        chunk = conn.recv(min(left, CHUNK))
        if not chunk:
            raise ConnectionError(f"closed after {size - left} of {size} bytes")
        digest.update(chunk)
        out.write(chunk)
        left -= len(chunk)
    return digest.hexdigest()


def put(conn, directory, header):
    """Store the upload under a temporary name; give it its own name only once its MD5 matched."""
    size = header.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise Unreadable(f"size {size!r} is not a byte count")
    try:
        path = path_of(directory, header.get("filename"))
    except Refused:
        with open(os.devnull, "wb") as nowhere:
            stream(conn, size, nowhere)  # read past the refused bytes: the next request follows them
        raise
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            digest = stream(conn, size, out)
        if digest != header.get("md5"):
            raise Refused(f"MD5 {digest} does not match the header's {header.get('md5')}")
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    send(conn, {"ok": True})


def get(conn, directory, header):
    """The file's size and MD5, then its bytes, read twice through one open file (a rename meanwhile
    does not mix two files)."""
    path = path_of(directory, header.get("filename"))
    try:
        source = open(path, "rb")
    except OSError:
        raise Refused(f"no such file: {header.get('filename')}") from None
    with source:
        digest, size = hashlib.md5(), 0
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
        send(conn, {"ok": True, "size": size, "md5": digest.hexdigest()})
        source.seek(0)
        while size and (chunk := source.read(min(size, CHUNK))):
            conn.sendall(chunk)
            size -= len(chunk)


def handle(conn, directory, header):
    handler = {"put": put, "get": get}.get(header.get("cmd"))
    if handler is None:
        raise Refused(f"unknown cmd {header.get('cmd')!r}")
    handler(conn, directory, header)


def serve(conn, peer, directory):
    """One client's requests, until it closes; its errors end its connection only."""
    with conn:
        try:
            while True:
                try:
                    header = read_header(conn)
                    if header is None:
                        return
                    handle(conn, directory, header)
                except Refused as exc:
                    send(conn, {"ok": False, "error": str(exc)})
                    if exc.ends:
                        return
        except OSError as exc:
            print(f"{peer}: {exc}", file=sys.stderr)


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    with socket.create_server(("", port)) as server:
        while True:
            conn, peer = server.accept()
            threading.Thread(target=serve, args=(conn, peer, directory), daemon=True).start()


if __name__ == "__main__":
    main()
