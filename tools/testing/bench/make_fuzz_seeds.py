#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write the seed corpus of fuzz_table (tools/testing/fuzz-corpus/).

Each seed is a byte program in fuzz_table.c's encoding: two configuration
bytes, then operations (opcode byte % 16 picks the operation; argument
bytes index the key, pfn and bucket-count tables of fuzz_table.c).  The
seeds give libFuzzer long, well-formed programs to mutate from: full
tables under each hash, bulk lookups, 2 MiB ranges, rehash storms, injected allocation
failures, and random programs.  Deterministic: rerun to regenerate.
"""
import os
import random
import sys

NASID, NVPN, NORDER, NPFN, NNB = 8, 16, 16, 8, 16
INSERT, LOOKUP, REMOVE, RANGE, RM_ASID, REHASH = 0, 5, 8, 10, 12, 13
CHECK, FAIL_INSERT, FLUSH, RESET = 14, 14 | 0x10, 15 | 0x10, 15
BULK = 7 | 0x80                    # bulk lookup: n, out?, then n keys
VALID_ASIDS = [0, 1, 2, 3]
VALID_ORDERS = [0, 1, 10]          # indexes of orders 0, 9, 0 ...


def config(hash_fn, max_chain_i, init_i, big, minb_i, load_i):
    a = hash_fn | max_chain_i << 2 | init_i << 4 | (0x80 if big else 0)
    b = minb_i | load_i << 2
    return bytes([a, b])


def fill(p, asids=VALID_ASIDS, orders=range(NORDER)):
    for a in asids:
        for v in range(NVPN):
            for o in orders:
                p += bytes([INSERT, a, v, o, (a + v) % NPFN, (v * 7) & 0xfe])


def seeds():
    out = {}
    for h, name in ((0, "siphash"), (1, "hsiphash"), (2, "modulo")):
        p = bytearray(config(h, 1, 0, True, 0, 0))
        fill(p)
        p += bytes([CHECK | 1 << 5])
        for a in VALID_ASIDS:
            for v in range(NVPN):
                p += bytes([LOOKUP, a, v, 1, 1])
        for s, e in ((3, 5), (4, 7), (0, 16), (11, 13), (12, 14)):
            p += bytes([RANGE, 1, s, e, 0x19])
        p += bytes([CHECK, RM_ASID, 2, CHECK | 2 << 5, RM_ASID, 3])
        out["fill-" + name] = p
        p = bytearray(config(h, 1, 0, True, 0, 0))
        fill(p, orders=range(4))
        rnd = random.Random(h)
        for n in (1, 15, 16, 17, 33, 40):
            p += bytes([BULK, n, n & 1])
            for _ in range(n):
                p += bytes([rnd.randrange(NASID), rnd.randrange(NVPN),
                            rnd.randrange(NORDER)])
            p += bytes([REHASH | (0x80 if n & 1 else 0), n % NNB, 0])
        out["bulk-" + name] = p
    p = bytearray(config(0, 3, 3, True, 0, 0))
    for i in range(40):
        p += bytes([INSERT, i % 4, i % NVPN, i % 2, i % NPFN, i])
        p += bytes([REHASH | (0x80 if i % 7 == 0 else 0), i % NNB, i & 1])
        if i % 5 == 0:
            p += bytes([FAIL_INSERT, 1, i % NVPN, 0, 2, 1])
    p += bytes([CHECK, FLUSH, RESET])
    out["rehash-storm"] = p
    p = bytearray(config(2, 1, 0, False, 0, 2))   # modulo, 4 buckets max
    fill(p, asids=[0, 1], orders=[0, 1])
    p += bytes([CHECK, RANGE, 0, 0, 15, 0, CHECK])
    out["modulo-flood"] = p
    rnd = random.Random(1)
    for k in range(8):
        p = bytearray([rnd.randrange(256), rnd.randrange(256)])
        for _ in range(rnd.randrange(100, 400)):
            op = rnd.choice([INSERT] * 6 + [LOOKUP] * 3 + [REMOVE] * 2 +
                            [RANGE] * 2 + [RM_ASID, REHASH, CHECK,
                                           FAIL_INSERT, FLUSH, RESET])
            n = {INSERT: 5, LOOKUP: 4, REMOVE: 3, RANGE: 4, RM_ASID: 1,
                 REHASH: 2, CHECK: 0, FAIL_INSERT: 5, FLUSH: 0,
                 RESET: 0}[op]
            p += bytes([op] + [rnd.randrange(256) for _ in range(n)])
        out["random-%d" % k] = p
    return out


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "fuzz-corpus")
    os.makedirs(d, exist_ok=True)
    for name, data in seeds().items():
        with open(os.path.join(d, "seed-" + name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
