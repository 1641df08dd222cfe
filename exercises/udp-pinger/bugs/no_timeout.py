"""udp-pinger, a typical bug: no timeout: recvfrom waits forever for a reply that was dropped: COUNT pings over UDP, a 1 s timeout each, then the statistics.

    python3 reference.py HOST PORT COUNT
"""
import socket
import sys
import time


def main():
    host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rtts = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for seq in range(1, count + 1):
            ping = f"ping {seq} {time.time():.6f}".encode()
            sent = time.monotonic()
            sock.sendto(ping, (host, port))
            deadline = sent + 1.0
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    print(f"seq {seq}: timeout")
                    break
                # BUG: no sock.settimeout(left): a dropped ping blocks recvfrom forever
                try:
                    reply, _ = sock.recvfrom(65536)
                except socket.timeout:
                    continue
                if reply == ping:  # a late reply to an earlier ping is not this one's
                    rtt = (time.monotonic() - sent) * 1000
                    rtts.append(rtt)
                    print(f"seq {seq}: {rtt:.2f} ms")
                    break
    received = len(rtts)
    loss = 100 * (count - received) / count
    stats = f"{min(rtts):.2f}/{sum(rtts) / received:.2f}/{max(rtts):.2f}" if rtts else "-/-/-"
    print(f"{count} sent, {received} received, {loss:.0f}% loss, rtt min/avg/max = {stats} ms")


if __name__ == "__main__":
    main()
