/* jparse.h - JSON text to a jansson tree, for the transform's hot path
 * (pure, thread-safe: no globals).
 *
 * json_loadb reads its input a byte at a time through a callback and
 * copies every token into a growing buffer; on the transform's 25 KB issues
 * that lexer was about half of jansson's time. This one scans strings in
 * runs and hands them to jansson once. The tree is built with jansson's own
 * constructors, so everything downstream is unchanged, and it accepts
 * exactly what json_loadb(…, JSON_ALLOW_NUL) accepts: RFC 8259 JSON with
 * valid UTF-8, \u0000 allowed in strings (not in keys), integers that fit
 * json_int_t, finite reals, nesting up to 2048 levels; the last of a
 * repeated key wins, in the first one's place. test_jparse.c holds it to
 * json_loadb's answers. */
#ifndef JL_TRANSFORM_JPARSE_H
#define JL_TRANSFORM_JPARSE_H

#include <stddef.h>
#include <jansson.h>

/* Parse exactly one JSON value (whitespace around it allowed) from n bytes.
 * Returns a new reference, or NULL with a one-line reason in why and the
 * byte offset where parsing stopped in *errpos (either may be NULL). */
json_t *jl_json_parse(const char *text, size_t n, size_t *errpos, char *why, size_t whylen);

/* The JSON value at the start of text (whitespace before it allowed), with
 * whatever follows it left unread: a new reference and *used, the bytes up to
 * the value's end; NULL when no valid value starts there (no reason given:
 * the caller that needs one parses the value's extent with jl_json_parse).
 * For a value that parses, the extent is the one jl_jscan_value finds. */
json_t *jl_json_parse_prefix(const char *text, size_t n, size_t *used);

#endif
