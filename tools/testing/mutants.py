#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Break the table core on purpose and check that a host test notices.

Each mutant is a small textual change to a copy of module/table.c (or of
the shim) under build/host/mutants/<name>/; the repository is never
modified.  A mutant is "killed" when the named test program fails.  Two
mutants are expected to survive: they are equivalent to the original, and
they document why (see their notes).  Prints KTAP; exits non-zero if a
mutant that should die survives, or one that should survive dies.
(Growing by 4 instead of 2 is not listed: the shrink loop of the target
computation brings the size back, so that mutant is equivalent.)

Usage: mutants.py [name...]      (STRESS_SECONDS defaults to 2 here)
"""
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
TABLE_C = os.path.join(TOP, "module", "table.c")
SHIM = os.path.join(HERE, "shim")
OUT = os.path.join(TOP, "build", "host", "mutants")

SAN_ENV = {
    "ASAN_OPTIONS": "halt_on_error=1:detect_leaks=1:exitcode=66",
    "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1:exitcode=66",
    "TSAN_OPTIONS": "halt_on_error=1:exitcode=66",
}

MOVE_TAIL_HEAD = (
    "\tnslot = shpt_slot(t, new, p->key,",
    "\tstruct shpt_entry *onext = shpt_deref_locked(slot, &p->next);\n\n"
    "\tnslot = shpt_slot(t, new, p->key,")
MOVE_TAIL_UNLINK = (
    "\tshpt_link_locked(slot, pprev, shpt_nulls(slot));\n"
    "\tshpt_bkt_unlock(nslot);\n}",
    "\tshpt_link_locked(slot, pprev, onext);\n\tshpt_bkt_unlock(nslot);\n}")
MOVE_HEAD = ("pprev = pprevs[(n - 1 - i) % SHPT_REHASH_BATCH];",
             "pprev = slot;")
NO_RESTART = ("\t\t(*restarts)++;\n\t\tgoto restart;",
              "\t\t(*restarts)++;\n\t\tif (!p)\n\t\t\tgoto restart;")

# name, file ("table" or a shim path), [(old, new)], (variant, program),
# expect ("killed" or "survives"), note
MUTANTS = [
    ("rehash_no_gp_before_free", "table",
     [("\t/* Wait for every reader and writer that may still hold @old. */\n"
       "\tsynchronize_rcu();\n", "")],
     ("asan", "stress_test"), "killed",
     "old bucket array freed under readers: ASan use-after-free"),
    ("reaper_no_gp", "table",
     [("\t\t/* Readers that found these entries before the unlink. */\n"
       "\t\tsynchronize_rcu();\n", "")],
     ("asan", "stress_test"), "killed",
     "entries freed under readers: ASan use-after-free"),
    ("rehash_skips_bucket", "table",
     [("for (i = 0; i < old_size; i++) {", "for (i = 1; i < old_size; i++) {")],
     ("plain", "table_test"), "killed",
     "entries of bucket 0 lost by a rehash"),
    ("move_unlinks_before_link", "table",
     [("\tnslot = shpt_slot(t, new, p->key,",
       "\tshpt_link_locked(slot, pprev, shpt_nulls(slot));\n"
       "\tnslot = shpt_slot(t, new, p->key,"),
      ("\tshpt_link_locked(nslot, nslot, p);\n"
       "\tshpt_link_locked(slot, pprev, shpt_nulls(slot));\n",
       "\tshpt_link_locked(nslot, nslot, p);\n")],
     ("plain", "stress_test"), "killed",
     "a moved entry is briefly in neither chain: readers miss stable keys"),
    ("lookup_ignores_future", "table",
     [("\t\tsmp_rmb();\n\t\ttbl = rcu_dereference(tbl->future);\n",
       "\t\ttbl = NULL;\n")],
     ("plain", "stress_test"), "killed",
     "readers miss entries already moved to the new array"),
    ("insert_ignores_future", "table",
     [("if (!ftbl || shpt_find_locked(slot", "if (true || shpt_find_locked(slot")],
     ("plain", "stress_test"), "killed",
     "inserts land in old buckets the rehash already emptied, and are lost"),
    ("remove_ignores_future", "table",
     [("\t\tftbl = rcu_dereference(tbl->future);\n\t\tif (ftbl) {",
       "\t\tftbl = NULL;\n\t\tif (ftbl) {")],
     ("plain", "stress_test"), "killed",
     "removes miss entries already moved: writers' models disagree"),
    ("sweep_ignores_future", "table",
     [("\t\ttbl = rcu_dereference(tbl->future);\n\t} while (tbl);\n"
       "\trcu_read_unlock();\n\n\tif (b.n)",
       "\t\ttbl = NULL;\n\t} while (tbl);\n\trcu_read_unlock();\n\n\tif (b.n)")],
     ("plain", "stress_test"), "killed",
     "remove_range/remove_asid sweeps miss moved entries"),
    ("move_head_no_restart", "table",
     [MOVE_TAIL_HEAD, MOVE_TAIL_UNLINK, MOVE_HEAD, NO_RESTART],
     ("plain", "stress_test"), "killed",
     "moving the head skips the rest of the old chain for a reader standing "
     "on it, unless the reader restarts"),
    ("move_head", "table",
     [MOVE_TAIL_HEAD, MOVE_TAIL_UNLINK, MOVE_HEAD],
     ("plain", "stress_test"), "survives",
     "equivalent: the nulls-marker restart alone keeps head moves correct "
     "(readers just restart more)"),
    ("no_restart", "table",
     [NO_RESTART],
     ("plain", "stress_test"), "survives",
     "equivalent while tails move: entries after a moved one were moved "
     "first, so the lookup in future finds them"),
    ("range_probe_order0_only", "table",
     [("\t\tif (!(orders & BIT_ULL(o)))\n\t\t\tcontinue;\n\t\tv = start_vpn",
       "\t\tif (o || !(orders & BIT_ULL(o)))\n\t\t\tcontinue;\n\t\tv = start_vpn")],
     ("plain", "table_test"), "killed",
     "the probe path forgets 2 MiB entries"),
    ("range_no_partial_overlap", "table",
     [("vpn + BIT_ULL(shpt_val_order(READ_ONCE(p->val))) > start",
       "vpn >= start")],
     ("plain", "table_test"), "killed",
     "the sweep keeps a 2 MiB entry that starts before the range"),
    ("lookup_ignores_order", "table",
     [("if (shpt_val_dead(val) || shpt_val_order(val) != order)",
       "if (shpt_val_dead(val))")],
     ("plain", "table_test"), "killed",
     "a 4 KiB lookup returns the 2 MiB entry at the same vpn"),
    ("replace_keeps_old_value", "table",
     [("\t\tWRITE_ONCE(p->val, val);\n\t\treturn 1;", "\t\treturn 1;")],
     ("plain", "table_test"), "killed",
     "insert of an existing key does not update it"),
    ("no_auto_shrink", "table",
     [("\t\tsize >>= 1;", "\t\tbreak;")],
     ("plain", "table_test"), "killed",
     "the resize worker never shrinks"),
    ("grow_past_max", "table",
     [("\twhile (size < t->p.max_buckets &&\n", "\twhile (\n")],
     ("plain", "table_test"), "killed",
     "automatic grows ignore max_buckets"),
    ("rekey_when_overloaded", "table",
     [("\t    (u64)n * 100 > 2 * (u64)t->p.max_load_pct * size)", "\t    false)")],
     ("plain", "table_test"), "killed",
     "a table at max_buckets rekeys on every long chain"),
    ("writer_without_bucket_lock", "table",
     [("\tbit_spin_lock(SHPT_LOCK_NR, (unsigned long *)slot);",
       "\tpreempt_disable();"),
      ("\tbit_spin_unlock(SHPT_LOCK_NR, (unsigned long *)slot);",
       "\tpreempt_enable();")],
     ("plain", "table_test"), "killed",
     "rcu_dereference_protected() finds the bucket unlocked (shim lockdep)"),
    ("lookup_ignores_dead", "table",
     [("if (shpt_val_dead(val) || shpt_val_order(val) != order)",
       "if (shpt_val_order(val) != order)")],
     ("plain", "stress_test"), "killed",
     "a lookup standing on a concurrently removed entry returns its "
     "graveyard link as a value; the order check rejects most links (their "
     "order bits are address bits 41-46), but not the link to nothing, "
     "SHPT_VAL_DEAD alone, which dead_entries makes of every remove"),
    ("walk_ignores_dead", "table",
     [("\t\t\tif (shpt_val_dead(val))\t/* removed under us */\n"
       "\t\t\t\tcontinue;\n", "")],
     ("plain", "stress_test"), "killed",
     "a walk reports a removed entry whose value is a graveyard link"),
    ("dead_bit_overlaps_flags", "table",
     [("#define SHPT_VAL_DEAD\t\tBIT_ULL(63)", "#define SHPT_VAL_DEAD\t\tBIT_ULL(61)")],
     ("plain", "table_test"), "killed",
     "flag bit 15 reads as the DEAD mark: such entries vanish from lookups"),
    ("retire_before_unlink", "table",
     [("\tif (p) {\n\t\tshpt_link_locked(slot, pprev, "
       "shpt_deref_locked(slot, &p->next));",
       "\tif (p) {\n\t\tshpt_retire(t, p, p);\n"
       "\t\tshpt_link_locked(slot, pprev, "
       "shpt_deref_locked(slot, &p->next));"),
      ("\t\t\tif (p)\n\t\t\t\tshpt_link_locked(fslot, pprev,",
       "\t\t\tif (p)\n\t\t\t\tshpt_retire(t, p, p);\n"
       "\t\t\tif (p)\n\t\t\t\tshpt_link_locked(fslot, pprev,"),
      ("\tshpt_retire(t, p, p);\n\tshpt_removed(t, 1, size);",
       "\tshpt_removed(t, 1, size);")],
     ("asan", "stress_test"), "killed",
     "pushed while still linked: the reaper's grace period can begin before "
     "the unlink, and a reader that starts after it and still reaches the "
     "entry is not waited for: ASan use-after-free"),
    ("shim_no_tsan_rcu_edges", "include/linux/rcupdate.h",
     [("#define shim_tsan_rcu_release()\t__tsan_release(&shim_rcu_gp_token)",
       "#define shim_tsan_rcu_release()\tdo { } while (0)"),
      ("#define shim_tsan_rcu_acquire()\t__tsan_acquire(&shim_rcu_gp_token)",
       "#define shim_tsan_rcu_acquire()\tdo { } while (0)")],
     ("tsan", "stress_test"), "killed",
     "TSan is live: without the grace-period edges it flags the frees"),
]


def apply(text, edits, name):
    for old, new in edits:
        n = text.count(old)
        if n != 1:
            sys.exit(f"mutant {name}: pattern found {n} times: {old!r}")
        text = text.replace(old, new)
    return text


def run_mutant(m, attempts):
    name, where, edits, (variant, prog), expect, note = m
    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    shim = os.path.join(d, "shim")
    shutil.copytree(SHIM, shim)
    table_c = os.path.join(d, "table.c")
    shutil.copy(TABLE_C, table_c)
    path = table_c if where == "table" else os.path.join(shim, where)
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(apply(text, edits, name))

    exe = os.path.join(d, variant, prog)
    # no -Werror: a mutant may leave a variable unused
    build = subprocess.run(
        ["make", "-s", "-C", HERE, exe, f"HOST_OUT={d}",
         f"TABLE_C={table_c}", f"SHIM_DIR={shim}",
         "CFLAGS_plain=-std=gnu11 -O2 -g -w"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if build.returncode or not os.access(exe, os.X_OK):
        return False, "build failed:\n" + build.stdout[-2000:]
    env = dict(os.environ, **SAN_ENV)
    env.setdefault("STRESS_SECONDS", "2")
    log = ""
    for _ in range(attempts if prog == "stress_test" else 1):
        r = subprocess.run(["timeout", "300", exe], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
        log = r.stdout
        if r.returncode in (126, 127):
            return False, f"build failed: {exe} did not run ({r.returncode})"
        if r.returncode == 124:
            return True, log + "\nhung: killed by timeout"
        if r.returncode:
            return True, log
    return False, log


def first_symptom(log):
    keys = ("ERROR: AddressSanitizer", "WARNING: ThreadSanitizer",
            "runtime error", "shim: BUG", "errors; first", "Expected")
    for k in keys:
        for line in log.splitlines():
            if k in line:
                return line.strip()[:200]
    return "(exit status only)"


def main():
    only = set(sys.argv[1:])
    todo = [m for m in MUTANTS if not only or m[0] in only]
    print("TAP version 13")
    print(f"1..{len(todo)}")
    bad = 0
    for i, m in enumerate(todo, 1):
        name, _, _, (variant, prog), expect, note = m
        died, log = run_mutant(m, attempts=3)
        if log.startswith("build failed"):
            ok = False
            print(f"# {name}: {log}")
        else:
            ok = died == (expect == "killed")
        state = "killed" if died else "survived"
        print(f"# {name}: {note}")
        if died:
            print(f"#   {variant}/{prog}: {first_symptom(log)}")
        print(f"{'ok' if ok else 'not ok'} {i} {name} {state} "
              f"(expected: {expect})")
        bad += not ok
    print(f"# {len(todo) - bad} as expected, {bad} not")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
