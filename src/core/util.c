/* util.c - small helpers shared by every layer. */
#include <time.h>

#include "util.h"

void jl_one_line(char *dst, size_t n, const char *src)
{
	size_t i = 0;

	if (!n)
		return;
	for (; src && *src && i + 1 < n; src++)
		dst[i++] = (*src == '\n' || *src == '\r' || *src == '\t') ? ' ' : *src;
	while (i > 0 && dst[i - 1] == ' ')
		i--;
	dst[i] = '\0';
}

double jl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void jl_deadline_ms(struct timespec *dl, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, dl);
	dl->tv_sec += ms / 1000;
	dl->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (dl->tv_nsec >= 1000000000L) {
		dl->tv_sec++;
		dl->tv_nsec -= 1000000000L;
	}
}
