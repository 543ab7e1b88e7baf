/* webhooks.h - SQL of the integrations' webhook secrets (sealed before they
 * get here, src/core/secret.c). The deliveries table (webhook_events) is
 * created by migration 11 and written by the web router. */
#ifndef JL_STORE_WEBHOOKS_H
#define JL_STORE_WEBHOOKS_H

#include <stddef.h>
#include <libpq-fe.h>

/* Set (sealed envelope) or clear (NULL) the row's webhook secret. *found
 * gets 0 when the row does not exist. 0 or a status. */
int jl_webhook_secret_store(PGconn *pg, int tenant, int id, const char *sealed, int *found,
	char *err, size_t errlen);

/* The row's sealed webhook secret: *sealed gets a malloc'd copy ("" when
 * none), *found 0 when the row does not exist. 0 or a status. */
int jl_webhook_secret_load(PGconn *pg, int tenant, int id, char **sealed, int *found, char *err, size_t errlen);

/* Every sealed webhook secret, locked FOR UPDATE in the caller's
 * transaction (key rotation): columns tenant_id, id, webhook_secret. */
int jl_webhook_secrets_sealed(PGconn *pg, PGresult **out, char *err, size_t errlen);

#endif
