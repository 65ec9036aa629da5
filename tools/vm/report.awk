# SPDX-License-Identifier: GPL-2.0
#
# report.awk: the verdict on a serial log of the test VM.  The guest's
# /init (tools/vm/init.sh) brackets everything with "@shpt <event>" lines;
# between "test-begin" and "test-end" is the KTAP of one test binary.
#
# Variables: mode (check|demo|bench), qemu_rc, secs, vm_timeout, logfile, host_rc
# and host_log (the host tests' exit status and output; empty when no host
# tests ran).
#
# A check counts every KTAP test result, plus these VM checks:
#   boot       the guest reached "done" (no hang, panic or timeout)
#   insmod     the first insmod of shpt.ko worked
#   module     no test left the module unloaded, no leftover device,
#              debugfs or sysfs entry after rmmod
#   rmmod      the final rmmod worked
#   dmesg      no kernel log line matches the "bad" pattern below
#   taint      /proc/sys/kernel/tainted has no bit but O and E (and N,
#              "a test module ran", when shpt_kunit ran)
#   kmemleak   nothing unreferenced after rmmod (only on a kmemleak kernel)
#   host       the host tests (only when they ran)
# A skipped test (KTAP "ok N ... # SKIP") is counted apart and is not a
# failure.  The last line printed is always "N passed, N failed"; the
# exit status is 1 when N failed is not 0.

# A failure detail, printed under the test binary @name.
function fail_item(name, what) {
	details[name] = details[name] "        " what "\n"
}

function vm_check(name, ok, why) {
	if (ok) {
		npassed++
		printf "  ok    vm: %s\n", name
	} else {
		nfailed++
		printf "  FAIL  vm: %s: %s\n", name, why
	}
}

