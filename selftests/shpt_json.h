/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A strict JSON parser (RFC 8259) for the selftests that read shptctl's
 * --json output: json_parse() rejects trailing garbage, duplicate keys and
 * control characters; jget(), jint() and jstr() read the result.
 */
#ifndef SHPT_JSON_H
#define SHPT_JSON_H

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHPT_JSON_UNUSED	__attribute__((unused))

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jv {
	int t;			/* enum jtype */
	bool b;
	bool is_uint;		/* J_NUM: a non-negative integer, in u */
	unsigned long long u;
	double d;		/* J_NUM */
	char *s;		/* J_STR, decoded */
	int n;			/* J_ARR, J_OBJ: members */
	char **keys;		/* J_OBJ */
	struct jv **kids;
};

struct jparser {
	const char *p, *end;
	int depth;
	char why[128];		/* the first error */
	size_t at;		/* its offset */
	const char *start;
};

#define J_MAX_DEPTH	64

static SHPT_JSON_UNUSED void jv_free(struct jv *v)
{
	if (!v)
		return;
	for (int i = 0; i < v->n; i++) {
		if (v->keys)
			free(v->keys[i]);
		jv_free(v->kids[i]);
	}
	free(v->keys);
	free(v->kids);
	free(v->s);
	free(v);
}

static struct jv *jfail(struct jparser *jp, const char *why, struct jv *v)
{
	if (!jp->why[0]) {
		snprintf(jp->why, sizeof(jp->why), "%s", why);
		jp->at = jp->p - jp->start;
	}
	jv_free(v);
	return NULL;
}

