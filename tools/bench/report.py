#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The host half of "make bench": read the VM's serial log, check that every
case ran, print Markdown tables, write results.json and memory.svg.

The guest (tools/bench/bench-guest.sh, tools/bench/shpt-bench.c) prints one
line per result: "@bench {json}" for the cases measured from userspace,
"@kbench {json}" for the lines of the in-kernel benchmark (debugfs
shpt/bench), "@bench-info {json}" once, and "@bench-fail ..." for a failed
step.  results.json follows bench/results-host.json (machine, date, commit,
note, results[]) and adds kernel, accelerator, guest_cpus and the memory
break-even.  Output is written to --out only when the run was clean; it is
always written to --work.
"""
import argparse
import datetime
import json
import math
import os
import platform
import shutil
import subprocess
import sys

TCG_CAVEAT = (
    "Under TCG (QEMU's emulator: compute about 8x slower, memory misses only "
    "3-7x slower) only ratios between cases of one run mean anything, and "
    "ratios of memory-bound cases are compressed about 2x toward 1.")
KVM_CAVEAT = (
    "Under KVM the guest runs at native speed, but the machine was shared: "
    "ratios between cases of one run are the figures to read.")
def _loadavg():
    """The host's 1- and 5-minute load averages, as text."""
    try:
        with open("/proc/loadavg") as f:
            one, five = f.read().split()[:2]
        return "%s (1 min), %s (5 min)" % (one, five)
    except OSError:
        return "unknown"


SHARED_NOTE = (
    "Timings are wall clock, medians of repeated runs (host load average "
    "when the report was written: " + _loadavg() + "; anything else running "
    "on the host shows in them); byte counts are exact.")
GUEST_CASES = ["munmap/populated", "munmap/inval_rate", "exit/populated"]


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%s, %d CPUs, %s" % (model, os.cpu_count() or 0, platform.platform())


