#!/usr/bin/env python3
"""udp_echo.py — a kernel UDP echo server for the integration tests (Python 3 stdlib only).

Every datagram received is sent back unchanged to its source. It uses ordinary kernel sockets on
purpose: the kernel drops datagrams whose UDP or IP checksum is wrong, so an echo proves that the
relay's rewritten frames were valid. It stops by itself after --max-seconds, and prints one line
`received=N bytes=B` on exit (SIGTERM included) for the tests that want the peer's view.

    udp_echo.py --bind 198.18.0.20 --bind fd98:18::20 --port 3490 [--max-seconds 300]
"""

import argparse
import selectors
import signal
import socket
import sys
import time


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bind", action="append", required=True, help="address to listen on")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--max-seconds", type=float, default=300.0)
    a = p.parse_args()

    sel = selectors.DefaultSelector()
    for addr in a.bind:
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.bind((addr, a.port))
        sel.register(s, selectors.EVENT_READ)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    count = nbytes = 0
    print(f"listening port={a.port}", flush=True)
    deadline = time.monotonic() + a.max_seconds
    while not stop and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.2):
            data, src = key.fileobj.recvfrom(65535)
            key.fileobj.sendto(data, src)
            count += 1
            nbytes += len(data)
    print(f"received={count} bytes={nbytes}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
