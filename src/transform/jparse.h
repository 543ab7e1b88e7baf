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

/*
 * Values kept as text. The transform copies most custom fields to
 * custom_fields_overflow as they are; building their trees (then writing
 * them out again) was about a third of the worker's CPU on issues with many
 * custom fields. With a jl_json_lazy, inside the object under key `under`
 * of the top-level object, a value keep_text answers JL_LAZY_TEXT is only
 * checked, by the same rules as the tree (one scanner: ps.build in
 * jparse.c), and stand_in's json_t takes its place in the tree: the caller
 * finds its text again through it. Such a key whose value is null is left
 * out of the tree (and an earlier value of the same key removed, as the
 * null would have replaced it): the transform skips nulls. A value whose
 * text alone cannot stand for it is parsed as a tree as usual: a string
 * holding \u0000 (the
 * transform strips it with a warning); a number the tree path would convert
 * to something jsonb does not compare equal to its text (an integer of 19+
 * digits, a real of 16+ digits or an exponent beyond ±280, see
 * text_is_exact). So what is kept as text is valid JSON whose jsonb equals
 * the jsonb of the tree's compact text (spacing, escapes and number
 * spelling may differ; repeated keys: jsonb keeps the last, as jansson
 * does). Keys are unescaped; key/text are valid during the call only, text
 * points into the parsed text (n bytes, no surrounding whitespace).
 */
/*
 * What keep_text answers for a member of `under`: JL_LAZY_TREE, a tree as
 * usual (whole: `drop` does not reach inside it); JL_LAZY_TEXT, kept as text
 * (above); JL_LAZY_SKIP, checked and left out of the tree (a value the text
 * alone cannot judge is built, then released: acceptance is unchanged);
 * JL_LAZY_TRIM, a tree whose members named in `drop` are skipped at any
 * depth. The transform skips the standard fields it never reads (creator,
 * watches, comment, …: 8 % of the nodes of a Cloud issue, measured on the
 * benchmark's data) and trims the ones it reads.
 */
enum { JL_LAZY_TREE = 0, JL_LAZY_TEXT = 1, JL_LAZY_SKIP = 2, JL_LAZY_TRIM = 3 };

typedef struct jl_json_lazy {
	const char *under;   /* e.g. "fields"; NULL: none (drop only) */
	/* A JL_LAZY_* for a member of `under`. */
	int (*keep_text)(void *ud, const char *key, size_t klen);
	/* A borrowed reference the tree will hold (incref'd), NULL on OOM
	 * (the parse then fails). */
	json_t *(*stand_in)(void *ud, const char *key, size_t klen, const char *text, size_t n);
	void *ud;
	/* NULL, or keys (a NULL-terminated list, e.g. "avatarUrls") whose
	 * values are skipped as JL_LAZY_SKIP says wherever they appear, except
	 * inside a member of `under` answered JL_LAZY_TREE or JL_LAZY_TEXT. */
	const char *const *drop;
	/* NULL, or set to 1 when a string of the tree holds \u0000 (left
	 * alone otherwise): the caller's strip walk is needed only then. */
	int *saw_nul;
} jl_json_lazy;

/* jl_json_parse_prefix, with lazy (see above; NULL = none). Same acceptance:
 * NULL exactly when jl_json_parse_prefix would return NULL (OOM aside). */
json_t *jl_json_parse_prefix_lazy(const char *text, size_t n, size_t *used, const jl_json_lazy *lazy);

/* jl_json_parse, with lazy (NULL = none): the same acceptance, reason and
 * offset. */
json_t *jl_json_parse_lazy(const char *text, size_t n, size_t *errpos, char *why, size_t whylen,
	const jl_json_lazy *lazy);

enum { JL_JSON_INVALID = -1, JL_JSON_TEXT_OK = 0, JL_JSON_NEEDS_TREE = 1 };

/* Check one JSON value (whitespace around allowed) without a tree or any
 * allocation: JL_JSON_INVALID (reason and offset as jl_json_parse gives
 * them) exactly when jl_json_parse refuses it, except that a value
 * answered JL_JSON_NEEDS_TREE may be refused too: it is valid as far as the
 * text goes but holds \u0000 or a number that only its conversion can
 * judge (see text_is_exact in jparse.c); JL_JSON_TEXT_OK: accepted, and its
 * text stands for itself. */
int jl_json_check(const char *text, size_t n, size_t *errpos, char *why, size_t whylen);

#endif
