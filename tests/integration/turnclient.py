#!/usr/bin/env python3
"""turnclient.py — a small TURN client for xturn's integration tests (Python 3 stdlib only).

STUN Binding (RFC 8489), and over UDP the TURN operations of RFC 8656: Allocate with long-term
credentials (401 -> retry with USERNAME/REALM/NONCE/MESSAGE-INTEGRITY, 438 -> retry with the new
nonce), REQUESTED-ADDRESS-FAMILY and ADDITIONAL-ADDRESS-FAMILY, Refresh, CreatePermission,
ChannelBind, ChannelData, Send and Data indications, ERROR-CODE parsing. Every receive has a bounded
timeout; nothing here waits forever.

As a library:   c = TurnClient(("198.18.0.1", 3478), "demo", "demo-password"); c.allocate()
As a CLI:       turnclient.py --server 198.18.0.1 --user demo --password demo-password SCENARIO ...
                (`turnclient.py --help` lists the scenarios). Each scenario prints `key=value` lines
                for the shell tests to grep, and exits 0 when the scenario ran to its end (the shell
                test judges the figures), 2 on usage errors, 1 when the server did something the
                scenario cannot continue from (the reason is printed as `error=...`).
"""

import argparse
import ctypes
import hashlib
import hmac
import ipaddress
import os
import select
import socket
import struct
import sys
import time
import zlib

MAGIC = 0x2112A442
FINGERPRINT_XOR = 0x5354554E

# Methods (RFC 8489 §18.2, RFC 8656 §17)
BINDING, ALLOCATE, REFRESH, SEND, DATA, CREATE_PERMISSION, CHANNEL_BIND = 1, 3, 4, 6, 7, 8, 9
# Classes
REQUEST, INDICATION, SUCCESS, ERROR = 0, 1, 2, 3

# Attributes
A_MAPPED_ADDRESS = 0x0001
A_USERNAME = 0x0006
A_MESSAGE_INTEGRITY = 0x0008
A_ERROR_CODE = 0x0009
A_UNKNOWN_ATTRIBUTES = 0x000A
A_CHANNEL_NUMBER = 0x000C
A_LIFETIME = 0x000D
A_XOR_PEER_ADDRESS = 0x0012
A_DATA = 0x0013
A_REALM = 0x0014
A_NONCE = 0x0015
A_XOR_RELAYED_ADDRESS = 0x0016
A_REQUESTED_ADDRESS_FAMILY = 0x0017
A_REQUESTED_TRANSPORT = 0x0019
A_XOR_MAPPED_ADDRESS = 0x0020
A_ADDITIONAL_ADDRESS_FAMILY = 0x8000
A_SOFTWARE = 0x8022
A_FINGERPRINT = 0x8028

FAMILY_V4, FAMILY_V6 = 0x01, 0x02
UDP_PROTO = 17
CHANNEL_MIN, CHANNEL_MAX = 0x4000, 0x4FFF  # RFC 8656 §12; RFC 5766 allowed up to 0x7FFF
CHANNELDATA_MAX = 0x7FFF  # the first byte 0x40-0x7F marks ChannelData (RFC 7983)


class TurnError(Exception):
    """An error response (code, reason) or a local failure (code None: timeout, bad answer)."""

    def __init__(self, what, code=None, reason=""):
        self.code = code
        self.reason = reason
        super().__init__(f"{what}: {code} {reason}".strip() if code else what)


# ---- encoding ----

def msg_type(method, cls):
    """RFC 8489 §5: the class bits C1 C0 sit at bits 8 and 4 of the method."""
    return ((method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2)
            | ((cls & 1) << 4) | ((cls & 2) << 7))


def split_type(t):
    method = (t & 0x000F) | ((t & 0x00E0) >> 1) | ((t & 0x3E00) >> 2)
    cls = ((t >> 4) & 1) | ((t >> 7) & 2)
    return method, cls


def pad4(n):
    return (n + 3) & ~3


def parse_hostport(text, default_port=None):
    """'1.2.3.4:5', '[fd98:18::1]:5', 'fd98:18::1' (port from default) -> (ip string, port)."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = int(rest[1:]) if rest.startswith(":") else default_port
    elif text.count(":") == 1:
        host, port = text.split(":")
        port = int(port)
    else:
        host, port = text, default_port
    ipaddress.ip_address(host)
    if port is None:
        raise ValueError(f"{text}: no port")
    return host, port


def fmt_addr(addr):
    ip, port = addr[0], addr[1]
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def encode_xor_address(addr, tid):
    ip = ipaddress.ip_address(addr[0])
    port = addr[1] ^ (MAGIC >> 16)
    if ip.version == 4:
        raw = struct.pack("!I", int(ip) ^ MAGIC)
        return struct.pack("!BBH", 0, FAMILY_V4, port) + raw
    mask = struct.pack("!I", MAGIC) + tid
    raw = bytes(a ^ b for a, b in zip(ip.packed, mask))
    return struct.pack("!BBH", 0, FAMILY_V6, port) + raw


def decode_xor_address(value, tid):
    if len(value) < 8:
        raise TurnError("short XOR address")
    fam, xport = value[1], struct.unpack("!H", value[2:4])[0]
    port = xport ^ (MAGIC >> 16)
    if fam == FAMILY_V4 and len(value) == 8:
        ip = ipaddress.IPv4Address(struct.unpack("!I", value[4:8])[0] ^ MAGIC)
    elif fam == FAMILY_V6 and len(value) == 20:
        mask = struct.pack("!I", MAGIC) + tid
        ip = ipaddress.IPv6Address(bytes(a ^ b for a, b in zip(value[4:20], mask)))
    else:
        raise TurnError(f"bad XOR address family {fam} length {len(value)}")
    return (str(ip), port)


class Message:
    """A STUN message: method, class, transaction ID and an ordered list of (type, value)."""

    def __init__(self, method, cls, tid=None, attrs=None):
        self.method = method
        self.cls = cls
        self.tid = tid if tid is not None else os.urandom(12)
        self.attrs = list(attrs or [])

    def get(self, atype):
        for t, v in self.attrs:
            if t == atype:
                return v
        return None

    def get_all(self, atype):
        return [v for t, v in self.attrs if t == atype]

    def add(self, atype, value):
        self.attrs.append((atype, value))
        return self

    def error(self):
        """(code, reason) of ERROR-CODE (RFC 8489 §14.8), or None."""
        v = self.get(A_ERROR_CODE)
        if v is None or len(v) < 4:
            return None
        return (v[2] & 0x7) * 100 + v[3], v[4:].decode("utf-8", "replace")

    def encode(self, key=None, fingerprint=True):
        """Bytes on the wire; with key, MESSAGE-INTEGRITY (HMAC-SHA1, §14.5) then FINGERPRINT."""
        body = b""
        for t, v in self.attrs:
            body += struct.pack("!HH", t, len(v)) + v + b"\0" * (pad4(len(v)) - len(v))
        head = lambda extra: struct.pack("!HHI", msg_type(self.method, self.cls),
                                         len(body) + extra, MAGIC) + self.tid
        if key is not None:
            # The length field counts the MESSAGE-INTEGRITY attribute (24 bytes) when hashed.
            mac = hmac.new(key, head(24) + body, hashlib.sha1).digest()
            body += struct.pack("!HH", A_MESSAGE_INTEGRITY, 20) + mac
        if fingerprint:
            crc = (zlib.crc32(head(8) + body) ^ FINGERPRINT_XOR) & 0xFFFFFFFF
            body += struct.pack("!HHI", A_FINGERPRINT, 4, crc)
        return head(0) + body

    @staticmethod
    def decode(data):
        """A Message, or None when data is not STUN (first two bits, magic cookie, lengths)."""
        if len(data) < 20 or data[0] & 0xC0:
            return None
        t, length, magic = struct.unpack("!HHI", data[:8])
        if magic != MAGIC or length % 4 or 20 + length != len(data):
            return None
        method, cls = split_type(t)
        m = Message(method, cls, data[8:20])
        off = 20
        while off + 4 <= len(data):
            at, al = struct.unpack("!HH", data[off:off + 4])
            if off + 4 + al > len(data):
                return None
            m.attrs.append((at, data[off + 4:off + 4 + al]))
            off += 4 + pad4(al)
        m.raw = data
        return m

    def check_integrity(self, key):
        """True when MESSAGE-INTEGRITY verifies with key (recomputed over the raw bytes)."""
        raw = getattr(self, "raw", None)
        off = 20
        while raw and off + 4 <= len(raw):
            at, al = struct.unpack("!HH", raw[off:off + 4])
            if at == A_MESSAGE_INTEGRITY:
                head = raw[:2] + struct.pack("!H", off + 24 - 20) + raw[4:20]
                mac = hmac.new(key, head + raw[20:off], hashlib.sha1).digest()
                return hmac.compare_digest(mac, raw[off + 4:off + 24])
            off += 4 + pad4(al)
        return False


def long_term_key(user, realm, password):
    """RFC 8489 §9.2.2: MD5(username ":" realm ":" password)."""
    return hashlib.md5(f"{user}:{realm}:{password}".encode()).digest()


# ---- network namespaces (for two clients in two namespaces from one process) ----

_CLONE_NEWNET = 0x40000000


def socket_in_netns(family, netns_path):
    """A UDP socket created inside the network namespace at netns_path (needs root)."""
    libc = ctypes.CDLL(None, use_errno=True)
    own = os.open("/proc/self/ns/net", os.O_RDONLY)
    target = os.open(netns_path, os.O_RDONLY)
    try:
        if libc.setns(target, _CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {netns_path}")
        try:
            return socket.socket(family, socket.SOCK_DGRAM)
        finally:
            if libc.setns(own, _CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back")
    finally:
        os.close(own)
        os.close(target)


# ---- the client ----

class TurnClient:
    """One UDP socket talking to one TURN server (one 5-tuple, so at most one allocation)."""

    def __init__(self, server, user=None, password=None, local=None, netns=None, timeout=2.0,
                 rto=0.25):
        self.server = (server[0], server[1])
        family = socket.AF_INET6 if ":" in server[0] else socket.AF_INET
        self.sock = socket_in_netns(family, netns) if netns else socket.socket(family,
                                                                                 socket.SOCK_DGRAM)
        self.sock.bind((local or ("::" if family == socket.AF_INET6 else "0.0.0.0"), 0))
        self.user, self.password = user, password
        self.timeout, self.rto = timeout, rto
        self.realm = self.nonce = self.key = None
        self.relayed = []        # XOR-RELAYED-ADDRESS values of the allocation
        self.mapped = None
        self.lifetime = None
        self.channels = {}       # channel number -> peer address
        self.pending = []        # data that arrived while waiting for a response: (peer, channel, bytes)
        self.codes = []          # every response code seen, 0 for success (for the shell tests)

    def close(self):
        self.sock.close()

    # -- raw I/O --

    def _send(self, data):
        self.sock.sendto(data, self.server)

    def _recv(self, deadline):
        """One datagram from the server before deadline, or None."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                return None
            data, src = self.sock.recvfrom(65535)
            if ipaddress.ip_address(src[0].split("%")[0]) == ipaddress.ip_address(self.server[0]) \
                    and src[1] == self.server[1]:
                return data

    def _classify(self, data):
        """Queues ChannelData and Data indications; returns a STUN response Message or None."""
        if len(data) >= 4 and 0x40 <= data[0] <= 0x7F:
            ch, length = struct.unpack("!HH", data[:4])
            if 4 + length <= len(data):
                self.pending.append((self.channels.get(ch), ch, data[4:4 + length]))
            return None
        m = Message.decode(data)
        if m is None:
            return None
        if m.method == DATA and m.cls == INDICATION:
            peer, payload = m.get(A_XOR_PEER_ADDRESS), m.get(A_DATA)
            if peer is not None and payload is not None:
                self.pending.append((decode_xor_address(peer, m.tid), None, payload))
            return None
        return m

    def transact(self, req, key=None):
        """Sends req, retransmitting (RFC 8489 §6.2.1, shortened), until its response or timeout."""
        wire = req.encode(key)
        deadline = time.monotonic() + self.timeout
        rto = self.rto
        while time.monotonic() < deadline:
            self._send(wire)
            resend = min(deadline, time.monotonic() + rto)
            rto *= 2
            while True:
                data = self._recv(resend)
                if data is None:
                    break
                m = self._classify(data)
                if m is not None and m.tid == req.tid and m.cls in (SUCCESS, ERROR):
                    err = m.error()
                    self.codes.append(err[0] if m.cls == ERROR and err else 0)
                    return m
        raise TurnError(f"no response to method {req.method:#x} within {self.timeout}s")

    def request(self, method, attrs=(), peers=(), auth=True):
        """A request with long-term credentials: 401 (first time) and 438 are answered with the
        new nonce. XOR-PEER-ADDRESS values of peers are encoded per transaction ID."""
        for _ in range(3):
            req = Message(method, REQUEST, attrs=list(attrs))
            for p in peers:
                req.add(A_XOR_PEER_ADDRESS, encode_xor_address(p, req.tid))
            key = None
            if auth and self.nonce is not None:
                req.add(A_USERNAME, self.user.encode())
                req.add(A_REALM, self.realm)
                req.add(A_NONCE, self.nonce)
                key = self.key
            resp = self.transact(req, key)
            if resp.cls == SUCCESS:
                return resp
            code, reason = resp.error() or (None, "no ERROR-CODE")
            # Retry once after the first 401 (we had no nonce yet) and after each 438; a 401 to
            # a request that carried credentials means they are wrong (RFC 8489 §9.2.5).
            retry = auth and (code == 401 and self.nonce is None or code == 438)
            if code in (401, 438) and resp.get(A_NONCE) is not None:
                self.nonce = resp.get(A_NONCE)
                if resp.get(A_REALM) is not None:
                    self.realm = resp.get(A_REALM)
                self.key = long_term_key(self.user, self.realm.decode(), self.password)
            if not retry:
                raise TurnError(f"method {method:#x}", code, reason)
        raise TurnError(f"method {method:#x}: still refused", code, reason)

    def binding(self):
        """STUN Binding without credentials: our address as the server sees it."""
        resp = self.transact(Message(BINDING, REQUEST))
        if resp.cls != SUCCESS:
            raise TurnError("binding", *(resp.error() or (None, "")))
        v = resp.get(A_XOR_MAPPED_ADDRESS)
        if v is None:
            raise TurnError("binding: no XOR-MAPPED-ADDRESS")
        self.mapped = decode_xor_address(v, resp.tid)
        return self.mapped

    def allocate(self, family=None, additional=None, lifetime=None):
        """Allocate (UDP). family: 4 or 6 (REQUESTED-ADDRESS-FAMILY); additional: 6 asks for a
        second, IPv6 relayed address (ADDITIONAL-ADDRESS-FAMILY, RFC 8656 §7.1)."""
        attrs = [(A_REQUESTED_TRANSPORT, bytes([UDP_PROTO, 0, 0, 0]))]
        fam = {4: FAMILY_V4, 6: FAMILY_V6}
        if family:
            attrs.append((A_REQUESTED_ADDRESS_FAMILY, bytes([fam[family], 0, 0, 0])))
        if additional:
            attrs.append((A_ADDITIONAL_ADDRESS_FAMILY, bytes([fam[additional], 0, 0, 0])))
        if lifetime is not None:
            attrs.append((A_LIFETIME, struct.pack("!I", lifetime)))
        resp = self.request(ALLOCATE, attrs)
        self.relayed = [decode_xor_address(v, resp.tid) for v in resp.get_all(A_XOR_RELAYED_ADDRESS)]
        if resp.get(A_XOR_MAPPED_ADDRESS):
            self.mapped = decode_xor_address(resp.get(A_XOR_MAPPED_ADDRESS), resp.tid)
        lt = resp.get(A_LIFETIME)
        self.lifetime = struct.unpack("!I", lt)[0] if lt else None
        self.integrity_ok = self.key is not None and resp.check_integrity(self.key)
        return self.relayed

    def refresh(self, lifetime=None):
        attrs = [] if lifetime is None else [(A_LIFETIME, struct.pack("!I", lifetime))]
        resp = self.request(REFRESH, attrs)
        lt = resp.get(A_LIFETIME)
        self.lifetime = struct.unpack("!I", lt)[0] if lt else None
        return self.lifetime

    def create_permission(self, *peers):
        """One CreatePermission for one or more peers (RFC 8656 §9)."""
        return self.request(CREATE_PERMISSION, peers=peers)

    def channel_bind(self, channel, peer):
        # 0x5000-0x7FFF are sent as asked: RFC 5766 clients use them, and the server's answer
        # (400, or success with allocations.legacy_channels) is what a test wants to see.
        if not CHANNEL_MIN <= channel <= CHANNELDATA_MAX:
            raise ValueError(f"channel {channel:#x} outside {CHANNEL_MIN:#x}-{CHANNELDATA_MAX:#x}")
        resp = self.request(CHANNEL_BIND, [(A_CHANNEL_NUMBER, struct.pack("!HH", channel, 0))],
                            peers=[peer])
        self.channels[channel] = (peer[0], peer[1])
        return resp

    def send_indication(self, peer, data):
        """Send indication (RFC 8656 §11): no integrity, no response."""
        m = Message(SEND, INDICATION)
        m.add(A_XOR_PEER_ADDRESS, encode_xor_address(peer, m.tid))
        m.add(A_DATA, data)
        self._send(m.encode(None, fingerprint=True))

    def send_channel(self, channel, data):
        """ChannelData (RFC 8656 §12.4), padded to a multiple of 4 as RFC 5766 clients do."""
        pkt = struct.pack("!HH", channel, len(data)) + data
        self._send(pkt + b"\0" * (pad4(len(pkt)) - len(pkt)))

    def recv_data(self, timeout=1.0):
        """(peer, channel, payload) of the next ChannelData or Data indication, or None."""
        deadline = time.monotonic() + timeout
        while not self.pending:
            data = self._recv(deadline)
            if data is None:
                return None
            self._classify(data)
        return self.pending.pop(0)


