"""The Internet checksum (RFC 1071): what ICMP, IPv4, TCP and UDP headers carry; 0 over bytes that hold
their own checksum means they arrived as sent."""
import struct


def internet(data):
    """The Internet checksum of data."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF
