#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Drive bench_table: wall-clock, RSS and callgrind runs of the shpt table
against liburcu's cds_lfht, then print a summary and write
bench/results-host.json.

Usage: run_bench.py BENCH_BINARY OUT_JSON [--sizes 16K,1M,4M]
                    [--cg-sizes 16K,1M] [--no-callgrind]

Wall-clock figures on a shared 2-core machine are noisy; the callgrind
instruction counts are the figures of record.  Nothing here asserts on a
number: the script fails only if a run fails.
"""

import argparse
import datetime
import glob
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile

BASELINE = "cds_lfht"

# Kernel-realistic memory: SLUB object slot for the entry, given the
# entry size and cache flags (mm/slub.c calculate_sizes(), 6.1): round to a
# word, and with SLAB_TYPESAFE_BY_RCU the free pointer moves out of the
# object (+8 bytes).  Then whole objects per order-0 slab.
PAGE = 4096


def slub_bytes_per_object(obj_size, typesafe_rcu, align=8):
    size = (obj_size + 7) & ~7
    if typesafe_rcu:
        size += 8
    size = (size + align - 1) // align * align
    per_slab = PAGE // size
    return PAGE / per_slab


def run(cmd, echo=False, **kw):
    """Run @cmd, return its stdout; with @echo, show non-record lines live."""
    print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, **kw)
    lines = []
    for line in p.stdout:
        lines.append(line)
        if echo and not line.startswith("R "):
            sys.stdout.write(line)
            sys.stdout.flush()
    if p.wait() != 0:
        sys.stdout.write("".join(lines[-20:]))
        raise SystemExit("command failed (%d): %s" % (p.returncode, cmd))
    return "".join(lines)


def records(out, echo=True):
    recs = []
    for line in out.splitlines():
        if line.startswith("R "):
            recs.append(json.loads(line[2:]))
        elif echo:
            print(line)
    return recs


def hash_instructions(path):
    """Inclusive instructions of siphash_2u64() in one callgrind dump."""
    out = subprocess.run(["callgrind_annotate", "--inclusive=yes", path],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True).stdout
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+) \([^)]*\)\s+\S*:siphash_2u64 ", line)
        if m:
            return int(m.group(1).replace(",", ""))
    return 0


def callgrind(binary, impl, size, tmpdir):
    """Instructions per op of each phase, and the same without the hash."""
    prefix = os.path.join(tmpdir, "cg.%s.%s" % (impl, size))
    out = run(["valgrind", "--tool=callgrind", "--instr-atstart=no",
               "--callgrind-out-file=" + prefix + ".%p",
               binary, "cg", impl, size], stderr=subprocess.DEVNULL)
    meta = records(out, echo=False)[-1]
    phases = {}
    for path in glob.glob(prefix + ".*"):
        trig, total = None, None
        with open(path) as f:
            for line in f:
                m = re.match(r"desc: Trigger: Client Request: (\S+)", line)
                if m:
                    trig = m.group(1)
                m = re.match(r"totals: (\d+)", line)
                if m:
                    total = int(m.group(1))
        if trig and total is not None:
            hashed = hash_instructions(path)
            phases[trig] = (total / meta["ops"],
                            (total - hashed) / meta["ops"])
    return phases


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("out")
    ap.add_argument("--sizes", default="16K,1M,4M")
    ap.add_argument("--cg-sizes", default="16K,1M")
    ap.add_argument("--no-callgrind", action="store_true")
    ap.add_argument("--probe", help="entry_size program: prints "
                    "sizeof(struct shpt_entry), bucket head size, alignment")
    ap.add_argument("--table-c", help="table.c, to see the cache flags")
    args = ap.parse_args()
    args.entry_size, args.bucket_size, args.entry_align = 24, 8, 8
    if args.probe:
        args.entry_size, args.bucket_size, args.entry_align = (
            int(x) for x in run([args.probe]).split())
    args.typesafe_rcu = False
    if args.table_c:
        with open(args.table_c) as f:
            src = f.read()
        args.typesafe_rcu = bool(re.search(
            r"kmem_cache_create\([^;]*SLAB_TYPESAFE_BY_RCU", src))
    sizes = args.sizes.split(",")

    recs = []
    run([args.binary, "gammatest"], echo=True)
    recs += records(run([args.binary, "time"] + sizes, echo=True),
                    echo=False)
    for sz in sizes:
        for impl in ("shpt", "lfht"):
            recs += records(run([args.binary, "rss", impl, sz]), echo=False)

    cg = {}
    if not args.no_callgrind and shutil.which("valgrind"):
        with tempfile.TemporaryDirectory() as d:
            for sz in args.cg_sizes.split(","):
                for impl in ("shpt", "lfht"):
                    cg[(impl, sz)] = callgrind(args.binary, impl, sz, d)

    # Pair each shpt figure with the cds_lfht figure of the same case.
    by = {}
    for r in recs:
        by[(r["case"], r["metric"], r["impl"])] = r
    results = []
    for (case, metric, impl), r in by.items():
        if impl != "shpt" or metric == "object_bytes":
            continue
        # bulk lookups against single lookups: cds_lfht's (it has no bulk
        # lookup) and shpt's own
        single = case.replace("lookup_bulk_", "lookup_", 1)
        base = by.get((single, metric, BASELINE))
        o = {"case": case, "metric": metric, "value": r["value"],
             "unit": r["unit"], "baseline": BASELINE,
             "baseline_value": base["value"] if base else None,
             "ratio": (r["value"] / base["value"]
                       if base and base["value"] else None)}
        for k in ("df", "p_value", "alpha", "nbuckets", "nelems",
                  "expected"):
            if k in r:
                o[k] = r[k]
        own = by.get((single, metric, "shpt")) if single != case else None
        if own:
            o["single_value"] = own["value"]
            o["ratio_to_single"] = r["value"] / own["value"]
        # the same ratio from runs paired under the same load, if measured
        paired = by.get((case, "bulk_over_single", "shpt"))
        if own and paired:
            o["ratio_to_single"] = paired["value"]
        results.append(o)
    for sz in args.cg_sizes.split(","):
        a, b = cg.get(("shpt", sz)), cg.get(("lfht", sz))
        if not a or not b:
            continue
        for ph in ("insert", "lookup_hit", "lookup_miss", "lookup_bulk_hit",
                   "lookup_bulk_miss", "remove"):
            if ph not in a or ph not in b:
                continue
            single = ph.replace("lookup_bulk_", "lookup_", 1)
            for i, metric in ((0, "instructions_per_op"),
                              (1, "instructions_per_op_excl_hash")):
                o = {"case": "%s/%s" % (ph, sz),
                     "metric": metric,
                     "value": round(a[ph][i], 1),
                     "unit": "instructions",
                     "baseline": BASELINE,
                     "baseline_value": round(b[ph][i], 1),
                     "ratio": a[ph][i] / b[ph][i]}
                if single != ph:
                    o["single_value"] = round(a[single][i], 1)
                    o["ratio_to_single"] = a[ph][i] / a[single][i]
                results.append(o)

    # bytes per entry, kernel style: the entry's slab object plus its share
    # of the bucket array at the measured alpha, for shpt (24 B object, 8 B
    # bucket head) and, by the same formula, for cds_lfht (its node in a
    # slab of that size, a 16 B dummy node per bucket, same bucket count).
    for sz in sizes:
        lf = by.get(("memory/%s" % sz, "load_factor", "shpt"))
        ob = by.get(("memory/%s" % sz, "object_bytes", BASELINE))
        if not lf or not ob:
            continue
        b_per_n = lf["nbuckets"] / lf["nelems"]
        obj = slub_bytes_per_object(args.entry_size, args.typesafe_rcu,
                                    args.entry_align)
        lobj = slub_bytes_per_object(ob["value"], False, 8)
        mine = obj + args.bucket_size * b_per_n
        base = lobj + ob["bucket_bytes"] * b_per_n
        results.append({
            "case": "memory/%s/kernel-style" % sz,
            "metric": "bytes_per_entry",
            "value": round(mine, 2), "unit": "B",
            "baseline": BASELINE, "baseline_value": round(base, 2),
            "ratio": mine / base,
            "alpha": lf["value"], "nbuckets": lf["nbuckets"],
            "nelems": lf["nelems"],
            "note": "SLUB slot of the entry (%d B object%s) + %d B x B/n; "
                    "cds_lfht: %d B node + %d B x B/n"
                    % (args.entry_size,
                       ", SLAB_TYPESAFE_BY_RCU" if args.typesafe_rcu else "",
                       args.bucket_size, ob["value"], ob["bucket_bytes"])})

    top = os.path.abspath(os.path.join(os.path.dirname(__file__),
                                       "..", "..", ".."))
    try:
        commit = subprocess.run(["git", "-C", top, "rev-parse", "HEAD"],
                                stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL,
                                text=True).stdout.strip() or "uncommitted"
        # the measured sources differ from that commit
        dirty = subprocess.run(["git", "-C", top, "status", "--porcelain",
                                "--", "module", "tools/testing"],
                               stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL,
                               text=True).stdout.strip()
        if dirty and commit != "uncommitted":
            commit += "-dirty"
    except OSError:
        commit = "uncommitted"
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    doc = {"machine": "%s, %d CPUs, %s" % (cpu, os.cpu_count(),
                                           platform.platform()),
           "date": datetime.datetime.now(datetime.timezone.utc)
           .strftime("%Y-%m-%dT%H:%M:%SZ"),
           "commit": commit,
           "note": "wall-clock ns/op are noisy (shared 2-core machine, "
                   "other builds running); callgrind instructions/op are "
                   "the figures of record. Both tables hash with the shim's "
                   "siphash_2u64(asid << 44 | vpn, order) (SipHash-2-4 on "
                   "words, as the kernel computes it), exactly as table.c "
                   "does, and start with "
                   "the same bucket count, the one the table's default "
                   "max_load reaches (alpha 1.0 when full at power-of-two "
                   "sizes). Bulk lookups are shpt only: their "
                   "ratio_to_single comes from single and bulk runs "
                   "paired under the same load. See "
                   "Documentation/bench.rst.",
           "results": results}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")

    print()
    print("%-44s %-20s %12s %12s %7s %s" % ("case", "metric", "shpt",
                                             BASELINE, "ratio",
                                             "vs single"))
    for o in results:
        bv = o["baseline_value"]
        print("%-44s %-20s %12.5g %12s %7s %s" % (
            o["case"], o["metric"], o["value"],
            "%.5g" % bv if bv is not None else "-",
            "%.3f" % o["ratio"] if o["ratio"] is not None else "-",
            "%.3f" % o["ratio_to_single"] if "ratio_to_single" in o
            else ""))
        if o["metric"] == "chi2":
            print("%-44s %-20s df=%d p=%.4f alpha=%.4f" % (
                "", "", o["df"], o["p_value"], o["alpha"]))
    print("\nwrote %s" % args.out)


if __name__ == "__main__":
    main()
