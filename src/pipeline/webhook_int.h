/* webhook_int.h - the pipeline's side of the webhook secrets (private). */
#ifndef JL_PIPELINE_WEBHOOK_INT_H
#define JL_PIPELINE_WEBHOOK_INT_H

#include <stdint.h>

#include "jetl.h"
#include "../core/secret.h"

/* Key rotation, inside the caller's transaction: every webhook secret
 * sealed with oldk sealed again with newk (*n counts them; those already
 * under newk are left). A secret under a third key stops it (JETL_ECONFIG,
 * named). Message on ctx. */
int jl_webhook_reseal(jetl_ctx *ctx, const jl_secret_key *oldk, const jl_secret_key *newk, int64_t *n);

#endif
