/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kselftest_harness.h plus test selection, which the 6.1 harness lacks.
 * A test program that ends with SHPT_HARNESS_MAIN (instead of
 * TEST_HARNESS_MAIN) accepts:
 *
 *   -l         list its tests, one "fixture[.variant].test" per line
 *   -t NAME    run only NAME: a test name, "fixture.test" or
 *              "fixture.variant.test"; may be repeated
 *
 * and scales every test's timeout by $SHPT_TIMEOUT_SCALE.
 *
 * A fixture variant is kept when a selected test matches it, and a test
 * runs in every kept variant of its fixture.  "make check T=prog:NAME"
 * passes "-t NAME".
 *
 * Beware: in 6.1's harness a SKIP() in FIXTURE_SETUP does not stop the
 * test body, which runs anyway; a body must check _metadata->skip (or the
 * state the setup left) before doing anything.
 */
#ifndef _SHPT_HARNESS_H
#define _SHPT_HARNESS_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"

#define SHPT_HARNESS_MAX_SEL	64

static bool shpt_harness_name_is(const char *want, const char *fixture,
				 const char *variant, const char *test)
{
	char full[512];

	if (!strcmp(want, test))
		return true;
	snprintf(full, sizeof(full), "%s.%s", fixture, test);
	if (!strcmp(want, full))
		return true;
	if (!variant || !variant[0])
		return false;
	snprintf(full, sizeof(full), "%s.%s.%s", fixture, variant, test);
	return !strcmp(want, full);
}

static bool shpt_harness_selected(char **sel, int nsel,
				  struct __fixture_metadata *f,
				  struct __fixture_variant_metadata *v,
				  struct __test_metadata *t)
{
	int i;

	for (i = 0; i < nsel; i++)
		if (shpt_harness_name_is(sel[i], f->name, v ? v->name : NULL,
					 t->name))
			return true;
	return false;
}

/* Is test @t selected in any variant of @f that is still listed? */
static bool shpt_harness_test_kept(char **sel, int nsel,
				   struct __fixture_metadata *f,
				   struct __test_metadata *t)
{
	struct __fixture_variant_metadata *v;

	if (!f->variant)
		return shpt_harness_selected(sel, nsel, f, NULL, t);
	for (v = f->variant; v; v = v->next)
		if (shpt_harness_selected(sel, nsel, f, v, t))
			return true;
	return false;
}

static bool shpt_harness_variant_kept(char **sel, int nsel,
				      struct __fixture_metadata *f,
				      struct __fixture_variant_metadata *v)
{
	struct __test_metadata *t;

	for (t = f->tests; t; t = t->next)
		if (shpt_harness_selected(sel, nsel, f, v, t))
			return true;
	return false;
}

/* Relink a harness list (next pointers; head->prev is the tail). */
#define SHPT_HARNESS_FILTER(head, keep)					\
	do {								\
		__typeof__(head) __it = (head), __nx, __tail = NULL;	\
		(head) = NULL;						\
		for (; __it; __it = __nx) {				\
			__nx = __it->next;				\
			if (!(keep))					\
				continue;				\
			__it->next = NULL;				\
			if (__tail)					\
				__tail->next = __it;			\
			else						\
				(head) = __it;				\
			__tail = __it;					\
			(head)->prev = __tail;				\
		}							\
	} while (0)

static void shpt_harness_filter(char **sel, int nsel)
{
	struct __fixture_metadata *f;
	bool had_variants;

	for (f = __fixture_list; f; f = f->next) {
		had_variants = f->variant;
		/* Decide on tests first: they look at the full variant list. */
		SHPT_HARNESS_FILTER(f->tests,
				    shpt_harness_test_kept(sel, nsel, f, __it));
		SHPT_HARNESS_FILTER(f->variant,
				    shpt_harness_variant_kept(sel, nsel, f, __it));
		if (had_variants && !f->variant)
			f->tests = NULL;	/* no variant left to run in */
	}
	SHPT_HARNESS_FILTER(__fixture_list, __it->tests);
}

static void shpt_harness_list(void)
{
	struct __fixture_variant_metadata *v;
	struct __fixture_metadata *f;
	struct __test_metadata *t;

	for (f = __fixture_list; f; f = f->next) {
		for (t = f->tests; t; t = t->next) {
			if (!f->variant) {
				printf("%s.%s\n", f->name, t->name);
				continue;
			}
			for (v = f->variant; v; v = v->next)
				printf("%s.%s.%s\n", f->name, v->name, t->name);
		}
	}
}

static void shpt_harness_args(int argc, char **argv)
{
	char *sel[SHPT_HARNESS_MAX_SEL];
	int nsel = 0, opt;
	bool list = false;

	while ((opt = getopt(argc, argv, "lt:h")) != -1) {
		switch (opt) {
		case 'l':
			list = true;
			break;
		case 't':
			if (nsel == SHPT_HARNESS_MAX_SEL) {
				fprintf(stderr, "too many -t\n");
				exit(KSFT_FAIL);
			}
			sel[nsel++] = optarg;
			break;
		default:
			fprintf(stderr, "usage: %s [-l] [-t test]...\n", argv[0]);
			exit(opt == 'h' ? 0 : KSFT_FAIL);
		}
	}
	if (nsel)
		shpt_harness_filter(sel, nsel);
	if (list) {
		shpt_harness_list();
		exit(0);
	}
	if (nsel && !__fixture_list) {
		printf("# no test matches");
		for (opt = 0; opt < nsel; opt++)
			printf(" %s", sel[opt]);
		printf("; see %s -l\n", argv[0]);
		exit(KSFT_FAIL);
	}
}

/*
 * SHPT_TIMEOUT_SCALE=N in the environment multiplies every test's harness
 * timeout by N (1 to 100): a KASAN and lockdep kernel under emulation runs
 * several times slower ("make check-debug" sets it).  The tests' own
 * bounded loops stay as they are.
 */
static inline int shpt_timeout_scale(void)
{
	const char *env = getenv("SHPT_TIMEOUT_SCALE");
	int scale = env ? atoi(env) : 1;

	return scale >= 1 && scale <= 100 ? scale : 1;
}

static void shpt_harness_scale_timeouts(void)
{
	struct __fixture_metadata *f;
	struct __test_metadata *t;
	int scale = shpt_timeout_scale();

	if (scale == 1)
		return;
	for (f = __fixture_list; f; f = f->next)
		for (t = f->tests; t; t = t->next)
			t->timeout *= scale;
}

/*
 * First statement of a TEST_F() body whose FIXTURE_SETUP() may SKIP():
 * 6.1's harness runs the body even then.
 */
#define SHPT_RETURN_IF_SKIPPED()					\
	do {								\
		if (_metadata->skip)					\
			return;						\
	} while (0)

#define SHPT_HARNESS_MAIN						\
	static void __attribute__((constructor))			\
	__constructor_order_last(void)					\
	{								\
		if (!__constructor_order)				\
			__constructor_order = _CONSTRUCTOR_ORDER_BACKWARD; \
	}								\
	int main(int argc, char **argv)					\
	{								\
		shpt_harness_args(argc, argv);				\
		shpt_harness_scale_timeouts();				\
		return test_harness_run(argc, argv);			\
	}

#endif /* _SHPT_HARNESS_H */
