/* time.h - Jira timestamps into text PostgreSQL reads exactly (pure). */
#ifndef JL_TRANSFORM_TIME_H
#define JL_TRANSFORM_TIME_H

#include <stddef.h>
#include <jansson.h>

/* Room for the longest output ("2020-06-12T08:24:56.048123456+08:00:00"). */
#define JL_TIME_MAX 48

/*
 * Normalise a Jira date-time to ISO 8601 that timestamptz reads exactly:
 * "2020-06-12T08:24:56.048+0800" → "2020-06-12T08:24:56.048+08:00"; "Z",
 * "+08:00", "+08", no fraction, and a space instead of 'T' are accepted;
 * fraction digits are kept as given (PostgreSQL keeps 6). An offset is
 * required: a zone-less time would be read in the session's zone.
 * Returns 0 with out filled (out has JL_TIME_MAX bytes), -1 when s is not
 * such a time. Thread-safe.
 */
int jl_time_iso(const char *s, char *out);

/* Like jl_time_iso for a JSON value: a string as above, or a number of
 * milliseconds since the epoch (Cloud's bulk changelog). -1 otherwise. */
int jl_time_json(const json_t *v, char *out);

/* A calendar date "YYYY-MM-DD" (Jira's due date); copies it to out
 * (JL_TIME_MAX bytes) when valid. Returns 0 or -1. */
int jl_date_iso(const char *s, char *out);

#endif
