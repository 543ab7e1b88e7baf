/* ctx.h - the context behind jetl_ctx (private to the library). */
#ifndef JL_CTX_H
#define JL_CTX_H

#include <signal.h>
#include <stdatomic.h>
#include <libpq-fe.h>

#include "jetl/context.h"
#include "util.h"

struct jetl_ctx {
	jetl_options opts;      /* strings below are owned copies */
	char *db;
	char *jira_url;
	char *jira_user;
	char *jira_token;       /* secret: never logged or put into messages */
	char *queue_url;
	PGconn *pg;             /* the context's own connection */
	atomic_int stop;        /* set by jetl_worker_stop(); lock-free, signal-safe */
	atomic_int warned_cleartext; /* the "credentials over http://" warning was logged */
	int jira_explicit;      /* jira_url came from the options or $JETL_JIRA_URL: no integration row is read */
	int conn_tenant, conn_integration; /* the integrations row the Jira settings were read from (0: none) */
	char *conn_settings;    /* that row's settings (JSON text), NULL when none */
	int tables_analyzed;    /* work_items and changelogs have planner statistics (jl_load_lock) */
	int loads_fresh;        /* the last raw row written was a first load (jl_tb_write, twriter.c) */
	/* The database's deployment id and the queue names derived from it
	 * (src/pipeline/deployment.c); "" until first needed. */
	char deployment[37];
	char q_transform[48], q_extract[48];
	char err[512];          /* jetl_last_error() */
};

/* A context from options: validated, strings copied (environment fallbacks
 * applied), defaults set; no connection yet (src/pipeline/context.c opens
 * it). Returns JETL_OK, or JETL_EINVAL/JETL_EVERSION/JETL_ENOMEM with the
 * cause in msg. */
int jl_ctx_new(jetl_ctx **out, const jetl_options *opts, char *msg, size_t n);
/* Free what jl_ctx_new made (the secret wiped); the connection is the
 * caller's to close first. NULL-safe. */
void jl_ctx_free(jetl_ctx *ctx);

/* Record a one-line message (newlines folded) on ctx and return status. */
int jl_fail(jetl_ctx *ctx, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Clear the last error at the start of a public call. */
void jl_clear_error(jetl_ctx *ctx);
/* Log through the context's callback when level passes the threshold. */
void jl_log(const jetl_ctx *ctx, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
