"""udp-pinger: ping a UDP echo server COUNT times.  python3 starter.py HOST PORT COUNT
udp-pinger：向一个 UDP 回显服务端 ping COUNT 次。运行：python3 starter.py HOST PORT COUNT

Protocol (see README.md): send COUNT pings, waiting at most 1 s for each reply; print `seq N: X ms` or
`seq N: timeout` for each, then `N sent, M received, L% loss, rtt min/avg/max = a/b/c ms`.
协议（见 README.zh-CN.md）：发送 COUNT 次 ping，每个回复最多等 1 s；每次 ping 打印 `seq N: X ms` 或
`seq N: timeout`，最后打印 `N sent, M received, L% loss, rtt min/avg/max = a/b/c ms`。
"""
import socket
import sys


def main():
    host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for seq in range(1, count + 1):
            sock.sendto(f"ping {seq}".encode(), (host, port))
            # TODO: wait at most 1 s for the reply (settimeout), time it, print the line
            # TODO：最多等 1 s 回复（settimeout），计时，打印这一行
    # TODO: print the summary line
    # TODO：打印汇总行


if __name__ == "__main__":
    main()
