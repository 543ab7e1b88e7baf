/* buf.h - growable byte buffer used across modules (no I/O). */
#ifndef JL_BUF_H
#define JL_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct jl_buf {
	char *data;   /* always NUL-terminated when len > 0 or after any append */
	size_t len;
	size_t cap;
	int oom;      /* sticky: set when an allocation failed */
} jl_buf;

#define JL_BUF_INIT { NULL, 0, 0, 0 }

/* Each returns 0, or -1 after an allocation failure (then buf->oom stays set). */
int jl_buf_grow(jl_buf *b, size_t extra);
/* Room for extra more bytes, allocated to that size exactly (grow doubles):
 * for a buffer whose final size is known about. */
int jl_buf_reserve(jl_buf *b, size_t extra);
int jl_buf_put(jl_buf *b, const char *s, size_t n);
int jl_buf_puts(jl_buf *b, const char *s);
int jl_buf_putc(jl_buf *b, char c);
int jl_buf_printf(jl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int jl_buf_vprintf(jl_buf *b, const char *fmt, va_list ap);
void jl_buf_clear(jl_buf *b);          /* len = 0, keeps memory */
void jl_buf_free(jl_buf *b);
char *jl_buf_detach(jl_buf *b);        /* caller owns the string; buf is reset */

#endif
