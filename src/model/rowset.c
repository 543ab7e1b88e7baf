/* rowset.c - row buffer with an arena for its strings. */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rowset.h"

struct jl_arena_chunk {
	jl_arena_chunk *next;
	size_t cap;
	max_align_t data[];
};

#define ARENA_CHUNK (64 * 1024)

void *jl_arena_alloc(jl_arena *a, size_t n)
{
	size_t al = sizeof(void *);
	size_t off = (a->used + al - 1) & ~(al - 1);
	jl_arena_chunk *c;

	if (!a->head || off + n > a->cap) {
		/* Big values get a chunk of their own so the common chunk size
		 * stays small; the current chunk keeps serving small ones. */
		size_t cap = n > ARENA_CHUNK / 4 ? n : ARENA_CHUNK;

		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->cap = cap;
		if (a->head && cap != ARENA_CHUNK) {
			c->next = a->head->next;
			a->head->next = c;
			return c->data;
		}
		c->next = a->head;
		a->head = c;
		a->cap = cap;
		off = 0;
	}
	a->used = off + n;
	return (char *)a->head->data + off;
}

char *jl_arena_strndup(jl_arena *a, const char *s, size_t n)
{
	char *p = jl_arena_alloc(a, n + 1);

	if (!p)
		return NULL;
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void jl_arena_free(jl_arena *a)
{
	jl_arena_chunk *c, *next;

	if (!a)
		return;
	for (c = a->head; c; c = next) {
		next = c->next;
		free(c);
	}
	a->head = NULL;
	a->used = a->cap = 0;
}

void jl_rowset_init(jl_rowset *rs, const char *table, const char *const *cols, int ncols)
{
	memset(rs, 0, sizeof(*rs));
	rs->table = table;
	rs->cols = cols;
	rs->ncols = ncols;
}

void jl_rowset_free(jl_rowset *rs)
{
	if (!rs)
		return;
	free(rs->cells);
	jl_arena_free(&rs->arena);
	rs->cells = NULL;
	rs->nrows = rs->cap = 0;
}

long jl_rowset_add_row(jl_rowset *rs)
{
	if (rs->nrows == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;
		jl_cell *p = realloc(rs->cells, cap * (size_t)rs->ncols * sizeof(*p));

		if (!p) {
			rs->oom = 1;
			return -1;
		}
		rs->cells = p;
		rs->cap = cap;
	}
	memset(rs->cells + rs->nrows * (size_t)rs->ncols, 0, (size_t)rs->ncols * sizeof(jl_cell));
	return (long)rs->nrows++;
}

void jl_rowset_truncate(jl_rowset *rs, size_t keep)
{
	if (keep < rs->nrows)
		rs->nrows = keep;
}

jl_cell *jl_rowset_cell(jl_rowset *rs, size_t row, int col)
{
	assert(row < rs->nrows && col >= 0 && col < rs->ncols);
	return &rs->cells[row * (size_t)rs->ncols + (size_t)col];
}

const jl_cell *jl_rowset_cget(const jl_rowset *rs, size_t row, int col)
{
	assert(row < rs->nrows && col >= 0 && col < rs->ncols);
	return &rs->cells[row * (size_t)rs->ncols + (size_t)col];
}

int jl_rowset_col(const jl_rowset *rs, const char *name)
{
	for (int i = 0; i < rs->ncols; i++)
		if (strcmp(rs->cols[i], name) == 0)
			return i;
	return -1;
}

int jl_rowset_set(jl_rowset *rs, size_t row, int col, const char *s, size_t n)
{
	jl_cell *c = jl_rowset_cell(rs, row, col);
	char *p = jl_arena_strndup(&rs->arena, s, n);

	if (!p) {
		rs->oom = 1;
		return -1;
	}
	c->v.s = p;
	c->n = (uint32_t)n;
	c->kind = JL_CELL_TEXT;
	return 0;
}

int jl_rowset_sets(jl_rowset *rs, size_t row, int col, const char *s)
{
	if (!s) {
		jl_rowset_cell(rs, row, col)->kind = JL_CELL_NULL;
		return 0;
	}
	return jl_rowset_set(rs, row, col, s, strlen(s));
}

int jl_rowset_set_int(jl_rowset *rs, size_t row, int col, long long v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	return jl_rowset_set(rs, row, col, p, (size_t)(tmp + sizeof(tmp) - p));
}

void jl_rowset_copy_cells(jl_rowset *rs, size_t dst, size_t src, int from, int to)
{
	memcpy(jl_rowset_cell(rs, dst, from), jl_rowset_cget(rs, src, from), (size_t)(to - from) * sizeof(jl_cell));
}

int jl_rowset_set_array(jl_rowset *rs, size_t row, int col, const char *const *items, size_t n)
{
	jl_cell *c = jl_rowset_cell(rs, row, col);
	const char **arr = jl_arena_alloc(&rs->arena, (n ? n : 1) * sizeof(*arr));

	if (!arr) {
		rs->oom = 1;
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		arr[i] = jl_arena_strndup(&rs->arena, items[i], strlen(items[i]));
		if (!arr[i]) {
			rs->oom = 1;
			return -1;
		}
	}
	c->v.items = arr;
	c->n = (uint32_t)n;
	c->kind = JL_CELL_ARRAY;
	return 0;
}
