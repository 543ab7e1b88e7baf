/* sprint.h - sprint names from the Sprint field, both forms (pure). */
#ifndef JL_TRANSFORM_SPRINT_H
#define JL_TRANSFORM_SPRINT_H

#include <jansson.h>

#include "../core/buf.h"

/* Prefix of old Server values: "com.atlassian.greenhopper.service.sprint.Sprint@1a2b[id=1,…]". */
#define JL_SPRINT_PREFIX "com.atlassian.greenhopper.service.sprint.Sprint@"

/*
 * Append the name of one sprint value to out: a Cloud object's "name", or
 * the name= attribute of an old Server string (a name may hold commas: it
 * ends where the next known attribute starts). Returns 0, 1 when v is not
 * a sprint (nothing appended), -1 on OOM.
 */
int jl_sprint_name(jl_buf *out, const json_t *v);

/* Whether v looks like a Sprint field value: an array whose elements are
 * sprint objects ({id,name,state}) or Server sprint strings. */
int jl_sprint_looks_like(const json_t *v);

#endif
