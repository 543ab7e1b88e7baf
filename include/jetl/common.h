/*
 * jetl/common.h - export macros, status codes, version and process set-up.
 *
 * Status codes are part of the ABI: they are never renumbered or reused.
 * New codes are appended with the next free negative value.
 */
#ifndef JETL_COMMON_H
#define JETL_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define JETL_BEGIN_DECL extern "C" {
#define JETL_END_DECL }
#else
#define JETL_BEGIN_DECL
#define JETL_END_DECL
#endif

#if defined(__GNUC__) && __GNUC__ >= 4
#define JETL_API __attribute__((visibility("default")))
#else
#define JETL_API
#endif

JETL_BEGIN_DECL

/** Status codes: 0 is success, failures are negative. */
typedef enum jetl_status {
	JETL_OK = 0,
	JETL_ERROR = -1,          /**< unclassified failure */
	JETL_EINVAL = -2,         /**< invalid argument (NULL pointer, bad value) */
	JETL_EVERSION = -3,       /**< struct version unknown to this library */
	JETL_ENOMEM = -4,         /**< out of memory */
	JETL_ENOTIMPL = -5,       /**< not implemented in this build */
	JETL_EDBCONN = -6,        /**< cannot connect to PostgreSQL */
	JETL_EDB = -7,            /**< PostgreSQL statement failed */
	JETL_ESCHEMA = -8,        /**< schema missing or newer than this library */
	JETL_EQUEUE = -9,         /**< message queue failure */
	JETL_ENETWORK = -10,      /**< cannot reach Jira (DNS, connect, reset) */
	JETL_ETIMEOUT = -11,      /**< a request timed out, or a wait passed its deadline */
	JETL_EAUTH = -12,         /**< Jira answered 401: bad credentials */
	JETL_EFORBIDDEN = -13,    /**< Jira answered 403: missing permission */
	JETL_ENOTFOUND = -14,     /**< Jira answered 404 */
	JETL_EGONE = -15,         /**< Jira answered 410: endpoint removed */
	JETL_ERATELIMIT = -16,    /**< still rate limited after every retry */
	JETL_EHTTP = -17,         /**< other HTTP failure (4xx, 5xx after retries) */
	JETL_EPROTOCOL = -18,     /**< Jira's answer is malformed (bad JSON, HTML, loop) */
	JETL_EDATA = -19,         /**< stored data cannot be transformed */
	JETL_ECANCELLED = -20,    /**< cancelled by a callback or jetl_worker_stop() */
	JETL_ESTATE = -21,        /**< call not valid in the current state */
	JETL_ENOENT = -22,        /**< no such job, raw row, field or project */
	JETL_ECONFIG = -23,       /**< configuration incomplete (e.g. no Jira URL) */
	JETL_EIO = -24,           /**< local I/O failure (file, pipe) */
	JETL_EDBRETRY = -25,      /**< transient PostgreSQL failure (cancel, timeout, deadlock, resources): retry */
	JETL_EBUSY = -26          /**< a project is already being extracted by another running job (the message names it) */
} jetl_status;

/** The lowest status this library can return (for tables in bindings). */
#define JETL_STATUS_MIN JETL_EBUSY

/**
 * Static, one-line English message for a status. Never NULL: unknown codes
 * give "unknown status". Thread-safe.
 */
JETL_API const char *jetl_strerror(int status);

/** Symbolic name of a status ("JETL_EAUTH"); never NULL. Thread-safe. */
JETL_API const char *jetl_status_name(int status);

/**
 * Whether retrying the same call later may succeed (network, timeout, rate
 * limit, queue, transient database failure). Thread-safe.
 */
JETL_API int jetl_status_is_retriable(int status);

/** Version string of the library ("1.2.3"); static, never NULL. */
JETL_API const char *jetl_version(void);

/** Version as a number: major * 10000 + minor * 100 + patch. */
JETL_API int jetl_version_number(void);

/**
 * Process-wide set-up (libcurl's global state). Call once before any other
 * thread starts using jetl; jetl_open() calls it for you if you did not.
 * Not thread-safe with itself. Returns JETL_OK or JETL_ERROR.
 */
JETL_API int jetl_global_init(void);

/** Undoes jetl_global_init() once every context is closed. Not thread-safe. */
JETL_API void jetl_global_cleanup(void);

JETL_END_DECL

#endif
