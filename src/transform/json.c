/* json.c - compact JSON text and number text for PostgreSQL. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* Rewrite "%g" exponent text ("-1.25e-07") as a plain decimal
 * ("-0.000000125"): display text is read by people and by numeric(). */
static int put_plain(jl_buf *out, const char *g)
{
	char digits[32];
	int nd = 0, point = -1, exp;
	const char *p = g;

	if (*p == '-') {
		jl_buf_putc(out, '-');
		p++;
	}
	for (; *p && *p != 'e'; p++) {
		if (*p == '.')
			point = nd;
		else if (nd < (int)sizeof(digits))
			digits[nd++] = *p;
	}
	exp = atoi(p + 1);
	if (point < 0)
		point = nd;
	point += exp;   /* position of the decimal point within digits */
	if (point <= 0) {
		jl_buf_puts(out, "0.");
		for (int i = 0; i < -point; i++)
			jl_buf_putc(out, '0');
		return jl_buf_put(out, digits, (size_t)nd);
	}
	for (int i = 0; i < point; i++)
		jl_buf_putc(out, i < nd ? digits[i] : '0');
	if (point < nd) {
		jl_buf_putc(out, '.');
		jl_buf_put(out, digits + point, (size_t)(nd - point));
	}
	return out->oom ? -1 : 0;
}

int jl_json_put_real(jl_buf *out, double d, int keep_point)
{
	char tmp[64];
	int prec;

	if (!isfinite(d))
		return -1;
	/* Shortest precision that round-trips: at most 17 digits for a double. */
	for (prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	if (keep_point) {
		if (!strpbrk(tmp, ".eEn"))
			strcat(tmp, ".0");
		return jl_buf_puts(out, tmp);
	}
	return strchr(tmp, 'e') ? put_plain(out, tmp) : jl_buf_puts(out, tmp);
}

static int put_string(jl_buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	if (jl_buf_grow(out, n + 2) < 0)
		return -1;
	jl_buf_putc(out, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t start = i;

		/* Copy runs of plain bytes at once: the common case. */
		while (i < n && c >= 0x20 && c != '"' && c != '\\')
			c = (unsigned char)s[++i];
		if (i > start)
			jl_buf_put(out, s + start, i - start);
		if (i >= n)
			break;
		switch (c) {
		case '"': jl_buf_put(out, "\\\"", 2); break;
		case '\\': jl_buf_put(out, "\\\\", 2); break;
		case '\n': jl_buf_put(out, "\\n", 2); break;
		case '\r': jl_buf_put(out, "\\r", 2); break;
		case '\t': jl_buf_put(out, "\\t", 2); break;
		case '\b': jl_buf_put(out, "\\b", 2); break;
		case '\f': jl_buf_put(out, "\\f", 2); break;
		case 0: break;  /* never stored: jsonb rejects \u0000 */
		default: {
			char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			jl_buf_put(out, u, 6);
		}
		}
	}
	return jl_buf_putc(out, '"');
}

int jl_json_compact(jl_buf *out, const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *x;
		int first = 1;

		jl_buf_putc(out, '{');
		json_object_foreach((json_t *)v, k, x) {
			if (!first)
				jl_buf_putc(out, ',');
			first = 0;
			put_string(out, k, strlen(k));
			jl_buf_putc(out, ':');
			if (jl_json_compact(out, x) < 0)
				return -1;
		}
		return jl_buf_putc(out, '}');
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *x;

		jl_buf_putc(out, '[');
		json_array_foreach(v, i, x) {
			if (i)
				jl_buf_putc(out, ',');
			if (jl_json_compact(out, x) < 0)
				return -1;
		}
		return jl_buf_putc(out, ']');
	}
	case JSON_STRING:
		return put_string(out, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		return jl_buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	case JSON_REAL:
		return jl_json_put_real(out, json_real_value(v), 1);
	case JSON_TRUE:
		return jl_buf_puts(out, "true");
	case JSON_FALSE:
		return jl_buf_puts(out, "false");
	case JSON_NULL:
		return jl_buf_puts(out, "null");
	}
	return -1;
}

long jl_json_strip_nul(json_t *v)
{
	long n = 0, r;

	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *x;

		json_object_foreach(v, k, x) {
			if ((r = jl_json_strip_nul(x)) < 0)
				return -1;
			n += r;
		}
		return n;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *x;

		json_array_foreach(v, i, x) {
			if ((r = jl_json_strip_nul(x)) < 0)
				return -1;
			n += r;
		}
		return n;
	}
	case JSON_STRING: {
		const char *s = json_string_value(v);
		size_t len = json_string_length(v), j = 0;
		char *copy;

		if (!memchr(s, '\0', len))
			return 0;
		copy = malloc(len);
		if (!copy)
			return -1;
		for (size_t i = 0; i < len; i++)
			if (s[i])
				copy[j++] = s[i];
		r = json_string_setn(v, copy, j);
		free(copy);
		return r < 0 ? -1 : 1;
	}
	default:
		return 0;
	}
}

long jl_json_strip_nul_except(json_t *obj, const char *const *keep)
{
	const char *k;
	json_t *x;
	long n = 0, r;

	if (!json_is_object(obj))
		return jl_json_strip_nul(obj);
	json_object_foreach(obj, k, x) {
		size_t i = 0;

		while (keep[i] && strcmp(keep[i], k) != 0)
			i++;
		if (keep[i])
			continue;
		if ((r = jl_json_strip_nul(x)) < 0)
			return -1;
		n += r;
	}
	return n;
}

int jl_id_needs_escape(const char *s, size_t len)
{
	return memchr(s, '\0', len) || memchr(s, '%', len);
}

int jl_id_escape(jl_buf *out, const char *s, size_t len)
{
	size_t from = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] != '\0' && s[i] != '%')
			continue;
		if (jl_buf_put(out, s + from, i - from) < 0 || jl_buf_puts(out, s[i] ? "%25" : "%00") < 0)
			return -1;
		from = i + 1;
	}
	return jl_buf_put(out, s + from, len - from);
}

int jl_json_scalar_text(jl_buf *out, const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		return jl_buf_put(out, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		return jl_buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	case JSON_REAL:
		return jl_json_put_real(out, json_real_value(v), 0);
	case JSON_TRUE:
		return jl_buf_puts(out, "true");
	case JSON_FALSE:
		return jl_buf_puts(out, "false");
	default:
		return -1;
	}
}
