/* fixtures_csv.c - a small RFC 4180 reader for the recorded fixtures. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures_csv.h"

char *fixture_text(const char *name, size_t *len)
{
	const char *dir = getenv("JETL_FIXTURES");
	char path[1024];
	FILE *f;
	long n;
	char *p;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/fixtures/jira-real", name);
	if (!(f = fopen(path, "rb")))
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc((size_t)n + 1);
	if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
		free(p);
		p = NULL;
	}
	fclose(f);
	if (p) {
		p[n] = '\0';
		if (len)
			*len = (size_t)n;
	}
	return p;
}

static void free_fields(csv_row *r)
{
	for (size_t j = 0; j < r->n; j++)
		free(r->f[j]);
	free(r->f);
}

long csv_read(const char *name, csv_row **rows)
{
	size_t len, i = 0;
	char *t = fixture_text(name, &len);
	long nrows = 0, cap = 0;
	csv_row *out = NULL;
	int header = 1;

	if (!t)
		return -1;
	while (i < len) {
		csv_row r = { NULL, 0 };
		size_t fcap = 0;

		for (;;) {
			char *val = malloc(len - i + 1);
			size_t vn = 0;

			if (i < len && t[i] == '"') {
				for (i++; i < len; i++) {
					if (t[i] == '"') {
						if (i + 1 < len && t[i + 1] == '"') {
							val[vn++] = '"';
							i++;
						} else {
							i++;
							break;
						}
					} else {
						val[vn++] = t[i];
					}
				}
			} else {
				while (i < len && t[i] != ',' && t[i] != '\n' && t[i] != '\r')
					val[vn++] = t[i++];
			}
			val[vn] = '\0';
			if (r.n == fcap) {
				fcap = fcap ? fcap * 2 : 8;
				r.f = realloc(r.f, fcap * sizeof(*r.f));
			}
			r.f[r.n++] = val;
			if (i < len && t[i] == ',') {
				i++;
				continue;
			}
			while (i < len && (t[i] == '\r' || t[i] == '\n'))
				i++;
			break;
		}
		/* A blank line (the issue-fields CSV starts with one) is no row. */
		if (r.n == 1 && r.f[0][0] == '\0') {
			free(r.f[0]);
			free(r.f);
			continue;
		}
		if (header) {
			header = 0;
			free_fields(&r);
			continue;
		}
		if (nrows == cap) {
			cap = cap ? cap * 2 : 64;
			out = realloc(out, (size_t)cap * sizeof(*out));
		}
		out[nrows++] = r;
	}
	free(t);
	*rows = out;
	return nrows;
}

void csv_free(csv_row *rows, long n)
{
	for (long i = 0; i < n; i++)
		free_fields(&rows[i]);
	free(rows);
}
