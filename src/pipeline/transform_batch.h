/* transform_batch.h - the transform step as the worker calls it. */
#ifndef JL_PIPELINE_TRANSFORM_BATCH_H
#define JL_PIPELINE_TRANSFORM_BATCH_H

#include <stdint.h>

#include "jetl/transform.h"

/*
 * jetl_transform_batch() without clearing or touching anything but ctx:
 * the worker calls it from its threads, each with its own ctx (a ctx and
 * its connection serve one thread at a time; separate contexts never
 * share state, the pure transform has no globals). res may be NULL.
 * Returns a jetl_status; the message is on ctx (jl_fail).
 */
int jl_transform_raw_ctx(jetl_ctx *ctx, int64_t raw_id, jetl_transform_result *res);

#endif
