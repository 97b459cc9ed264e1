#!/usr/bin/env python3
"""Kernel UDP sockets on both ends of the XDP fast path (tests/integration/test_xdp_veth.sh).

A kernel socket drops datagrams with a bad UDP checksum, so whatever arrives here was relayed with
right checksums; the payload and source address are compared byte for byte.

  xdp_udp.py relay CLIENT LISTEN PEER RELAY CHANNEL     ChannelData client -> peer and back
  xdp_udp.py hairpin CLIENT1 LISTEN1 CH1 CLIENT2 LISTEN2 CH2
  xdp_udp.py recv ADDR                                   print what one datagram brought
  xdp_udp.py send FROM TO TEXT
  xdp_udp.py chan FROM TO CHANNEL                        one ChannelData message, 10 bytes of data
Addresses: 198.18.0.1:3478 or [fd98:18::1]:3478. Prints one line per failure; exit 1 on any.
"""
import socket
import struct
import sys

TIMEOUT = 2.0
LENGTHS = [100, 0, 1, 2, 3, 5, 7, 1000]  # odd lengths carry 1-3 bytes of padding


def parse(text):
    if text.startswith("["):
        host, port = text[1:].split("]:")
        return socket.AF_INET6, (host, int(port))
    host, port = text.rsplit(":", 1)
    return socket.AF_INET, (host, int(port))


def bound(text):
    fam, addr = parse(text)
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind(addr)
    s.settimeout(TIMEOUT)
    return s


def same(text, frm):
    fam, addr = parse(text)
    return (socket.inet_pton(fam, frm[0]) == socket.inet_pton(fam, addr[0])
            and frm[1] == addr[1])


def channel_data(channel, data, pad):
    return struct.pack("!HH", channel, len(data)) + data + bytes(0xA5 ^ i for i in range(pad))


def expect(sock, want, want_from, what):
    try:
        got, frm = sock.recvfrom(65535)
    except socket.timeout:
        return ["%s: nothing arrived" % what]
    errors = []
    if got != want:
        errors.append("%s: %d bytes arrived, %d expected%s" %
                      (what, len(got), len(want), "" if len(got) != len(want) else " (content differs)"))
    if not same(want_from, frm):
        errors.append("%s: from %s, expected %s" % (what, frm[:2], want_from))
    return errors


def relay(client, listen, peer, relayed, channel):
    channel = int(channel, 0)
    cs, ps = bound(client), bound(peer)
    errors = []
    for n in LENGTHS:
        data = bytes((i * 7 + n) & 0xFF for i in range(n))
        cs.sendto(channel_data(channel, data, (-n) % 4), parse(listen)[1])
        errors += expect(ps, data, relayed, "client->peer %d bytes" % n)
        ps.sendto(data, parse(relayed)[1])
        errors += expect(cs, channel_data(channel, data, 0), listen, "peer->client %d bytes" % n)
        if errors:
            break  # one loss tells; waiting out every timeout would not
    return errors


def hairpin(client1, listen1, ch1, client2, listen2, ch2):
    ch1, ch2 = int(ch1, 0), int(ch2, 0)
    s1, s2 = bound(client1), bound(client2)
    errors = []
    for n in LENGTHS:
        data = bytes((i * 5 + n) & 0xFF for i in range(n))
        s1.sendto(channel_data(ch1, data, (-n) % 4), parse(listen1)[1])
        errors += expect(s2, channel_data(ch2, data, 0), listen2, "client1->client2 %d bytes" % n)
        s2.sendto(channel_data(ch2, data, (-n) % 4), parse(listen2)[1])
        errors += expect(s1, channel_data(ch1, data, 0), listen1, "client2->client1 %d bytes" % n)
        if errors:
            break
    return errors


def main(argv):
    cmd = argv[1]
    if cmd == "relay":
        errors = relay(*argv[2:7])
    elif cmd == "hairpin":
        errors = hairpin(*argv[2:8])
    elif cmd == "recv":
        s = bound(argv[2])
        try:
            data, frm = s.recvfrom(65535)
            print(data.decode(errors="replace"))
            return 0
        except socket.timeout:
            print("nothing arrived")
            return 1
    elif cmd == "send":
        s = bound(argv[2])
        s.sendto(argv[4].encode(), parse(argv[3])[1])
        return 0
    elif cmd == "chan":
        s = bound(argv[2])
        s.sendto(channel_data(int(argv[4], 0), b"0123456789", 2), parse(argv[3])[1])
        return 0
    else:
        print("unknown command " + cmd)
        return 2
    for e in errors:
        print(e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
