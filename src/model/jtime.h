/* jtime.h - Jira's timestamp text, read by one lexer: the client's
 * watermark (src/jira/tz.c) and the stored times (src/transform/time.c)
 * agree because they share it. Pure; thread-safe. */
#ifndef JL_MODEL_JTIME_H
#define JL_MODEL_JTIME_H

#include <stdint.h>

typedef struct jl_jtime {
	int y, mo, d;          /* a valid calendar date, year 1..9999 */
	int h, mi, s;          /* 0 when there is no time; s may be 60 (a leap second) */
	char frac[10];         /* fraction digits as written (1..9), NUL-terminated; "" without */
	int off;               /* offset in seconds east of UTC; 0 without */
	int has_time, has_offset;
} jl_jtime;

/*
 * Read "YYYY-MM-DD", optionally followed by 'T' or ' ' and "HH:MM" with
 * optional ":SS" and a fraction ('.' or ',', 1 to 9 digits), then
 * optionally 'Z'/'z' or an offset "+HH", "+HHMM" or "+HH:MM" (|HH| <= 15,
 * MM <= 59: PostgreSQL's bound; "+94:00" is no zone). The date must exist
 * (no 31 February), the time be 00:00 to 23:59:60. Nothing may follow.
 * Returns 0 with t filled, -1 otherwise.
 *
 * The rules the two readers had apart, decided here: dates are checked
 * against the calendar (the client took any day <= 31), hour 24 is refused
 * (the client took it), seconds may be left out (the transform refused
 * that), 'z' is a zone like 'Z', at most 9 fraction digits.
 */
int jl_jtime_lex(const char *s, jl_jtime *t);

/* Milliseconds since the epoch (UTC) of a lexed time: fraction digits past
 * the third are dropped; without an offset the time is taken as UTC. */
int64_t jl_jtime_epoch_ms(const jl_jtime *t);

/* Seconds since the epoch (UTC) with every fraction digit kept (for
 * "latest of" comparisons that must not tie below the millisecond). */
double jl_jtime_epoch_s(const jl_jtime *t);

/* Days since 1970-01-01 of a proleptic Gregorian date (exact for any int64
 * year jetl meets). */
int64_t jl_days_from_civil(int64_t y, int m, int d);

#endif
