/* jparse.c - JSON text to a jansson tree (see jparse.h). Recursive descent
 * over the text in memory; strings without escapes go to jansson straight
 * from the text, with one copy (jansson's own).
 *
 * One grammar, two outputs: with ps.build clear the same functions only
 * check the text (no tree, no allocation) and answer a non-NULL token for a
 * valid value. Every rule (UTF-8, escapes, depth) is thus written once and
 * holds for both; the checks that need the value itself (integer range,
 * real overflow, NUL in a key) are not repeated: a value that would need
 * them sets ps.needs_tree and is read again as a tree (see jparse.h). */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../core/buf.h"
#include "../core/word.h"
#include "jparse.h"

/* json_loadb's limit (JSON_PARSER_MAX_DEPTH in jansson 2.14). */
#define MAX_DEPTH 2048

typedef struct ps {
	const char *p, *e, *start;
	jl_buf sb;                /* unescaped text of the current string (build only) */
	const char *errat;
	char *why;
	size_t whylen;
	int failed;
	int build;                /* 1: make the tree; 0: only check the text */
	int needs_tree;           /* check only: valid so far, but the text alone
	                           * cannot be kept (\u0000, a number to convert) */
	const jl_json_lazy *lazy; /* values to keep as text, or NULL */
	int drops;                /* members named in lazy->drop are skipped here */
} ps;

/* What a value checked without a tree returns: any non-NULL pointer would
 * do; the null singleton is harmless should one ever be released. */
#define CHECKED json_null()

static json_t *fail(ps *s, const char *at, const char *msg)
{
	if (!s->failed) {
		s->failed = 1;
		s->errat = at;
		if (s->why && s->whylen)
			snprintf(s->why, s->whylen, "%s", msg);
	}
	return NULL;
}

static void ws(ps *s)
{
	const char *p = s->p;

	while (p < s->e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	s->p = p;
}

/* Length of the valid UTF-8 sequence at p (a byte >= 0x80), or 0: no
 * overlong forms, no UTF-16 surrogates, nothing above U+10FFFF. */
static int utf8_len(const unsigned char *p, const unsigned char *e)
{
	unsigned c = p[0];

	if (c >= 0xC2 && c <= 0xDF)
		return e - p >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		if (e - p < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
			return 0;
		if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F))
			return 0;
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (e - p < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
			return 0;
		if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] > 0x8F))
			return 0;
		return 4;
	}
	return 0;
}

static int hex4(const unsigned char *p, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		unsigned c = p[i], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

static void put_utf8(jl_buf *b, unsigned cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | cp >> 12);
		u[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | cp >> 18);
		u[1] = (char)(0x80 | (cp >> 12 & 0x3F));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	jl_buf_put(b, u, n);
}

/* What a one-letter escape (\\b, \\n, \\", …) stands for. */
static char unescape(unsigned char c)
{
	switch (c) {
	case 'b':
		return '\b';
	case 'f':
		return '\f';
	case 'n':
		return '\n';
	case 'r':
		return '\r';
	case 't':
		return '\t';
	default:
		return (char)c;   /* " \\ / stand for themselves */
	}
}

/* Nonzero when one of the 8 bytes at p may end a plain run (below 0x20,
 * 0x80 and up, '"' or '\\'; core/word.h), zero only when none can. String
 * scanning was 12 % of the worker's CPU (perf, 20,000 issues) at a byte
 * per step; this halves it. */
static uint64_t plain_word(const unsigned char *p)
{
	uint64_t v = jl_word_at(p);

	return jl_word_below(v, 0x20) | jl_word_high(v) | jl_word_has(v, '"') | jl_word_has(v, '\\');
}

/* Past the plain run at p: printable ASCII but the quote and the
 * backslash; eight bytes at a time while no byte of the word can end it,
 * then byte by byte (plain_word has false alarms only). */
