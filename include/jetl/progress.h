/*
 * jetl/progress.h - progress reporting and logging callbacks.
 */
#ifndef JETL_PROGRESS_H
#define JETL_PROGRESS_H

#include "common.h"

JETL_BEGIN_DECL

/** The phases of a job, in the order they usually run. */
typedef enum jetl_phase {
	JETL_PHASE_DISCOVER = 0,  /**< fields, projects, time zone */
	JETL_PHASE_CENSUS = 1,    /**< ids (+ updated) of every issue */
	JETL_PHASE_ISSUES = 2,    /**< issue bodies */
	JETL_PHASE_CHANGELOGS = 3,/**< completing capped changelogs */
	JETL_PHASE_DEV_STATUS = 4,/**< dev-status summary/detail */
	JETL_PHASE_STORE = 5,     /**< raw rows written */
	JETL_PHASE_QUEUE = 6,     /**< transform messages published */
	JETL_PHASE_TRANSFORM = 7, /**< raw rows transformed into final tables */
	JETL_PHASE_DONE = 8
} jetl_phase;

/** Lower-case name of a phase ("census"); never NULL. */
JETL_API const char *jetl_phase_name(int phase);

#define JETL_PROGRESS_VERSION 1

/**
 * One progress event. Strings are borrowed and valid only during the
 * callback; copy what you keep.
 */
typedef struct jetl_progress {
	unsigned int version;    /**< JETL_PROGRESS_VERSION */
	int64_t job_id;          /**< 0 when the call runs outside a job */
	const char *project_key; /**< may be NULL (job-wide events) */
	int phase;               /**< a jetl_phase */
	const char *phase_name;  /**< jetl_phase_name(phase) */
	int step;                /**< 1-based step of the job */
	int total_steps;
	int64_t done;            /**< items done in this phase */
	int64_t total;           /**< items expected in this phase; 0 = unknown */
	const char *message;     /**< short human text; never NULL */
	double elapsed;          /**< seconds since the call started */
} jetl_progress;

/**
 * Progress callback. Runs on the thread that made the call, never
 * concurrently with itself for one call. Must not call back into the same
 * context. Return 0 to go on; non-zero cancels: the call then returns
 * JETL_ECANCELLED and leaves nothing half-written.
 */
typedef int (*jetl_progress_cb)(const jetl_progress *p, void *userdata);

/** Log levels, as syslog's order. */
typedef enum jetl_log_level {
	JETL_LOG_ERROR = 3,
	JETL_LOG_WARNING = 4,
	JETL_LOG_INFO = 6,
	JETL_LOG_DEBUG = 7
} jetl_log_level;

/**
 * Log callback. May run on any thread that works for the context (worker
 * threads included), possibly concurrently: make it thread-safe. The message
 * is one line, borrowed, and never contains a secret.
 */
typedef void (*jetl_log_cb)(int level, const char *message, void *userdata);

JETL_END_DECL

#endif
