/* webhooks.c - SQL of the integrations' webhook secrets. */
#include <stdlib.h>
#include <string.h>

#include "jetl/common.h"
#include "db.h"
#include "webhooks.h"

int jl_webhook_secret_store(PGconn *pg, int tenant, int id, const char *sealed, int *found,
	char *err, size_t errlen)
{
	char t[16], i[16];
	const char *p[3] = { t, i, sealed };
	int64_t n = 0;
	int rc;

	jl_store_ids(t, i, tenant, id);
	rc = jl_store_int64(pg, "storing the webhook secret",
		"WITH u AS (UPDATE integrations SET webhook_secret = $3, updated_at = now()"
		" WHERE tenant_id = $1 AND id = $2 RETURNING 1) SELECT count(*) FROM u", 3, p, &n, err, errlen);
	*found = n > 0;
	return rc;
}

int jl_webhook_secret_load(PGconn *pg, int tenant, int id, char **sealed, int *found, char *err, size_t errlen)
{
	char t[16], i[16];
	const char *p[2] = { t, i };
	PGresult *r = NULL;
	int rc;

	*sealed = NULL;
	*found = 0;
	jl_store_ids(t, i, tenant, id);
	rc = jl_store_query(pg, "reading the webhook secret",
		"SELECT coalesce(webhook_secret, '') FROM integrations WHERE tenant_id = $1 AND id = $2",
		2, p, &r, err, errlen);
	if (rc != 0)
		return rc;
	if (PQntuples(r) > 0) {
		*found = 1;
		*sealed = strdup(PQgetvalue(r, 0, 0));
		if (!*sealed)
			rc = JETL_ENOMEM;
	}
	PQclear(r);
	return rc;
}

int jl_webhook_secrets_sealed(PGconn *pg, PGresult **out, char *err, size_t errlen)
{
	return jl_store_query(pg, "rotating the key",
		"SELECT tenant_id, id, webhook_secret FROM integrations WHERE webhook_secret IS NOT NULL"
		" ORDER BY tenant_id, id FOR UPDATE", 0, NULL, out, err, errlen);
}
