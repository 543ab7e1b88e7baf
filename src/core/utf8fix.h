/* utf8fix.h - repair a JSON text's bytes that JSON parsers refuse. Pure:
 * no I/O, no globals; safe from any thread. */
#ifndef JL_CORE_UTF8FIX_H
#define JL_CORE_UTF8FIX_H

#include <stddef.h>

#include "buf.h"

/*
 * Append text to out with each invalid UTF-8 byte (a stray continuation
 * byte, a truncated or overlong sequence, an encoded surrogate, past
 * U+10FFFF) replaced by U+FFFD's bytes, and each unpaired surrogate escape
 * (\uD83D not followed by a low one, a lone \uDC00..\uDFFF) by the escape
 * \ufffd. Everything else is copied byte for byte, so a valid text comes out
 * unchanged. Jira answers with both now and then (a truncated emoji in an
 * issue text): jansson and PostgreSQL's json refuse the whole page, which
 * failed every run of the project.
 * Returns the number of repairs (0: the text had none of these), or -1 on
 * OOM (out->oom). The caller owns out.
 */
long jl_utf8_json_repair(const char *text, size_t len, jl_buf *out);

#endif
