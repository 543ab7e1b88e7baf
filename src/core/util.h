/* util.h - small helpers shared by every layer (no I/O). */
#ifndef JL_UTIL_H
#define JL_UTIL_H

#include <stddef.h>

/* Copy src into dst (size n) as one line: CR/LF/TAB folded into spaces,
 * trailing spaces trimmed, always NUL-terminated when n > 0. */
void jl_one_line(char *dst, size_t n, const char *src);

/* Monotonic clock in seconds. */
double jl_now(void);

struct timespec;
/* *dl = CLOCK_MONOTONIC now + ms: the deadline of a pthread_cond_timedwait
 * on a condition variable set to that clock (so wall-clock jumps do not
 * stretch or cut the wait). */
void jl_deadline_ms(struct timespec *dl, int ms);

#endif
