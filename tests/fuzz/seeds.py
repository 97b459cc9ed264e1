#!/usr/bin/env python3
"""seeds.py OUT_DIR — writes the seed corpora of the libFuzzer targets of tests/fuzz/.

Seeds are derived from files in the repository, so they follow them:
  fuzz_stun         the RFC 5769 / RFC 8489 B.1 vectors (the arrays of tests/unit/test_stun_vectors.c)
                    and every UDP payload of the replay captures (tests/replay/*.pcap)
  fuzz_pkt_parse    every frame of the replay captures
  fuzz_pipeline     each replay input capture as one record stream (fuzz_pipeline.c's format), and
                    each of its frames alone
  fuzz_config       config/*.yaml and tests/replay/*.yaml
  fuzz_turn_server  operation sequences in fuzz_turn_server.c's encoding: login, Allocate,
                    CreatePermission, ChannelBind, ChannelData both ways, Send/Data, Refresh,
                    expiry, quotas
Each file is named after its content's SHA-1, as libFuzzer names corpus files. Python stdlib only.
"""

import glob
import hashlib
import os
import re
import struct
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def write(out, target, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def read_pcap(path):
    """[(ts_us, frame)] of a classic pcap file (micro- or nanosecond, either byte order)."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return []
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    off, frames = 24, []
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(e + "IIII", data[off:off + 16])
        off += 16
        frames.append((sec * 1000000 + (frac // 1000 if nano else frac), data[off:off + incl]))
        off += incl
    return frames


def udp_payload(frame):
    """The UDP payload of an Ethernet [802.1Q] IPv4/IPv6 frame, or None."""
    off = 12
    if len(frame) < 18:
        return None
    etype = struct.unpack("!H", frame[off:off + 2])[0]
    if etype == 0x8100:
        off += 4
        etype = struct.unpack("!H", frame[off:off + 2])[0]
    off += 2
    if etype == 0x0800 and len(frame) >= off + 20 and frame[off + 9] == 17:
        off += (frame[off] & 0xF) * 4
    elif etype == 0x86DD and len(frame) >= off + 40 and frame[off + 6] == 17:
        off += 40
    else:
        return None
    if len(frame) < off + 8:
        return None
    ulen = struct.unpack("!H", frame[off + 4:off + 6])[0]
    return frame[off + 8:off + max(ulen, 8)]


def stun_vectors(out):
    src = open(os.path.join(ROOT, "tests/unit/test_stun_vectors.c")).read()
    for name, body in re.findall(r"static const uint8_t (\w+)\[\] = \{([^}]*)\};", src):
        data = bytes(int(x, 16) for x in re.findall(r"0x[0-9a-fA-F]{2}", body))
        if len(data) >= 20:
            write(out, "fuzz_stun", data)


def captures(out):
    for path in sorted(glob.glob(os.path.join(ROOT, "tests/replay/*.pcap"))):
        frames = read_pcap(path)
        for _, frame in frames:
            write(out, "fuzz_pkt_parse", frame)
            p = udp_payload(frame)
            if p:
                write(out, "fuzz_stun", p)
        if not path.endswith(".in.pcap"):
            continue
        # fuzz_pipeline: [u16 len][u16 step][frame] from the capture's start time (gen.py's T0)
        stream, prev = b"", 1700000000 * 1000
        for ts, frame in frames[:64]:
            ms = ts // 1000
            step = max(0, ms - prev)
            prev += step
            if step >= 0x8000:
                secs = min(step // 1000, 0x7FFF)
                prev += secs * 1000 - step
                step = 0x8000 | secs
            stream += struct.pack("!HH", len(frame), step) + frame
            write(out, "fuzz_pipeline", struct.pack("!HH", len(frame), 0) + frame)
        write(out, "fuzz_pipeline", stream)


def configs(out):
    for path in sorted(glob.glob(os.path.join(ROOT, "config/*.yaml")) +
                       glob.glob(os.path.join(ROOT, "tests/replay/*.yaml"))):
        with open(path, "rb") as f:
            write(out, "fuzz_config", f.read())


# ---- fuzz_turn_server's encoding (keep in step with fuzz_turn_server.c) ----
OP_RAW_CLIENT, OP_RAW_PEER, OP_CLOCK, OP_REQUEST, OP_CHANNELDATA, OP_SEND, OP_TICK, OP_PEER_DATA = range(8)
N_CLIENTS, N_USERS = 6, 5
M_ALLOCATE, M_REFRESH, M_PERMISSION, M_BIND, M_BINDING = 0, 2, 3, 4, 6  # index in methods[]


def sel_byte(client, method, fingerprint=True):
    """A byte with byte % N_CLIENTS == client, (byte >> 3) % 8 == method, bit 2 == fingerprint."""
    for b in range(256):
        if b % N_CLIENTS == client and (b >> 3) % 8 == method and bool(b & 4) == fingerprint:
            return b
    raise ValueError("no selector byte")


def how_byte(user=0, sha256=False):
    for b in range(256):
        if b % N_USERS == user and bool(b & 0x10) == sha256 and not b & 0x68:
            return b
    raise ValueError("no how byte")


def request(client, method, attrs=b"", n_attrs=0, user=0, sha256=False):
    return bytes([OP_REQUEST, sel_byte(client, method), how_byte(user, sha256), n_attrs]) + attrs + b"\0"


def a_peer(i):
    return bytes([2, i])


def a_channel(c):
    return bytes([4, c])


def a_lifetime(idx):
    return bytes([1 | idx << 4])


def clock(seconds):
    return bytes([OP_CLOCK]) + struct.pack("!H", 0x8000 | seconds)


def turn_sequences(out):
    login = request(0, M_ALLOCATE)  # 401 with a nonce
    alloc = request(0, M_ALLOCATE)
    perm = request(0, M_PERMISSION, a_peer(0), 1)
    bind = request(0, M_BIND, a_channel(0) + a_peer(0), 2)
    cdata = bytes([OP_CHANNELDATA, 0, 0, 8]) + b"channel!"
    send = bytes([OP_SEND, 0, 0, 5]) + b"hello"
    peer = bytes([OP_PEER_DATA, 0, 0]) + struct.pack("!H", 4) + b"back"
    peer1 = bytes([OP_PEER_DATA, 0, 1]) + struct.pack("!H", 4) + b"nope"
    refresh0 = request(0, M_REFRESH, a_lifetime(0), 1)
    tick = bytes([OP_TICK])
    seqs = [
        login + alloc,
        login + alloc + perm + send + peer + peer1,
        login + alloc + bind + cdata + peer + refresh0,
        login + alloc + bind + cdata + clock(400) + tick + cdata + clock(400) + tick + peer,
        login + alloc + perm + clock(700) + tick,
        # SHA-256 integrity, dual stack
        login + request(0, M_ALLOCATE, bytes([6 | 1 << 4]), 1, sha256=True),
        # quotas: allocations from several 5-tuples of one user, then of others
        b"".join(request(c, M_ALLOCATE) + request(c, M_ALLOCATE) for c in range(N_CLIENTS)),
        # denied peers through CreatePermission, ChannelBind and Send
        login + alloc + b"".join(request(0, M_PERMISSION, a_peer(p), 1) for p in range(4, 16)),
        login + alloc + b"".join(bytes([OP_SEND, 0, p, 1, 0x41]) for p in range(4, 16)),
        login + alloc + b"".join(request(0, M_BIND, a_channel(p & 7) + a_peer(p), 2) for p in range(4, 16)),
        # a REST user, and a Binding
        request(1, M_ALLOCATE, user=2) + request(1, M_ALLOCATE, user=2) + request(2, M_BINDING),
    ]
    for flags in (0x00, 0x04, 0x12):
        for s in seqs:
            write(out, "fuzz_turn_server", bytes([flags]) + s)


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    out = sys.argv[1]
    stun_vectors(out)
    captures(out)
    configs(out)
    turn_sequences(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
