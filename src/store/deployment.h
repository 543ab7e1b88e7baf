/* deployment.h - the database's deployment id, and the raw rows that stay
 * pending with nobody working on them (docs/deploy.md, "Sharing a broker").
 * One connection per thread; errors as jl_store_error gives them. */
#ifndef JL_STORE_DEPLOYMENT_H
#define JL_STORE_DEPLOYMENT_H

#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

/* The uuid of jetl_deployment (migration 13) as text into id (37 bytes).
 * Returns 0 or a negative status with err set (no table: the schema is
 * older, run jetl migrate). */
int jl_deployment_read(PGconn *pg, char id[37], char *err, size_t errlen);

/* A raw row to publish again. */
typedef struct jl_stale_row {
	int tenant, integration;
	int64_t job_id, raw_id;
} jl_stale_row;

/*
 * The pending raw rows of the running jobs nobody holds (no lease) where
 * nothing happened for `seconds`: no raw row of the job written,
 * transformed, failed or re-queued. job_id > 0: that job only; else every
 * job. The rows returned are stamped (raw_extraction_data.requeued_at), so
 * another sweeper does not take them and the next re-publish is `seconds`
 * later; the caller publishes them. *rows (malloc'd, the caller frees) and
 * *n get them, by job. Returns 0 or a negative status with err set.
 */
/* How many jobs jl_stale_claim would take now (without taking them). */
int jl_stale_count(PGconn *pg, int64_t job_id, int seconds, int64_t *jobs, char *err, size_t errlen);

int jl_stale_claim(PGconn *pg, int64_t job_id, int seconds, jl_stale_row **rows, size_t *n,
	char *err, size_t errlen);

#endif
