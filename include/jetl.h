/*
 * jetl.h - Jira to PostgreSQL extraction library: the umbrella header.
 *
 * #include <jetl.h> and link with `pkg-config --cflags --libs jetl`.
 */
#ifndef JETL_H
#define JETL_H

#include "jetl/version.h"
#include "jetl/common.h"
#include "jetl/progress.h"
#include "jetl/context.h"
#include "jetl/extract.h"
#include "jetl/transform.h"
#include "jetl/worker.h"
#include "jetl/job.h"
#include "jetl/fields.h"
#include "jetl/integration.h"
#include "jetl/webhook.h"
#include "jetl/issue_errors.h"

#endif
