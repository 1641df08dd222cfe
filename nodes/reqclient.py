"""N clients at once against nodes.reqserver, each timing its own request.

    python3 -m nodes.reqclient HOST [--port P] [--clients N] [--request 'io 200'] [--at EPOCH]
    python3 -m nodes.reqclient HOST --abuse         garbage, a vanishing and a stalled client, then a good one

Result: {"latencies_ms": [...], "servers": [pid/thread that answered], "started_ms": [when each request
began, after the first], "seconds": wall time}.
"""
import argparse
import socket
import threading
import time

from nodes.lib import ports, program


def one(host, port, request, out, index, clock):
    started = time.monotonic()
    with socket.create_connection((host, port), timeout=60) as sock:
        sock.sendall(request.encode() + b"\n")
        answer = sock.makefile("rb").readline().decode().split()
    if not answer or answer[0] != "ok":
        raise program.ProgramError(f"server answered {' '.join(answer)!r}")
    out[index] = (round((time.monotonic() - started) * 1000, 1), f"{answer[1]}/{answer[2]}",
                  round((started - clock) * 1000, 1))


def abuse(host, port):
    """Garbage, a client that vanishes mid-request and one that stalls; then is a good request still served?"""
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(b"GET / HTTP/1.0\n")
        garbage_reply = sock.makefile("rb").readline().decode().strip()
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(b"io 300\n")  # and gone before the answer
    stalled = socket.create_connection((host, port), timeout=30)  # says nothing
    started = time.monotonic()
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(b"io 10\n")
        good_reply = sock.makefile("rb").readline().decode().strip()
    latency = round((time.monotonic() - started) * 1000, 1)
    stalled.close()
    return {"garbage_reply": garbage_reply, "good_reply": good_reply.split()[0] if good_reply else "",
            "good_latency_ms": latency}


def run(argv):
    parser = argparse.ArgumentParser(prog="nodes.reqclient")
    parser.add_argument("host")
    parser.add_argument("--port", type=int, default=ports.REQSERVER)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--request", default="io 200")
    parser.add_argument("--at", type=float, default=None, help="wall-clock start (seconds since the epoch)")
    parser.add_argument("--abuse", action="store_true", help="send garbage, vanish, stall; then one good request")
    args = parser.parse_args(argv)
    if args.abuse:
        return abuse(args.host, args.port)
    out = [None] * args.clients
    time.sleep(max(0.0, (args.at or 0) - time.time()))
    started = time.monotonic()
    threads = [threading.Thread(target=one, args=(args.host, args.port, args.request, out, i, started))
               for i in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if None in out:
        raise program.ProgramError(f"{out.count(None)} of {args.clients} requests failed")
    return {"latencies_ms": [o[0] for o in out], "servers": [o[1] for o in out],
            "started_ms": [o[2] for o in out], "seconds": round(time.monotonic() - started, 3)}


if __name__ == "__main__":
    program.main(run)