def commit(top):
    try:
        rev = subprocess.run(["git", "-C", top, "rev-parse", "HEAD"],
                             capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", top, "status", "--porcelain",
                                "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return rev + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def parse_log(path):
    """Results, info, failures, kernel notes and the guest kernel."""
    out = {"guest": [], "kernel": [], "info": {}, "fails": [], "notes": [],
           "kver": None}
    step = ""
    with open(path, errors="replace") as f:
        for raw in f:
            line = raw.rstrip("\r\n")
            i = line.find("@shpt bench-step ")
            if i >= 0:
                step = line[i + len("@shpt bench-step "):]
                continue
            for tag in ("@bench-info ", "@bench-fail ", "@bench ", "@kbench ",
                        "@shpt boot "):
                i = line.find(tag)
                if i < 0:
                    continue
                rest = line[i + len(tag):]
                if tag == "@shpt boot ":
                    out["kver"] = rest.split()[0]
                elif tag == "@bench-fail ":
                    out["fails"].append(rest)
                else:
                    try:
                        obj = json.loads(rest)
                    except ValueError:
                        out["fails"].append("unparsable line: " + rest[:200])
                        break
                    if tag == "@bench-info ":
                        out["info"] = obj
                    elif tag == "@bench ":
                        obj["source"] = "guest"
                        out["guest"].append(obj)
                    elif "case" not in obj:
                        out["notes"].append(obj.get("note", json.dumps(obj)))
                    else:
                        obj["source"] = "kernel"
                        # Which layout a walk ran on (the kernel names
                        # both "walk").
                        if " kwalk " in step + " ":
                            obj["layout"] = step.split()[-1]
                        out["kernel"].append(obj)
                break
    return out


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e6 or a < 1e-3:
        return "%.3g" % v
    if a >= 100:
        return "%.0f" % v
    return "%.3g" % v


def table(rows, header):
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for r in rows:
        print("| " + " | ".join(fmt(x) for x in r) + " |")


def rst_table(rows, header):
    """A simple reStructuredText table."""
    cells = [header] + [[fmt(x) if x is not None else "n/a" for x in r]
                        for r in rows]
    w = [max(len(c[i]) for c in cells) for i in range(len(header))]
    rule = "  ".join("=" * n for n in w)
    out = [rule, "  ".join(h.ljust(n) for h, n in zip(header, w)).rstrip(),
           rule]
    out += ["  ".join(c.ljust(n) for c, n in zip(r, w)).rstrip()
            for r in cells[1:]]
    return "\n".join(out + [rule]) + "\n"


def break_even(mem):
    """Density where shpt and radix bytes/page cross (log-log), or None."""
    pts = sorted((m["density"], m["ratio"]) for m in mem if m.get("ratio"))
    for (d1, r1), (d2, r2) in zip(pts, pts[1:]):
        l1, l2 = math.log(r1), math.log(r2)
        if l1 == 0:
            return d1
        if (l1 < 0) != (l2 < 0):
            t = -l1 / (l2 - l1)
            return math.exp(math.log(d1) + t * (math.log(d2) - math.log(d1)))
    return None


def plot(mem, work, svg, accel, be):
    """memory.svg with gnuplot; False if gnuplot is missing."""
    gp = shutil.which("gnuplot")
    if not gp or not mem:
        return False
    dat = os.path.join(work, "memory.dat")
    with open(dat, "w") as f:
        f.write("# density shpt_B_per_page radix_B_per_page index_B_per_page\n")
        for m in sorted(mem, key=lambda m: m["density"]):
            f.write("%.9g %.6g %.6g %.6g\n" % (
                m["density"], m["value"], m["baseline_value"],
                max(m["index_bytes"] / m["pages"], 0.01)))
    marks = ""
    if be:
        marks = ('set arrow from %g, graph 0 to %g, graph 1 nohead dt 3 lc "gray"\n'
                 'set label "break-even: 1 page in %.3g" at %g, graph 0.95 right offset -0.5,0\n'
                 % (be, be, 1 / be, be))
    script = """set terminal svg size 760,500 dynamic font "sans,11"
set output '%s'
set logscale xy
set format x "10^{%%L}"
set format y "10^{%%L}"
set xlabel "density: touched pages / pages of the mapping"
set ylabel "bytes per touched page"
set title "shpt entries + buckets + index vs the x86-64 page tables (VmPTE), THP off"
set key left bottom at graph 0.02, graph 0.1 box opaque
set grid
%sset label "byte counts (exact; accelerator: %s; the TCG timing caveat does not apply)" at graph 0.01, graph 0.03 font "sans,9"
plot '%s' u 1:2 w lp pt 7 lw 2 t "shpt (asids bytes)", \\
     '' u 1:3 w lp pt 5 lw 2 t "page tables (VmPTE growth)", \\
     '' u 1:4 w lp pt 1 dt 2 t "of which shpt's index"
""" % (svg, marks, accel, dat)
    gpf = os.path.join(work, "memory.gp")
    with open(gpf, "w") as f:
        f.write(script)
    subprocess.run([gp, gpf], check=True)
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--log", required=True)
    ap.add_argument("--accel", default="")
    ap.add_argument("--top", default=".")
    ap.add_argument("--out", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--run-rc", type=int, default=0)
    ap.add_argument("--commit", help="the commit measured (default: HEAD of --top)")
    a = ap.parse_args()

    os.makedirs(a.work, exist_ok=True)
    if not os.path.exists(a.log):
        print("bench: no serial log %s" % a.log, file=sys.stderr)
        return 1
    r = parse_log(a.log)
    problems = ["run: the VM run failed (exit status %d; see above and %s)"
                % (a.run_rc, a.log)] if a.run_rc else []
    problems += ["failed: " + x for x in r["fails"]]
    accel = a.accel or "unknown"

    mem = [x for x in r["guest"] if x["case"].startswith("memory/")]
    have = {x["case"] for x in r["guest"]}
    if not mem:
        problems.append("missing: memory/* (no memory results)")
    problems += ["missing: " + c for c in GUEST_CASES if c not in have]
    kernel_available = not any("not available" in n for n in r["notes"])
    if kernel_available:
        kcases = {x["case"].split("/")[0] for x in r["kernel"]}
        for need in ("lookup", "walk", "populate"):
            if not any(c.startswith(need) for c in kcases):
                problems.append("missing: kernel case %s*" % need)

    caveat = TCG_CAVEAT if accel != "kvm" else KVM_CAVEAT
    info = r["info"]
    print()
    print("## shpt VM benchmark (%s, %s guest CPUs, kernel %s)" % (
        accel, info.get("guest_cpus", "?"), r["kver"] or "?"))
    print()
    print("> " + caveat + " " + SHARED_NOTE)

    # Memory: exact byte counts, one row per density.
    if mem:
        print()
        print("### Memory per touched page: shpt vs the page tables (THP off)")
        print()
        rows = []
        for m in sorted(mem, key=lambda m: m["density"]):
            rows.append(["1/%d" % round(1 / m["density"]), m["pages"],
                         m["value"], m["baseline_value"], m["ratio"],
                         m["index_bytes"] / m["pages"]])
        table(rows, ["density", "pages", "shpt B/page", "page tables B/page",
                     "ratio", "shpt index B/page"])
        be = break_even(mem)
        print()
        if be:
            print("Break-even: about 1 touched page in %.3g (density %.3g); "
                  "sparser than that the hashed table is smaller." % (1 / be, be))
        else:
            cheaper = "shpt" if all(m["ratio"] < 1 for m in mem) else "the page tables"
            print("No break-even in the sweep: %s cost less at every density." % cheaper)
    else:
        be = None

    rst = []
    if mem:
        rst.append(rst_table(rows, ["density", "pages", "shpt B/page",
                                    "page tables B/page", "ratio",
                                    "shpt index B/page"]))
    # Timings and the kernel's cases: ratios.
    rows = []
    for x in r["guest"] + r["kernel"]:
        if x["case"].startswith("memory/"):
            continue
        name = x["case"] + (" (%s)" % x["layout"] if "layout" in x else "")
        rows.append([x["source"], name, x.get("metric"), x.get("value"),
                     x.get("unit"), x.get("baseline"), x.get("baseline_value"),
                     x.get("ratio"), x.get("p50"), x.get("p99")])
    print()
    print("### Ratios (" + accel + ")")
    print()
    table(rows, ["src", "case", "metric", "value", "unit", "baseline",
                 "baseline value", "ratio", "p50", "p99"])
    rst.append(rst_table(rows, ["src", "case", "metric", "value", "unit",
                                "baseline", "baseline value", "ratio", "p50",
                                "p99"]))
    with open(os.path.join(a.work, "latest.rst"), "w") as f:
        f.write("\n".join(rst))
    print()
    print("> " + caveat)
    if not kernel_available:
        print()
        print("Kernel cases: not available (" + "; ".join(r["notes"]) + ")")
    elif r["notes"]:
        print()
        # Each kernel run repeats its note; print each note once.
        print("Kernel notes: " + "; ".join(dict.fromkeys(r["notes"])))

    # The targets.
    targets = {}
    mu = next((x for x in r["guest"] if x["case"] == "munmap/populated"), None)
    ir = next((x for x in r["guest"] if x["case"] == "munmap/inval_rate"), None)
    ex = next((x for x in r["guest"] if x["case"] == "exit/populated"), None)
    print()
    if mu:
        targets["munmap_overhead_max_10pct"] = mu["ratio"] <= 1.10
        print("- munmap of a populated %d MiB region: %.3g s vs %.3g s unmirrored "
              "(medians), ratio %.3g (of the fastest runs: %.3g): notifier "
              "overhead %+.0f%% (target <= +10%%: %s)" % (
                  mu["bytes"] >> 20, mu["value"], mu["baseline_value"],
                  mu["ratio"], mu.get("ratio_of_min", float("nan")),
                  (mu["ratio"] - 1) * 100,
                  "met" if mu["ratio"] <= 1.10 else "NOT met"))
    if ir:
        targets["inval_pages_per_s_min_20M"] = ir["value"] >= 2e7
        print("- invalidation: %.3g pages/s, %.3g entries/s (target >= 2e7 pages/s: %s)"
              % (ir["value"], ir["entries_per_s"],
                 "met" if ir["value"] >= 2e7 else "NOT met"))
    if ex:
        print("- exit of a populated process: %.3g s vs %.3g s unmirrored "
              "(medians; ratio of the fastest runs %.3g), %.3g ns per entry "
              "(%d entries); mirror dead %.3g s after the kill"
              % (ex["value"], ex["baseline_value"],
                 ex.get("ratio_of_min", float("nan")), ex["ns_per_entry"],
                 ex["entries"], ex["to_dead_s"]))
    if targets:
        print("  (" + ("TCG: " + TCG_CAVEAT if accel != "kvm" else KVM_CAVEAT) + ")")

    note = " ".join([caveat, SHARED_NOTE,
                     "memory/*: bytes per touched page, shpt (debugfs asids "
                     "bytes: slab slots, bucket share, index) vs the growth "
                     "of VmPTE (PTE, PMD and PUD pages); THP off. See "
                     "Documentation/bench.rst."])
    doc = {
        "machine": machine(),
        "date": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": a.commit or commit(a.top),
        "note": note,
        "kernel": r["kver"],
        "accelerator": accel,
        "guest_cpus": info.get("guest_cpus"),
        "guest": info,
        "memory_break_even_density": be,
        "targets": targets,
        "kernel_bench": "ran" if kernel_available else "not available",
        "results": r["guest"] + r["kernel"],
    }
    for d in (a.work,) + ((a.out,) if not problems else ()):
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "results.json"), "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
        try:
            plot(mem, a.work, os.path.join(d, "memory.svg"), accel, be)
        except (OSError, subprocess.CalledProcessError) as e:
            problems.append("gnuplot: %s" % e)
    print()
    if problems:
        for p in problems:
            print("bench: " + p, file=sys.stderr)
        print("bench: FAILED; results in %s (not copied to %s)" % (
            a.work, a.out), file=sys.stderr)
        return 1
    print("bench: wrote %s/results.json and %s/memory.svg" % (a.out, a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
