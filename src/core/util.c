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
