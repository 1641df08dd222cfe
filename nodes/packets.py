"""Frames read layer by layer: a live one from a raw socket, and TCP segments from a tcpdump capture.

    python3 -m nodes.packets capture --port P [--proto tcp|udp] [--timeout S]
    python3 -m nodes.packets segments FILE.pcap --port P

`capture` opens an AF_PACKET / SOCK_RAW socket — the third socket type: whole Ethernet frames, headers
and all — says `listening` on stderr, and dissects the first frame sent to port P that carries a payload.
`segments` lists the TCP segments with payload sent to port P in a pcap file, in capture order.
"""
import argparse
import socket
import sys
import time

from nodes.lib import program
from nodes.lib.frames import ETH_P_ALL, dissect, pcap_frames


def capture(args):
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL)) as sock:
        sock.settimeout(args.timeout)
        print("listening", file=sys.stderr, flush=True)
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            try:
                frame = sock.recv(65535)
            except socket.timeout:
                break
            layers = dissect(frame)
            transport = layers and layers.get(args.proto)
            if transport and transport["dst_port"] == args.port and layers["payload"]["bytes"]:
                return layers
    raise program.ProgramError(f"no {args.proto} frame with a payload to port {args.port} in {args.timeout} s")


def segments(args):
    with open(args.file, "rb") as f:
        data = f.read()
    found, first_seq = [], None
    for frame in pcap_frames(data):
        layers = dissect(frame)
        if layers and "tcp" in layers and layers["tcp"]["dst_port"] == args.port and layers["payload"]["bytes"]:
            seq = layers["tcp"]["seq"]
            first_seq = seq if first_seq is None else first_seq
            found.append({"offset": (seq - first_seq) % 2**32, "bytes": layers["payload"]["bytes"],
                          "flags": layers["tcp"]["flags"]})
    return {"segments": found}


def run(argv):
    parser = argparse.ArgumentParser(prog="nodes.packets")
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("capture")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--proto", choices=["tcp", "udp"], default="tcp")
    p.add_argument("--timeout", type=float, default=10)
    p.set_defaults(handler=capture)
    p = commands.add_parser("segments")
    p.add_argument("file")
    p.add_argument("--port", type=int, required=True)
    p.set_defaults(handler=segments)
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    program.main(run)
