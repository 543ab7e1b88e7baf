/*
 * tz.h - time zones and Jira timestamps (pure: no network, no global state).
 *
 * Why not localtime_r()/setenv("TZ"): that mutates process-wide state, which
 * an embeddable library must not touch while the host runs other threads. We
 * read the TZif file of the zone ourselves instead.
 */
#ifndef JL_TZ_H
#define JL_TZ_H

#include <stdint.h>

#include "../model/jtime.h"

/*
 * UTC offset (seconds east of UTC) of an IANA zone ("Asia/Shanghai", "UTC")
 * at the instant utc_epoch (seconds). Reads /usr/share/zoneinfo/<zone>
 * (or $TZDIR): the 64-bit (v2+) data, and for instants past the last
 * transition the POSIX TZ footer ("PST8PDT,M3.2.0,M11.1.0").
 * Returns 0, JETL_EINVAL (bad or unsafe zone name), JETL_ENOENT (no such
 * zone), JETL_EPROTOCOL (file not TZif). Thread-safe (no shared state).
 */
int jl_tz_offset(const char *zone, int64_t utc_epoch, int *offset_seconds);

/*
 * Render utc_epoch in the zone with that offset as a JQL date literal
 * "yyyy/MM/dd HH:mm", floored to the minute (JQL has minute resolution, so
 * flooring never skips an issue updated within that minute). An epoch
 * before year 1 or after 9999 is taken as that bound. Pure.
 */
void jl_tz_jql_date(char out[32], int64_t utc_epoch, int offset_seconds);

/*
 * Parse a Jira timestamp: the text src/model/jtime.h reads (the one lexer
 * the transform shares; a date alone is UTC midnight), or an
 * epoch-milliseconds number written as a string ("1592001896048").
 * *epoch_ms is UTC; *offset_seconds the offset that was written (0 for Z,
 * no zone and epoch numbers). Either out pointer may be NULL.
 * Returns 0 or JETL_EINVAL. Pure.
 */
int jl_jira_time_parse(const char *s, int64_t *epoch_ms, int *offset_seconds);

#endif