# ---- scenarios (CLI) ----

def out(**kv):
    print(" ".join(f"{k}={v}" for k, v in kv.items()), flush=True)


MAX_MISSES = 5  # consecutive datagrams lost before exchange() gives up: a dead path fails fast


def exchange(send_fn, recv_fn, count, size, tag, timeout):
    """Sends count distinct payloads of size bytes with send_fn, waiting up to timeout for each to
    come back through recv_fn; stops after MAX_MISSES losses in a row (then sent < count).
    Returns (sent, received, bytes_sent, bytes_received, mismatched)."""
    sent = received = bsent = brecv = bad = misses = 0
    for i in range(count):
        if misses >= MAX_MISSES:
            break
        payload = (f"{tag}{i:06d}:".encode() * (size // 8 + 2))[:size]
        send_fn(payload)
        sent += 1
        bsent += len(payload)
        got = recv_fn(timeout)
        if got is None:
            misses += 1
            continue
        misses = 0
        received += 1
        brecv += len(got)
        if got != payload:
            bad += 1
    return sent, received, bsent, brecv, bad


def receiver(c, channel=None, peer=None):
    """recv_fn for exchange(): payloads reaching c, checked to come on channel (ChannelData) or
    from peer (Data indication); anything else counts as a mismatch."""
    def recv(timeout):
        got = c.recv_data(timeout)
        if got is None:
            return None
        src, ch, data = got
        if channel is not None and ch != channel:
            return b"wrong-channel"
        if peer is not None and (ch is not None or src is None or src[1] != peer[1] or
                                 ipaddress.ip_address(src[0]) != ipaddress.ip_address(peer[0])):
            return b"wrong-peer"
        return data
    return recv


def scenario_binding(a):
    c = TurnClient(a.server_addr, timeout=a.timeout)
    out(mapped=fmt_addr(c.binding()))


def scenario_allocate(a):
    c = TurnClient(a.server_addr, a.user, a.password, timeout=a.timeout)
    relayed = c.allocate(family=a.family, additional=a.additional)
    out(relayed_count=len(relayed), lifetime=c.lifetime, mapped=fmt_addr(c.mapped) if c.mapped
        else "-", integrity_ok=int(c.integrity_ok))
    for r in relayed:
        out(relayed=fmt_addr(r), family=6 if ":" in r[0] else 4)
    out(refresh_lifetime=c.refresh(a.lifetime if a.lifetime is not None else 600))
    if a.delete:
        out(delete_lifetime=c.refresh(0))


def open_path(c, peer, mode, channel):
    """Permission (indication mode) or channel binding (which installs the permission too, RFC
    8656 §12.1) towards peer; returns (send_fn, recv_fn) for exchange()."""
    if mode == "channel":
        c.channel_bind(channel, peer)
        return (lambda data: c.send_channel(channel, data)), receiver(c, channel=channel)
    c.create_permission(peer)
    return (lambda data: c.send_indication(peer, data)), receiver(c, peer=peer)


def scenario_echo(a):
    """Data both ways against a UDP echo peer: what the client sends comes back relayed."""
    peer = parse_hostport(a.peer)
    c = TurnClient(a.server_addr, a.user, a.password, timeout=a.timeout)
    c.allocate(family=6 if ":" in peer[0] else 4)
    send, recv = open_path(c, peer, a.mode, a.channel)
    out(relayed=fmt_addr(c.relayed[0]))
    s, r, bs, br, bad = exchange(send, recv, a.count, a.size, "echo", a.recv_timeout)
    out(sent=s, received=r, bytes_sent=bs, bytes_received=br, mismatched=bad)
    if a.delete:
        out(delete_lifetime=c.refresh(0))


def scenario_hairpin(a):
    """Two clients of the relay talk through their two allocations: each relayed address is the
    other's peer. The second client may live in another namespace (--netns2)."""
    fam = 6 if ":" in a.server_addr[0] else 4
    c1 = TurnClient(a.server_addr, a.user, a.password, timeout=a.timeout)
    c2 = TurnClient(a.server_addr, a.user, a.password, netns=a.netns2, timeout=a.timeout)
    r1 = c1.allocate(family=fam)[0]
    r2 = c2.allocate(family=fam)[0]
    out(relayed1=fmt_addr(r1), relayed2=fmt_addr(r2))
    send12, recv1 = open_path(c1, r2, a.mode, a.channel)
    send21, recv2 = open_path(c2, r1, a.mode, a.channel + 1)
    s, r, bs, br, bad = exchange(send12, recv2, a.count, a.size, "c1>c2", a.recv_timeout)
    out(direction="1to2", sent=s, received=r, bytes_sent=bs, bytes_received=br, mismatched=bad)
    s, r, bs, br, bad = exchange(send21, recv1, a.count, a.size, "c2>c1", a.recv_timeout)
    out(direction="2to1", sent=s, received=r, bytes_sent=bs, bytes_received=br, mismatched=bad)


def scenario_auth(a):
    """Allocate with the given password; prints every response code (0 = success)."""
    c = TurnClient(a.server_addr, a.user, a.password, timeout=a.timeout)
    try:
        c.allocate()
        result = "allocated"
    except TurnError as e:
        result = f"refused_{e.code}"
    out(codes=",".join(str(x) for x in c.codes), result=result)


def scenario_permission(a):
    """Allocate, then CreatePermission (or ChannelBind with --mode channel) for --peer."""
    peer = parse_hostport(a.peer, 9)
    fam = 6 if ":" in peer[0] else 4
    c = TurnClient(a.server_addr, a.user, a.password, timeout=a.timeout)
    c.allocate(family=fam)
    try:
        if a.mode == "channel":
            c.channel_bind(a.channel, peer)
        else:
            c.create_permission(peer)
        out(code=0)
    except TurnError as e:
        out(code=e.code, reason=e.reason.replace(" ", "_") or "-")


def scenario_hold(a):
    """An allocation that lives across a reconfiguration: allocate, bind a channel to the echo
    peer and check it, print READY, wait (bounded) for --wait-file, then refresh with
    --password2 and check the channel again."""
    peer = parse_hostport(a.peer)
    c = TurnClient(a.server_addr, a.user, a.password, timeout=a.timeout)
    c.allocate(family=6 if ":" in peer[0] else 4)
    send, recv = open_path(c, peer, "channel", a.channel)
    s, r, _, _, bad = exchange(send, recv, a.count, a.size, "before", a.recv_timeout)
    out(phase="before", relayed=fmt_addr(c.relayed[0]), sent=s, received=r, mismatched=bad)
    print("READY", flush=True)
    deadline = time.monotonic() + a.hold_timeout
    while not os.path.exists(a.wait_file) and time.monotonic() < deadline:
        time.sleep(0.05)
    if not os.path.exists(a.wait_file):
        out(phase="after", error="wait_file_timeout")
        return 1
    c.password = a.password2 or a.password
    c.key = long_term_key(c.user, c.realm.decode(), c.password)
    try:
        out(phase="refresh", code=0, lifetime=c.refresh(600))
    except TurnError as e:
        out(phase="refresh", code=e.code)
    s, r, _, _, bad = exchange(send, recv, a.count, a.size, "after_", a.recv_timeout)
    out(phase="after", sent=s, received=r, mismatched=bad)
    return 0


def scenario_udp(a):
    """Plain UDP (not TURN) to --peer, expecting an echo: proves a port outside xturn's ranges
    still reaches the relay host's kernel."""
    peer = parse_hostport(a.peer)
    fam = socket.AF_INET6 if ":" in peer[0] else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    ok = 0
    for i in range(a.count):
        msg = f"plain-udp-{i}".encode()
        s.sendto(msg, peer)
        r, _, _ = select.select([s], [], [], a.recv_timeout)
        if r and s.recvfrom(2048)[0] == msg:
            ok += 1
    out(sent=a.count, received=ok)


SCENARIOS = {
    "binding": scenario_binding,
    "allocate": scenario_allocate,
    "echo": scenario_echo,
    "hairpin": scenario_hairpin,
    "auth": scenario_auth,
    "permission": scenario_permission,
    "hold": scenario_hold,
    "udp": scenario_udp,
}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="scenarios: " + ", ".join(SCENARIOS))
    p.add_argument("--server", default="198.18.0.1", help="TURN server address[:port]")
    p.add_argument("--port", type=int, default=3478)
    p.add_argument("--user", default="demo")
    p.add_argument("--password", default="demo-password")
    p.add_argument("--password2", help="hold: the password to refresh with after --wait-file")
    p.add_argument("--timeout", type=float, default=2.0, help="seconds per transaction")
    p.add_argument("--recv-timeout", type=float, default=1.0, help="seconds per expected datagram")
    p.add_argument("--family", type=int, choices=(4, 6), help="REQUESTED-ADDRESS-FAMILY")
    p.add_argument("--additional", type=int, choices=(6,), help="ADDITIONAL-ADDRESS-FAMILY")
    p.add_argument("--lifetime", type=int)
    p.add_argument("--delete", action="store_true", help="allocate, echo: delete with Refresh(0)")
    p.add_argument("--peer", help="peer address:port (echo, permission, hold, udp)")
    p.add_argument("--mode", choices=("channel", "indication"), default="channel")
    p.add_argument("--channel", type=lambda s: int(s, 0), default=0x4001)
    p.add_argument("--count", type=int, default=20)
    p.add_argument("--size", type=int, default=100)
    p.add_argument("--netns2", help="hairpin: network namespace file of the second client")
    p.add_argument("--wait-file", help="hold: file whose creation ends the hold")
    p.add_argument("--hold-timeout", type=float, default=20.0)
    p.add_argument("scenario", choices=SCENARIOS)
    a = p.parse_args(argv)
    a.server_addr = parse_hostport(a.server, a.port)
    try:
        return SCENARIOS[a.scenario](a) or 0
    except TurnError as e:
        out(error=str(e).replace(" ", "_"), code=e.code)
        return 1


if __name__ == "__main__":
    sys.exit(main())
