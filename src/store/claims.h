/* claims.h - etl_project_claims: one running extraction per (tenant,
 * integration, project), decided by the database (docs/design.md,
 * "Overlapping extractions"). A claim is live while its job is queued or
 * running and, for a job one process holds, that job's lease has not run
 * out; a distributed project taken by a worker has a lease of its own that
 * the sweep watches. */
#ifndef JL_STORE_CLAIMS_H
#define JL_STORE_CLAIMS_H

#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

/* The live claim that refused a new job. */
typedef struct jl_claim_busy {
	int64_t job_id;
	char project[128];
	char since[32];     /* the job's start, "YYYY-MM-DD HH:MM:SS UTC" */
} jl_claim_busy;

/*
 * Create a 'running' job (as jl_jobs_create; projects < 0: not known yet)
 * and claim every project of
 * params_json's "projects" array for it, in one transaction under a lock
 * of the tenant/integration, so that of two callers at once on any
 * machines one wins. Returns 0 with *id, 1 when a live claim of another job
 * holds one of the projects (nothing written; *busy says which), or a
 * negative status with err.
 */
int jl_claims_create_job(PGconn *pg, int tenant, int integration, const char *job_type,
	const char *params_json, int projects, int64_t *id, jl_claim_busy *busy, char *err, size_t errlen);

/*
 * The projects of a job created without them (jetl_extract without keys:
 * discovery runs inside the job): record them on the job (params_json, their
 * number: jl_jobs_set_projects) and claim them, as jl_claims_create_job
 * does. Returns 0, 1 when a live claim of another job holds one of them
 * (nothing written; *busy says which), or a negative status with err.
 */
int jl_claims_add(PGconn *pg, int tenant, int integration, int64_t id, const char *params_json, int projects,
	jl_claim_busy *busy, char *err, size_t errlen);

/* What a worker may do with a distributed project's message. */
enum { JL_CLAIM_TAKEN = 0, JL_CLAIM_SKIP = 1, JL_CLAIM_UNCLAIMED = 2 };

/*
 * A worker takes project of job id: the claim's lease becomes now() +
 * seconds when the job runs and nobody holds the claim (its lease is NULL
 * or ran out). JL_CLAIM_SKIP: the project is done, its job ended, or a live
 * worker holds it (a repeated message); JL_CLAIM_UNCLAIMED: a job created
 * before claims existed (run as before). Returns one of those, or a
 * negative status with err.
 */
int jl_claims_take(PGconn *pg, int64_t id, const char *project, int seconds, char *err, size_t errlen);

/* Renew a taken claim's lease (the worker's heartbeat thread). 0 or a
 * negative status with err. */
int jl_claims_renew(PGconn *pg, int64_t id, const char *project, int seconds, char *err, size_t errlen);

/* A distributed project whose worker stopped (claim lease ran out). */
typedef struct jl_claim_lost {
	int64_t job_id;
	int tenant, integration;
	char project[128];
	char lease[40];       /* the sweeper's own lease, to hand the claim back */
	char *params;         /* the job's params (JSON text), malloc'd */
	int64_t *raw_ids;     /* its raw rows still pending, malloc'd (may be NULL) */
	size_t nraw;
} jl_claim_lost;

/*
 * The sweep's part: claim for `seconds` the distributed projects of running
 * jobs whose worker's lease ran out (all = 1: every tenant/integration).
 * *rows (malloc'd; free with jl_claims_lost_free) is the caller's. Once a
 * project's messages are published again, jl_claims_requeued hands the
 * claim back to the queue; if the sweeper dies first, its lease runs out
 * and the next sweep does it.
 */
int jl_claims_sweep(PGconn *pg, int tenant, int integration, int all, int seconds,
	jl_claim_lost **rows, size_t *n, char *err, size_t errlen);
int jl_claims_requeued(PGconn *pg, const jl_claim_lost *c, char *err, size_t errlen);
void jl_claims_lost_free(jl_claim_lost *rows, size_t n);

#endif
