#!/usr/bin/env python3
"""Sends mid-stream TCP segments of connections nobody owns to ADDRESS:PORT and times the resets.

usage: stray-segments.py ADDRESS PORT COUNT WAIT_SECONDS

Each segment is an ACK with one byte of data, from a source port of its own and with random
sequence numbers: a segment of a connection that no load balancer has a socket for (its owner
rebooted, or a SYN-cookie handshake completed elsewhere). Run in the lab's management namespace
(lab/checks.ts), as root (a raw socket). Prints one JSON line: how many were sent, how many got a
reset within WAIT_SECONDS after the last was sent, the slowest reset in milliseconds, and how many
resets arrived in all (more than one for a segment means two load balancers reset it).
"""
import json
import random
import select
import socket
import struct
import sys
import time

TCP_ACK, TCP_PSH, TCP_RST = 0x10, 0x08, 0x04


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b'\0'
    total = sum(struct.unpack(f'!{len(data) // 2}H', data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def segment(src: str, dst: str, sport: int, dport: int) -> bytes:
    seq, ack = random.getrandbits(32), random.getrandbits(32)
    payload = b'x'
    header = struct.pack('!HHIIBBHHH', sport, dport, seq, ack, 5 << 4, TCP_ACK | TCP_PSH, 64240, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack('!BBH', 0, socket.IPPROTO_TCP, len(header) + len(payload))
    header = header[:16] + struct.pack('!H', checksum(pseudo + header + payload)) + header[18:]
    return header + payload


def main(argv: list) -> int:
    if len(argv) != 5:
        print(__doc__.strip().split('\n\n')[1], file=sys.stderr)
        return 2
    address, port, count, wait = argv[1], int(argv[2]), int(argv[3]), float(argv[4])
    # The source address the kernel picks toward ADDRESS (needed for the checksum).
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.connect((address, port))
    src = probe.getsockname()[0]
    probe.close()
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    first_port = random.randint(20000, 60000 - count)
    sent_at = {}
    reset_ms = {}
    rsts = [0]

    def receive(until: float) -> None:
        """Notes every reset that arrives before `until` (a monotonic time), a second one for a segment too."""
        while True:
            ready, _, _ = select.select([raw], [], [], max(0.0, until - time.monotonic()))
            if not ready:
                return
            packet = raw.recv(65535)
            ihl = (packet[0] & 0x0F) * 4
            source = socket.inet_ntoa(packet[12:16])
            sport, dport = struct.unpack('!HH', packet[ihl:ihl + 4])
            flags = packet[ihl + 13]
            if source == address and sport == port and dport in sent_at and flags & TCP_RST:
                rsts[0] += 1
                if dport not in reset_ms:
                    reset_ms[dport] = round((time.monotonic() - sent_at[dport]) * 1000)

    for i in range(count):
        sport = first_port + i
        raw.sendto(segment(src, address, sport, port), (address, 0))
        sent_at[sport] = time.monotonic()
        # Resets are timed as they arrive, between the sends.
        receive(time.monotonic() + 0.02)
    receive(time.monotonic() + wait)
    print(json.dumps({'sent': count, 'resets': len(reset_ms), 'maxResetMs': max(reset_ms.values()) if reset_ms else None, 'rsts': rsts[0]}))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
