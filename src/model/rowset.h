/* rowset.h - a buffer of rows: named columns of nullable text or text-array
 * cells, arena-allocated, that store/copy.c streams to PostgreSQL with COPY.
 * Pure (no I/O). A rowset is used by one thread at a time. */
#ifndef JL_TRANSFORM_ROWSET_H
#define JL_TRANSFORM_ROWSET_H

#include <stddef.h>
#include <stdint.h>

/* Bump allocator: many small strings freed all at once with the rowset. */
typedef struct jl_arena_chunk jl_arena_chunk;
typedef struct jl_arena {
	jl_arena_chunk *head;
	size_t used, cap;       /* of head */
} jl_arena;

/* Returns n bytes aligned for pointers, or NULL when out of memory. */
void *jl_arena_alloc(jl_arena *a, size_t n);
/* Copy n bytes of s into the arena and NUL-terminate; NULL on OOM. */
char *jl_arena_strndup(jl_arena *a, const char *s, size_t n);
/* Free every chunk; the arena may be used again after. NULL-safe. */
void jl_arena_free(jl_arena *a);

enum jl_cell_kind { JL_CELL_NULL = 0, JL_CELL_TEXT = 1, JL_CELL_ARRAY = 2 };

/* One value. TEXT: s points to n bytes (NUL-terminated, never holding a NUL
 * inside: PostgreSQL text cannot). ARRAY: items points to n strings. */
typedef struct jl_cell {
	union {
		const char *s;
		const char *const *items;
	} v;
	uint32_t n;
	uint8_t kind;
} jl_cell;

typedef struct jl_rowset {
	const char *table;          /* borrowed, static: the final table's name */
	const char *const *cols;    /* borrowed, static: column names */
	int ncols;
	size_t nrows, cap;          /* rows, in cells / ncols */
	jl_cell *cells;             /* nrows * ncols, row-major */
	jl_arena arena;             /* owns every string the cells point to */
	int oom;                    /* sticky: an allocation failed */
} jl_rowset;

/* Set up an empty rowset over static column names. Never fails. */
void jl_rowset_init(jl_rowset *rs, const char *table, const char *const *cols, int ncols);
/* Free everything the rowset owns; it may be initialised again. NULL-safe. */
void jl_rowset_free(jl_rowset *rs);
/* Start a new row of NULL cells; returns its index, or -1 on OOM. */
long jl_rowset_add_row(jl_rowset *rs);
/* Drop the rows from index `keep` on (used to undo a half-built issue). */
void jl_rowset_truncate(jl_rowset *rs, size_t keep);
/* Cell of a row/column (no bounds checks beyond an assert). */
jl_cell *jl_rowset_cell(jl_rowset *rs, size_t row, int col);
const jl_cell *jl_rowset_cget(const jl_rowset *rs, size_t row, int col);
/* Index of a column by name, or -1. */
int jl_rowset_col(const jl_rowset *rs, const char *name);

/* Setters copy the value into the arena. A NUL inside s would end the value
 * early: callers strip NULs first (transform does, with a warning).
 * Each returns 0, or -1 on OOM (and sets rs->oom). */
int jl_rowset_set(jl_rowset *rs, size_t row, int col, const char *s, size_t n);
int jl_rowset_sets(jl_rowset *rs, size_t row, int col, const char *s);   /* s NULL = SQL NULL */
/* A signed integer in decimal (no printf: called for every changelog item). */
int jl_rowset_set_int(jl_rowset *rs, size_t row, int col, long long v);
/* Copy the cells [from, to) of row src into row dst: the strings are shared,
 * not copied (rows of one history share issue, author and time). */
void jl_rowset_copy_cells(jl_rowset *rs, size_t dst, size_t src, int from, int to);
/* Copy an array of n strings (n may be 0: an empty array, not NULL). */
int jl_rowset_set_array(jl_rowset *rs, size_t row, int col, const char *const *items, size_t n);

#endif
