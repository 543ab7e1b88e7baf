/* buf.c - growable byte buffer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* Make room for extra more bytes and a NUL: doubling (appends in many
 * small pieces) or exactly (one known size, jl_buf_reserve). */
static int make_room(jl_buf *b, size_t extra, int doubling)
{
	size_t need, cap;
	char *p;

	if (b->oom)
		return -1;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = need;
	if (doubling) {
		cap = b->cap ? b->cap : 64;
		while (cap < need)
			cap *= 2;
	}
	p = realloc(b->data, cap);
	if (!p) {
		b->oom = 1;
		return -1;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

int jl_buf_grow(jl_buf *b, size_t extra)
{
	return make_room(b, extra, 1);
}

int jl_buf_reserve(jl_buf *b, size_t extra)
{
	return make_room(b, extra, 0);
}

int jl_buf_put(jl_buf *b, const char *s, size_t n)
{
	if (jl_buf_grow(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int jl_buf_puts(jl_buf *b, const char *s)
{
	return jl_buf_put(b, s, strlen(s));
}

int jl_buf_putc(jl_buf *b, char c)
{
	return jl_buf_put(b, &c, 1);
}

int jl_buf_vprintf(jl_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || jl_buf_grow(b, (size_t)n) < 0)
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int jl_buf_printf(jl_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = jl_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void jl_buf_clear(jl_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void jl_buf_free(jl_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
}

char *jl_buf_detach(jl_buf *b)
{
	char *p = b->data;

	if (!p)
		p = calloc(1, 1);
	b->data = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
	return p;
}