static void jws(struct jparser *jp)
{
	while (jp->p < jp->end &&
	       (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' || *jp->p == '\r'))
		jp->p++;
}

static bool jlit(struct jparser *jp, const char *lit)
{
	size_t l = strlen(lit);

	if ((size_t)(jp->end - jp->p) < l || memcmp(jp->p, lit, l))
		return false;
	jp->p += l;
	return true;
}

static int jhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A string at jp->p (the opening quote); returns it decoded, or NULL. */
static char *jstring(struct jparser *jp)
{
	static const char esc_in[] = "\"\\/bfnrt";
	static const char esc_out[] = "\"\\/\b\f\n\r\t";
	size_t cap = 32, len = 0;
	char *s = malloc(cap);

	if (!s || jp->p >= jp->end || *jp->p != '"') {
		free(s);
		jfail(jp, "expected a string", NULL);
		return NULL;
	}
	jp->p++;
	for (;;) {
		unsigned char c;

		if (jp->p >= jp->end) {
			jfail(jp, "unterminated string", NULL);
			goto bad;
		}
		c = (unsigned char)*jp->p++;
		if (c == '"')
			break;
		if (c < 0x20) {
			jp->p--;
			jfail(jp, "control character in a string", NULL);
			goto bad;
		}
		if (c == '\\') {
			if (jp->p >= jp->end) {
				jfail(jp, "unterminated escape", NULL);
				goto bad;
			}
			c = (unsigned char)*jp->p++;
			if (c == 'u') {
				for (int i = 0; i < 4; i++) {
					if (jp->p >= jp->end || jhex(*jp->p) < 0) {
						jfail(jp, "bad \\u escape", NULL);
						goto bad;
					}
					jp->p++;
				}
				c = '?';	/* the tests never look inside */
			} else if (c && strchr(esc_in, c)) {
				c = esc_out[strchr(esc_in, c) - esc_in];
			} else {
				jp->p--;
				jfail(jp, "bad escape", NULL);
				goto bad;
			}
		}
		if (len + 2 > cap) {
			char *t = realloc(s, cap *= 2);

			if (!t)
				goto bad;
			s = t;
		}
		s[len++] = (char)c;
	}
	s[len] = '\0';
	return s;
bad:
	free(s);
	return NULL;
}

static bool jdigits(struct jparser *jp)
{
	const char *p0 = jp->p;

	while (jp->p < jp->end && isdigit((unsigned char)*jp->p))
		jp->p++;
	return jp->p > p0;
}

static struct jv *jnumber(struct jparser *jp, struct jv *v)
{
	const char *p0 = jp->p;
	bool integral = true;
	char buf[64];

	v->t = J_NUM;
	if (jp->p < jp->end && *jp->p == '-') {
		jp->p++;
		integral = false;
	}
	if (jp->p < jp->end && *jp->p == '0')
		jp->p++;
	else if (jp->p >= jp->end || !isdigit((unsigned char)*jp->p) ||
		 !jdigits(jp))
		return jfail(jp, "bad number", v);
	if (jp->p < jp->end && *jp->p == '.') {
		jp->p++;
		integral = false;
		if (!jdigits(jp))
			return jfail(jp, "no digits after '.'", v);
	}
	if (jp->p < jp->end && (*jp->p == 'e' || *jp->p == 'E')) {
		jp->p++;
		integral = false;
		if (jp->p < jp->end && (*jp->p == '+' || *jp->p == '-'))
			jp->p++;
		if (!jdigits(jp))
			return jfail(jp, "no digits in the exponent", v);
	}
	if ((size_t)(jp->p - p0) >= sizeof(buf))
		return jfail(jp, "number too long", v);
	memcpy(buf, p0, jp->p - p0);
	buf[jp->p - p0] = '\0';
	v->d = strtod(buf, NULL);
	if (integral) {
		errno = 0;
		v->u = strtoull(buf, NULL, 10);
		v->is_uint = errno == 0;
	}
	return v;
}

static struct jv *jvalue(struct jparser *jp);

static bool jpush(struct jv *v, char *key, struct jv *kid)
{
	struct jv **kids = realloc(v->kids, (v->n + 1) * sizeof(*kids));

	if (!kids)
		return false;
	v->kids = kids;
	if (v->t == J_OBJ) {
		char **keys = realloc(v->keys, (v->n + 1) * sizeof(*keys));

		if (!keys)
			return false;
		v->keys = keys;
		v->keys[v->n] = key;
	}
	v->kids[v->n++] = kid;
	return true;
}

static struct jv *jcontainer(struct jparser *jp, struct jv *v, bool obj)
{
	char close = obj ? '}' : ']';

	v->t = obj ? J_OBJ : J_ARR;
	if (++jp->depth > J_MAX_DEPTH)
		return jfail(jp, "nested too deep", v);
	jp->p++;
	jws(jp);
	if (jp->p < jp->end && *jp->p == close) {
		jp->p++;
		jp->depth--;
		return v;
	}
	for (;;) {
		struct jv *kid;
		char *key = NULL;

		jws(jp);
		if (obj) {
			key = jstring(jp);
			if (!key)
				return jfail(jp, "expected a key", v);
			for (int i = 0; i < v->n; i++) {
				if (!strcmp(v->keys[i], key)) {
					free(key);
					return jfail(jp, "duplicate key", v);
				}
			}
			jws(jp);
			if (jp->p >= jp->end || *jp->p != ':') {
				free(key);
				return jfail(jp, "expected ':'", v);
			}
			jp->p++;
		}
		kid = jvalue(jp);
		if (!kid || !jpush(v, key, kid)) {
			free(key);
			jv_free(kid);
			return jfail(jp, "bad member", v);
		}
		jws(jp);
		if (jp->p < jp->end && *jp->p == ',') {
			jp->p++;
			continue;
		}
		if (jp->p < jp->end && *jp->p == close) {
			jp->p++;
			jp->depth--;
			return v;
		}
		return jfail(jp, obj ? "expected ',' or '}'" : "expected ',' or ']'", v);
	}
}

static struct jv *jvalue(struct jparser *jp)
{
	struct jv *v = calloc(1, sizeof(*v));

	if (!v)
		return jfail(jp, "out of memory", NULL);
	jws(jp);
	if (jp->p >= jp->end)
		return jfail(jp, "expected a value", v);
	switch (*jp->p) {
	case '{':
		return jcontainer(jp, v, true);
	case '[':
		return jcontainer(jp, v, false);
	case '"':
		v->t = J_STR;
		v->s = jstring(jp);
		return v->s ? v : jfail(jp, "bad string", v);
	case 't':
		v->t = J_BOOL;
		v->b = true;
		return jlit(jp, "true") ? v : jfail(jp, "bad literal", v);
	case 'f':
		v->t = J_BOOL;
		return jlit(jp, "false") ? v : jfail(jp, "bad literal", v);
	case 'n':
		v->t = J_NULL;
		return jlit(jp, "null") ? v : jfail(jp, "bad literal", v);
	default:
		return jnumber(jp, v);
	}
}

/*
 * Parse all of @len bytes at @s as one JSON document; NULL with @why set
 * when it is not one (including trailing garbage and embedded NULs).
 */
static SHPT_JSON_UNUSED struct jv *json_parse(const char *s, size_t len,
					       char *why, size_t wlen)
{
	struct jparser jp = { .p = s, .end = s + len, .start = s };
	struct jv *v = jvalue(&jp);

	if (v) {
		jws(&jp);
		if (jp.p != jp.end)
			v = jfail(&jp, "trailing garbage", v);
	}
	if (!v && why)
		snprintf(why, wlen, "%s at offset %zu", jp.why, jp.at);
	return v;
}

static SHPT_JSON_UNUSED struct jv *jget(const struct jv *o, const char *key)
{
	if (!o || o->t != J_OBJ)
		return NULL;
	for (int i = 0; i < o->n; i++)
		if (!strcmp(o->keys[i], key))
			return o->kids[i];
	return NULL;
}

/* The non-negative integer at @key, or -1. */
static SHPT_JSON_UNUSED long long jint(const struct jv *o, const char *key)
{
	const struct jv *v = jget(o, key);

	return v && v->t == J_NUM && v->is_uint ? (long long)v->u : -1;
}

static SHPT_JSON_UNUSED const char *jstr(const struct jv *o, const char *key)
{
	const struct jv *v = jget(o, key);

	return v && v->t == J_STR ? v->s : NULL;
}

#endif /* SHPT_JSON_H */
