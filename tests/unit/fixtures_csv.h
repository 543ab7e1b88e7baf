/* fixtures_csv.h - read the recorded CSV fixtures (RFC 4180: quoted fields,
 * "" for a quote, newlines inside quotes) for the transform tests. */
#ifndef JETL_TEST_FIXTURES_CSV_H
#define JETL_TEST_FIXTURES_CSV_H

#include <stddef.h>

typedef struct csv_row {
	char **f;      /* fields, owned */
	size_t n;
} csv_row;

/* Read every row after the header of $JETL_FIXTURES/<name>; *rows owned by
 * the caller (csv_free). Returns the row count, or -1 when unreadable. */
long csv_read(const char *name, csv_row **rows);
void csv_free(csv_row *rows, long n);
/* Whole file $JETL_FIXTURES/<name> as a malloc'd string (NULL if unreadable). */
char *fixture_text(const char *name, size_t *len);

#endif
