/* utf8fix.c - repair the bytes of a JSON text that no JSON parser takes:
 * invalid UTF-8 and unpaired UTF-16 surrogate escapes. Pure, no I/O. */
#include <string.h>

#include "utf8fix.h"

static const char fffd_bytes[] = "\xEF\xBF\xBD";

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The code unit of "\uXXXX" at p (p[0] == '\\'), or -1 when p does not
 * hold one within end. */
static long escape_unit(const unsigned char *p, const unsigned char *end)
{
	long v = 0;

	if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
		return -1;
	for (int k = 2; k < 6; k++) {
		int h = hexval(p[k]);

		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

/*
 * Length of the well-formed UTF-8 sequence at p (Unicode's table 3-7: no
 * overlong forms, no encoded surrogates, nothing past U+10FFFF), or 0.
 */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0];
	size_t n, avail = (size_t)(end - p);
	unsigned char lo = 0x80, hi = 0xBF;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (avail < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t k = 2; k < n; k++)
		if (p[k] < 0x80 || p[k] > 0xBF)
			return 0;
	return n;
}

long jl_utf8_json_repair(const char *text, size_t len, jl_buf *out)
{
	const unsigned char *p = (const unsigned char *)text, *end = p + len;
	long fixed = 0;

	while (p < end) {
		const unsigned char *run = p;
		size_t n;

		/* Copy the well-formed stretch in one piece. */
		while (p < end && *p != '\\' && (n = utf8_len(p, end)) > 0)
			p += n;
		jl_buf_put(out, (const char *)run, (size_t)(p - run));
		if (p >= end)
			break;
		if (*p == '\\') {
			long u = escape_unit(p, end);

			if (u >= 0xD800 && u <= 0xDBFF) {
				long lo = escape_unit(p + 6, end);

				if (lo >= 0xDC00 && lo <= 0xDFFF) {
					jl_buf_put(out, (const char *)p, 12);
					p += 12;
				} else {
					jl_buf_puts(out, "\\ufffd");
					p += 6;
					fixed++;
				}
			} else if (u >= 0xDC00 && u <= 0xDFFF) {
				jl_buf_puts(out, "\\ufffd");
				p += 6;
				fixed++;
			} else {
				/* Any other escape (\\ and \" included) as a pair, so
				 * that an escaped backslash never starts one. */
				n = p + 1 < end ? 2 : 1;
				jl_buf_put(out, (const char *)p, n);
				p += n;
			}
		} else {
			/* One bad byte at a time: U+FFFD for each, as the
			 * Unicode standard's practice for maximal subparts. */
			jl_buf_put(out, fffd_bytes, 3);
			p++;
			fixed++;
		}
	}
	return out->oom ? -1 : fixed;
}
