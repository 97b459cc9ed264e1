#!/usr/bin/env python3
"""tests/replay/mutate.py SEED OUT.pcap — a damaged mix of the cases' inputs, for run.sh.

Every case input merged by time, then, seeded: bytes overwritten, frames cut or extended, and
timestamps moved up to a second either way (so the clock of the capture also goes back). The replay
must not crash on it, and every frame it sends must carry good checksums.
"""
import glob
import os
import random
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402


def main():
    rnd = random.Random(int(sys.argv[1]))
    frames = []
    for path in sorted(glob.glob(os.path.join(gen.HERE, "*.in.pcap"))):
        frames += gen.read_pcap(path)
    frames.sort(key=lambda x: x[0])
    out = []
    for t, f in frames:
        f = bytearray(f)
        r = rnd.random()
        if r < 0.3 and f:
            for _ in range(rnd.randrange(1, 4)):
                f[rnd.randrange(len(f))] = rnd.randrange(256)
        elif r < 0.4:
            f = f[:rnd.randrange(len(f) + 1)]
        elif r < 0.5:
            f += bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 64)))
        out.append((max(0, t + rnd.randrange(-1000000, 1000000)), bytes(f)))
    gen.write_pcap(sys.argv[2], out)


if __name__ == "__main__":
    main()