static const unsigned char *plain_run(const unsigned char *p, const unsigned char *e)
{
	while (e - p >= 8 && !plain_word(p))
		p += 8;
	while (p < e && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
		p++;
	return p;
}

/* The \\u escape (or surrogate pair) at p: its character added to s->sb;
 * returns the text after it, or NULL with the error recorded. */
static const unsigned char *u_escape(ps *s, const unsigned char *p, const unsigned char *e)
{
	unsigned cp, lo;

	if (e - p < 6 || hex4(p + 2, &cp) < 0)
		return fail(s, (const char *)p, "invalid \\u escape"), NULL;
	p += 6;
	if (cp >= 0xD800 && cp <= 0xDBFF) {
		if (e - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
			return fail(s, (const char *)p, "invalid Unicode surrogate pair"), NULL;
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		p += 6;
	} else if (cp >= 0xDC00 && cp <= 0xDFFF) {
		return fail(s, (const char *)p - 6, "invalid Unicode surrogate pair"), NULL;
	}
	if (s->build) {
		put_utf8(&s->sb, cp);
		if (cp == 0 && s->lazy && s->lazy->saw_nul)
			*s->lazy->saw_nul = 1;
	} else if (cp == 0)
		s->needs_tree = 1;   /* stripped (a string) or refused (a key) */
	return p;
}

/* The string whose opening quote is just before s->p: its bytes in *out
 * (pointing into the text when it holds no escape, else into s->sb) and
 * *len. Returns 0, or -1 with the error recorded. */
static int string(ps *s, const char **out, size_t *len)
{
	const unsigned char *p = (const unsigned char *)s->p, *e = (const unsigned char *)s->e, *run = p;
	int escaped = 0;

	for (;;) {
		p = plain_run(p, e);
		if (p >= e)
			return fail(s, (const char *)p, "premature end of input in a string"), -1;
		if (*p == '"')
			break;
		if (*p >= 0x80) {
			int n = utf8_len(p, e);

			if (!n)
				return fail(s, (const char *)p, "invalid UTF-8 in a string"), -1;
			p += n;
			continue;
		}
		if (*p < 0x20)
			return fail(s, (const char *)p, "control character in a string"), -1;
		/* A backslash. */
		if (!escaped) {
			escaped = 1;
			jl_buf_clear(&s->sb);
		}
		if (s->build)
			jl_buf_put(&s->sb, (const char *)run, (size_t)(p - run));
		if (e - p < 2)
			return fail(s, (const char *)p, "premature end of input in a string"), -1;
		switch (p[1]) {
		case '"':
		case '\\':
		case '/':
		case 'b':
		case 'f':
		case 'n':
		case 'r':
		case 't':
			if (s->build)
				jl_buf_putc(&s->sb, unescape(p[1]));
			p += 2;
			break;
		case 'u':
			if (!(p = u_escape(s, p, e)))
				return -1;
			break;
		default:
			return fail(s, (const char *)p, "invalid escape in a string"), -1;
		}
		run = p;
	}
	if (escaped && s->build) {
		jl_buf_put(&s->sb, (const char *)run, (size_t)(p - run));
		if (s->sb.oom)
			return fail(s, (const char *)p, "out of memory"), -1;
		*out = s->sb.len ? s->sb.data : "";
		*len = s->sb.len;
	} else {
		*out = s->p;
		*len = (size_t)((const char *)p - s->p);
	}
	s->p = (const char *)p + 1;
	return 0;
}

static int digit(const char *p, const char *e)
{
	return p < e && *p >= '0' && *p <= '9';
}

/*
 * Whether a number's text, stored as it is, is the same number jsonb gets
 * from the tree path, which converts it (json_integer, or json_real then
 * the shortest decimal that reads back, json.c). An integer of up to 18
 * digits always fits json_int_t. A real of up to 15 digits in all (DBL_DIG:
 * two such decimals never round to one double, so the shortest read-back
 * decimal is the text's own number) with an exponent far from the double's
 * limits (no overflow, no subnormal) converts exactly. Anything else is
 * converted, to be judged as before.
 */
static int text_is_exact(const char *b, const char *p, int real, size_t ndigits)
{
	const char *x;
	int ex = 0;

	if (!real)
		return ndigits <= 18;
	if (ndigits > 15)
		return 0;
	for (x = b; x < p && *x != 'e' && *x != 'E'; x++)
		;
	if (x == p)
		return 1;
	if (++x < p && (*x == '+' || *x == '-'))
		x++;
	for (; x < p; x++)
		if ((ex = ex * 10 + (*x - '0')) > 280)
			return 0;
	return 1;
}

static json_t *number(ps *s)
{
	const char *b = s->p, *p = b, *e = s->e, *d0;
	char small[64], *txt = small;
	int real = 0;
	size_t ndigits;
	size_t n;
	json_t *v;

	if (p < e && *p == '-')
		p++;
	if (!digit(p, e))
		return fail(s, p, "invalid number");
	d0 = p;
	if (*p == '0') {
		if (digit(++p, e))
			return fail(s, p, "invalid number (leading zero)");
	} else {
		while (digit(p, e))
			p++;
	}
	ndigits = (size_t)(p - d0);
	if (p < e && *p == '.') {
		real = 1;
		if (!digit(++p, e))
			return fail(s, p, "invalid number");
		d0 = p;
		while (digit(p, e))
			p++;
		ndigits += (size_t)(p - d0);
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		real = 1;
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		if (!digit(p, e))
			return fail(s, p, "invalid number");
		while (digit(p, e))
			p++;
	}
	if (!s->build) {
		if (!text_is_exact(b, p, real, ndigits))
			s->needs_tree = 1;
		s->p = p;
		return CHECKED;
	}
	n = (size_t)(p - b);
	if (n >= sizeof(small) && !(txt = malloc(n + 1)))
		return fail(s, b, "out of memory");
	memcpy(txt, b, n);
	txt[n] = '\0';
	errno = 0;
	if (!real) {
		long long i = strtoll(txt, NULL, 10);

		v = errno == ERANGE ? fail(s, b, i < 0 ? "too big negative integer" : "too big integer") :
				      json_integer((json_int_t)i);
	} else {
		const char *point = localeconv()->decimal_point;
		double d;

		/* strtod reads the locale's decimal point; JSON's is '.'. */
		if (point && point[0] != '.' && point[0] && !point[1]) {
			char *dot = strchr(txt, '.');

			if (dot)
				*dot = point[0];
		}
		d = strtod(txt, NULL);
		v = errno == ERANGE && isinf(d) ? fail(s, b, "real number overflow") : json_real(d);
	}
	if (txt != small)
		free(txt);
	if (!v)
		return fail(s, b, "out of memory");
	s->p = p;
	return v;
}

static json_t *value(ps *s, int depth, int lazy);

static json_t *array(ps *s, int depth)
{
	json_t *a = s->build ? json_array() : CHECKED;

	if (!a)
		return fail(s, s->p, "out of memory");
	s->p++;
	ws(s);
	if (s->p < s->e && *s->p == ']') {
		s->p++;
		return a;
	}
	for (;;) {
		json_t *v = value(s, depth + 1, 0);

		if (!v || (s->build && json_array_append_new(a, v) < 0))
			break;
		ws(s);
		if (s->p < s->e && *s->p == ',') {
			s->p++;
			ws(s);
			continue;
		}
		if (s->p < s->e && *s->p == ']') {
			s->p++;
			return a;
		}
		fail(s, s->p, "',' or ']' expected");
		break;
	}
	fail(s, s->p, "out of memory");
	if (s->build)
		json_decref(a);
	return NULL;
}

/* How object() puts a member's value: a new reference, a borrowed one (a
 * stand-in), or not at all, the key removed (a kept key's null). */
enum { PUT_NEW, PUT_BORROWED, PUT_DROP };

/* The value of key in the object s->lazy names, at s->p, answered
 * JL_LAZY_TEXT: checked, and kept
 * as text when the text alone will do (a stand-in then takes its place:
 * PUT_BORROWED), else parsed as a tree as any other value. A null is left
 * out (PUT_DROP): the transform skips nulls, and a Cloud issue has dozens,
 * each a key copy and a hash entry; removing the key keeps "the last
 * wins" (an earlier value is gone, as a later null would replace it). */
static json_t *lazy_value(ps *s, int depth, const char *key, size_t klen, int *put)
{
	const char *at = s->p;
	const jl_json_lazy *lz = s->lazy;
	json_t *v;

	if (at >= s->e)
		return value(s, depth, 0);
	if (*at == 'n') {
		if ((v = value(s, depth, 0)))
			*put = PUT_DROP;
		return v;
	}
	s->build = 0;
	s->needs_tree = 0;
	v = value(s, depth, 0);
	s->build = 1;
	if (!v)
		return NULL;   /* the tree would have failed too: same grammar */
	if (s->needs_tree) {
		s->p = at;
		return value(s, depth, 0);
	}
	if (!(v = lz->stand_in(lz->ud, key, klen, at, (size_t)(s->p - at))))
		return fail(s, at, "out of memory");
	*put = PUT_BORROWED;
	return v;
}

/* A value left out of the tree (PUT_DROP), judged as the tree would judge
 * it: checked, and built then released when only its tree can tell (a
 * number to convert; a \u0000 there is in no string of the tree). */
static json_t *skip_value(ps *s, int depth, int *put)
{
	const char *at = s->p;
	int *nul = s->lazy->saw_nul, was = nul ? *nul : 0;
	json_t *v;

	s->build = 0;
	s->needs_tree = 0;
	v = value(s, depth, 0);
	s->build = 1;
	if (v && s->needs_tree) {
		s->p = at;
		if ((v = value(s, depth, 0)))
			json_decref(v);
		if (nul)
			*nul = was;
	}
	if (!v)
		return NULL;
	*put = PUT_DROP;
	return CHECKED;
}

static int dropped(const char *const *drop, const char *key, size_t klen)
{
	for (; drop && *drop; drop++)
		if (klen && (*drop)[0] == key[0] && strncmp(*drop, key, klen) == 0 && (*drop)[klen] == '\0')
			return 1;
	return 0;
}

/* The value of key in an object at depth, while building: as keep_text
 * says when the object is the lazy one (lazy), skipped when s->drops and
 * lazy->drop names it, the lazy object itself when key is s->lazy->under in
 * the top-level object, else an ordinary value. */
static json_t *member(ps *s, int depth, int lazy, const char *key, size_t klen, int *put)
{
	const jl_json_lazy *lz = s->lazy;
	int how = JL_LAZY_TREE, drops = s->drops, under;
	json_t *v;

	if (!s->build)
		return value(s, depth + 1, 0);
	if (lazy)
		how = lz->keep_text(lz->ud, key, klen);
	else if (drops && dropped(lz->drop, key, klen))
		how = JL_LAZY_SKIP;
	if (how == JL_LAZY_SKIP)
		return skip_value(s, depth + 1, put);
	if (how == JL_LAZY_TEXT)
		return lazy_value(s, depth + 1, key, klen, put);
	under = lz && lz->under && depth == 1 && klen == strlen(lz->under) && memcmp(key, lz->under, klen) == 0;
	if (lazy)
		s->drops = how == JL_LAZY_TRIM;
	v = value(s, depth + 1, under);
	s->drops = drops;
	return v;
}

/* lazy: this is the object whose values s->lazy may keep as text. */
static json_t *object(ps *s, int depth, int lazy)
{
	json_t *o = s->build ? json_object() : CHECKED;

	if (!o)
		return fail(s, s->p, "out of memory");
	s->p++;
	ws(s);
	if (s->p < s->e && *s->p == '}') {
		s->p++;
		return o;
	}
	for (;;) {
		const char *key, *at = s->p;
		char *owned = NULL;
		size_t klen;
		json_t *v;
		int rc, put = PUT_NEW;

		if (s->p >= s->e || *s->p != '"') {
			fail(s, s->p, "string or '}' expected");
			break;
		}
		s->p++;
		if (string(s, &key, &klen) < 0)
			break;
		if (s->build && memchr(key, '\0', klen)) {
			fail(s, at, "NUL byte in object key not supported");
			break;
		}
		/* An unescaped key points into the text and stays valid; an
		 * escaped one is in the scratch buffer the value will reuse. */
		if (s->build && key == s->sb.data && klen) {
			if (!(owned = malloc(klen))) {
				fail(s, at, "out of memory");
				break;
			}
			memcpy(owned, key, klen);
			key = owned;
		}
		ws(s);
		if (s->p >= s->e || *s->p != ':') {
			free(owned);
			fail(s, s->p, "':' expected");
			break;
		}
		s->p++;
		ws(s);
		v = member(s, depth, lazy, key, klen, &put);
		if (!v)
			rc = -1;
		else if (!s->build || (put == PUT_DROP && (json_object_deln(o, key, klen), 1)))
			rc = 0;
		else if (put == PUT_BORROWED)
			rc = json_object_setn_nocheck(o, key, klen, v);
		else
			rc = json_object_setn_new_nocheck(o, key, klen, v);
		free(owned);
		if (rc < 0) {
			fail(s, at, "out of memory");
			break;
		}
		ws(s);
		if (s->p < s->e && *s->p == ',') {
			s->p++;
			ws(s);
			continue;
		}
		if (s->p < s->e && *s->p == '}') {
			s->p++;
			return o;
		}
		fail(s, s->p, "',' or '}' expected");
		break;
	}
	if (s->build)
		json_decref(o);
	return NULL;
}

static json_t *literal(ps *s, const char *word, size_t n, json_t *v)
{
	if ((size_t)(s->e - s->p) < n || memcmp(s->p, word, n) != 0)
		return fail(s, s->p, "invalid token");
	s->p += n;
	return v;   /* true, false, null: singletons, CHECKED or not */
}

/* lazy: an object here is the one whose values s->lazy may keep as text. */
static json_t *value(ps *s, int depth, int lazy)
{
	if (depth > MAX_DEPTH)
		return fail(s, s->p, "maximum parsing depth reached");
	if (s->p >= s->e)
		return fail(s, s->p, "premature end of input");
	switch (*s->p) {
	case '{':
		return object(s, depth, lazy);
	case '[':
		return array(s, depth);
	case '"': {
		const char *str;
		size_t len;
		json_t *v;

		s->p++;
		if (string(s, &str, &len) < 0)
			return NULL;
		if (!s->build)
			return CHECKED;
		if (!(v = json_stringn_nocheck(str, len)))
			return fail(s, s->p, "out of memory");
		return v;
	}
	case 't':
		return literal(s, "true", 4, json_true());
	case 'f':
		return literal(s, "false", 5, json_false());
	case 'n':
		return literal(s, "null", 4, json_null());
	default:
		if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
			return number(s);
		return fail(s, s->p, "invalid token");
	}
}

/* The public entry points: whole says whether the value must be all of
 * the text; build, whether to make a tree or only check; lazy, which values
 * to keep as text (build only). Returns the tree or CHECKED, or NULL. */
static json_t *parse(const char *text, size_t n, int whole, int build, const jl_json_lazy *lazy,
	size_t *used, size_t *errpos, char *why, size_t whylen, int *needs_tree)
{
	ps s;
	json_t *v;

	memset(&s, 0, sizeof(s));
	s.p = s.start = text ? text : "";
	s.e = s.p + (text ? n : 0);
	s.why = why;
	s.whylen = whylen;
	s.build = build;
	s.lazy = lazy;
	s.drops = lazy && lazy->drop;
	ws(&s);
	v = value(&s, 1, 0);
	if (v && whole) {
		ws(&s);
		if (s.p != s.e) {
			fail(&s, s.p, "end of input expected");
			if (build)
				json_decref(v);
			v = NULL;
		}
	}
	if (v && used)
		*used = (size_t)(s.p - s.start);
	if (!v && errpos)
		*errpos = (size_t)(s.errat - s.start);
	if (needs_tree)
		*needs_tree = s.needs_tree;
	jl_buf_free(&s.sb);
	return v;
}

json_t *jl_json_parse(const char *text, size_t n, size_t *errpos, char *why, size_t whylen)
{
	return parse(text, n, 1, 1, NULL, NULL, errpos, why, whylen, NULL);
}

json_t *jl_json_parse_prefix(const char *text, size_t n, size_t *used)
{
	return parse(text, n, 0, 1, NULL, used, NULL, NULL, 0, NULL);
}

json_t *jl_json_parse_lazy(const char *text, size_t n, size_t *errpos, char *why, size_t whylen,
	const jl_json_lazy *lazy)
{
	return parse(text, n, 1, 1, lazy, NULL, errpos, why, whylen, NULL);
}

json_t *jl_json_parse_prefix_lazy(const char *text, size_t n, size_t *used, const jl_json_lazy *lazy)
{
	return parse(text, n, 0, 1, lazy, used, NULL, NULL, 0, NULL);
}

int jl_json_check(const char *text, size_t n, size_t *errpos, char *why, size_t whylen)
{
	int needs_tree = 0;

	if (!parse(text, n, 1, 0, NULL, NULL, errpos, why, whylen, &needs_tree))
		return JL_JSON_INVALID;
	return needs_tree ? JL_JSON_NEEDS_TREE : JL_JSON_TEXT_OK;
}