# Add the kselftest-harness totals of the host tests (table_test, its
# sanitizer build, the stress tests) to the summary; the fuzzer and the
# sanitizers' exit codes are covered by the host tests' exit status.
function host_counts(f,    line, p, x, hp, hf, runs) {
	if (f == "")
		return
	while ((getline line < f) > 0) {
		if (line !~ /^# Totals: pass:[0-9]+ fail:[0-9]+/)
			continue
		split(line, p, /[: ]+/)
		for (x in p) {
			if (p[x] == "pass")
				hp += p[x + 1]
			if (p[x] == "fail" || p[x] == "error")
				hf += p[x + 1]
		}
		runs++
	}
	close(f)
	npassed += hp
	nfailed += hf
	printf "  %-5s host: %d passed, %d failed in %d harness runs (%s)\n", \
		hf ? "FAIL" : "ok", hp, hf, runs, f
}

# The flags the kernel sets in /proc/sys/kernel/tainted, by bit.
function taint_flags(v,    s, i) {
	s = ""
	for (i = 0; i < length(taint_letters) && v > 0; i++) {
		if (v % 2)
			s = s substr(taint_letters, i + 1, 1)
		v = int(v / 2)
	}
	return s
}

# The key of the @k-th run of test @name: the name itself, then "name#2",
# "name#3"...  A name repeated in T= runs several times, and each run is
# counted on its own: a later run must not overwrite an earlier failure.
function run_key(name, k) {
	return k > 1 ? name "#" k : name
}

function test_finish(name, rc,    missing, msg) {
	if (rc == "")
		rc = "?"
	missing = 0
	msg = ""
	if (plan[name] < 0) {
		msg = "no KTAP plan (crashed before printing?), exit status " rc
		tfail[name]++
	} else if (nres[name] < plan[name]) {
		missing = plan[name] - nres[name]
		msg = missing " of " plan[name] " results missing (crash or timeout?), exit status " rc
		tfail[name] += missing
	} else if (nres[name] > plan[name]) {
		msg = nres[name] " results for a plan of " plan[name]
		tfail[name]++
	} else if (rc != 0 && !(rc == 4 && plan[name] == 0) && tfail[name] == 0) {
		msg = "exit status " rc (rc == 143 || rc == 137 ? " (killed by the per-binary timeout)" : "")
		tfail[name]++
	}
	if (plan[name] == 0 && rc == 4)
		tskip[name]++
	if (msg != "")
		fail_item(name, msg)
	done_test[name] = 1
}

BEGIN {
	# Only report lines: a debug kernel's boot banners ("kmemleak: Kernel
	# memory leak detector initialized", "RCU lockdep checking is
	# enabled") must not match.
	bad = "BUG:|WARNING:|Oops|general protection|RCU stall|rcu_sched detected stalls|rcu: INFO|possible circular locking|lockdep is turned off|KASAN|suspected memory leak|UBSAN:|list_add corruption|list_del corruption|Call Trace|kernel BUG|Kernel panic|BUG [^ ]+ \\(|ODEBUG:|page dumped because|INFO: task .* blocked|unreferenced object"
	taint_letters = "PFSRMBUDAWCIOELKXTN"
	allowed_taint = 4096 + 8192	# O (out-of-tree) and E (unsigned)
	ring = 30
	intest = 0
	indmesg = 0
	insmod = ""
	rmmod = ""
	taint = ""
	done = 0
	booted = 0
	ndmesg_bad = 0
	module_problems = ""
	inleak = 0
	nleaks = 0
	kmemleak = 0
}

{
	sub(/\r$/, "")
	nlines++
	last[nlines % ring] = $0
}

inleak && index($0, "@shpt kmemleak-end") == 0 {
	if ($0 ~ /unreferenced object/) {
		nleaks++
		if (nleaks == 1)
			first_leak = $0
	}
	if (nleak_lines < 40)
		leak_lines[++nleak_lines] = $0
	next
}

indmesg && index($0, "@shpt dmesg-end") == 0 {
	if ($0 ~ bad) {
		ndmesg_bad++
		if (ndmesg_bad <= 10)
			dmesg_bad[ndmesg_bad] = $0
		if (ndmesg_bad == 1)
			ctx_left = 30
	}
	if (ctx_left > 0) {
		nctx++
		ctx[nctx] = $0
		ctx_left--
	}
	next
}

index($0, "@shpt ") {
	ev = substr($0, index($0, "@shpt ") + 6)
	nf = split(ev, a, " ")
	if (a[1] == "boot") {
		booted = 1
		kernel = a[2]
	} else if (a[1] == "tests") {
		for (i = 2; i <= nf; i++) {
			nexp++
			expected[nexp] = run_key(a[i], ++nexp_runs[a[i]])
		}
	} else if (a[1] == "insmod") {
		if (insmod == "")
			insmod = a[2] == "ok" ? "ok" : ev
		else if (a[2] != "ok")
			module_problems = module_problems " reload failed (" ev ");"
	} else if (a[1] == "test-begin") {
		cur = run_key(a[2], ++nruns[a[2]])
		intest = 1
		plan[cur] = -1
		nres[cur] = tpass[cur] = tfail[cur] = tskip[cur] = 0
	} else if (a[1] == "test-end") {
		rc = a[3]
		sub(/^rc=/, "", rc)
		test_finish(cur, rc)
		intest = 0
	} else if (a[1] == "test-missing") {
		k = run_key(a[2], ++nruns[a[2]])
		fail_item(k, "no such test binary in the initramfs")
		tfail[k] = 1
		done_test[k] = 1
	} else if (a[1] == "module-missing-after") {
		module_problems = module_problems " " a[2] " left shpt unloaded;"
	} else if (a[1] == "leftover") {
		module_problems = module_problems " " a[2] " remains after rmmod;"
	} else if (a[1] == "rmmod") {
		rmmod = a[2] == "ok" ? "ok" : ev
	} else if (a[1] == "taint") {
		taint = a[2]
	} else if (a[1] == "kmemleak-begin") {
		inleak = 1
		kmemleak = 1
	} else if (a[1] == "kmemleak-end") {
		inleak = 0
	} else if (a[1] == "dmesg-begin") {
		indmesg = 1
	} else if (a[1] == "dmesg-end") {
		indmesg = 0
	} else if (a[1] == "demo-end" || a[1] == "bench-end") {
		demo_rc = a[2]
		sub(/^rc=/, "", demo_rc)
	} else if (a[1] == "done") {
		done = 1
	}
	next
}

intest {
	line = $0
	if (line ~ /^\[ *[0-9]+\.[0-9]+\]/)
		next			# a kernel message on the console
	if (line ~ /^1\.\.[0-9]+/) {
		p = line
		sub(/^1\.\./, "", p)
		plan[cur] = int(p)
	} else if (line ~ /^ok [0-9]+/) {
		nres[cur]++
		if (line ~ /# [Ss][Kk][Ii][Pp]/) {
			tskip[cur]++
			fail_item(cur, "skipped: " line)
		} else {
			tpass[cur]++
		}
	} else if (line ~ /^not ok [0-9]+/) {
		nres[cur]++
		tfail[cur]++
		fail_item(cur, line)
	} else if (line ~ /^Bail out!/) {
		tfail[cur]++
		fail_item(cur, line)
	}
}

END {
	if (intest)
		test_finish(cur, "")

	# demo and bench: the guest script's exit status and the kernel log.
	if (mode == "demo" || mode == "bench") {
		ok = done && demo_rc == 0 && ndmesg_bad == 0
		if (!done)
			print mode ": the guest did not finish (qemu exit status " qemu_rc ", " secs "s); see " logfile
		else if (demo_rc != 0)
			print mode ": " mode "-guest.sh failed (exit status " demo_rc "); see " logfile
		for (i = 1; i <= ndmesg_bad; i++)
			print mode ": bad kernel log line: " dmesg_bad[i]
		printf "%s %s in %ss (serial log: %s)\n", mode, ok ? "finished" : "FAILED", secs, logfile
		exit ok ? 0 : 1
	}

	print ""
	printf "shpt VM check on %s: %ss, serial log %s\n", kernel ? kernel : "?", secs, logfile
	npassed = nfailed = nskipped = 0
	for (i = 1; i <= nexp; i++) {
		t = expected[i]
		if (!(t in done_test)) {
			printf "  FAIL  %s: never ran\n", t
			nfailed++
			continue
		}
		npassed += tpass[t]
		nfailed += tfail[t]
		nskipped += tskip[t]
		printf "  %-4s  %s: %d passed, %d failed, %d skipped\n", \
			tfail[t] ? "FAIL" : "ok", t, tpass[t], tfail[t], tskip[t]
		printf "%s", details[t]
	}

	if (done) {
		vm_check("boot", 1)
	} else if (qemu_rc == 124 || qemu_rc == 137) {
		vm_check("boot", 0, "no completion after " vm_timeout "s (VM_TIMEOUT): the guest hung")
	} else {
		vm_check("boot", 0, "guest stopped before completion (qemu exit status " qemu_rc "): panic or crash")
	}
	vm_check("insmod", insmod == "ok", insmod == "" ? "never ran" : insmod)
	vm_check("module", insmod == "ok" && module_problems == "", module_problems == "" ? "not loaded" : module_problems)
	vm_check("rmmod", rmmod == "ok", rmmod == "" ? "never ran" : rmmod)
	vm_check("dmesg", done && ndmesg_bad == 0, ndmesg_bad ? ndmesg_bad " bad line(s), first: " dmesg_bad[1] : "no kernel log (guest did not finish)")
	if (taint == "")
		vm_check("taint", 0, "never read")
	else {
		rest = taint
		if (int(rest / 4096) % 2)
			rest -= 4096
		if (int(rest / 8192) % 2)
			rest -= 8192
		if (("shpt_kunit" in done_test) && int(rest / 262144) % 2)
			rest -= 262144
		vm_check("taint", rest == 0, taint " (" taint_flags(taint) "); only O and E (N after KUnit) are expected")
	}
	if (kmemleak)
		vm_check("kmemleak", nleaks == 0, nleaks " unreferenced object(s), first: " first_leak)
	if (host_rc != "") {
		host_counts(host_log)
		vm_check("host tests (make check-host)", host_rc == 0, "exit status " host_rc)
	}

	if (ndmesg_bad) {
		print ""
		print "kernel log from the first bad line (the full log is in " logfile "):"
		for (i = 1; i <= nctx; i++)
			print "  " ctx[i]
		if (ndmesg_bad > 1) {
			print "all bad lines (first 10):"
			for (i = 1; i <= ndmesg_bad && i <= 10; i++)
				print "  " dmesg_bad[i]
		}
	}
	if (nleaks) {
		print ""
		print "kmemleak report (first 40 lines; the full report is in " logfile "):"
		for (i = 1; i <= nleak_lines; i++)
			print "  " leak_lines[i]
	}
	if (!done) {
		print ""
		print "last lines of the serial log:"
		for (i = nlines - ring + 1; i <= nlines; i++)
			if (i > 0)
				print "  " last[i % ring]
	}
	print ""
	if (nskipped)
		printf "%d skipped\n", nskipped
	printf "%d passed, %d failed\n", npassed, nfailed
	exit nfailed ? 1 : 0
}
