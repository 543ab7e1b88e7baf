/* status.c - the status table: messages and names for jetl_status codes. */
#include "jetl/common.h"

struct status_entry {
	const char *name;
	const char *message;
	int retriable;
};

/* Indexed by -status. Order must follow enum jetl_status exactly. */
static const struct status_entry statuses[] = {
	{ "JETL_OK", "success", 0 },
	{ "JETL_ERROR", "unclassified failure", 0 },
	{ "JETL_EINVAL", "invalid argument", 0 },
	{ "JETL_EVERSION", "struct version not supported by this library", 0 },
	{ "JETL_ENOMEM", "out of memory", 0 },
	{ "JETL_ENOTIMPL", "not implemented in this build", 0 },
	{ "JETL_EDBCONN", "cannot connect to PostgreSQL", 1 },
	{ "JETL_EDB", "PostgreSQL statement failed", 0 },
	{ "JETL_ESCHEMA", "database schema missing or newer than this library", 0 },
	{ "JETL_EQUEUE", "message queue failure", 1 },
	{ "JETL_ENETWORK", "cannot reach Jira", 1 },
	{ "JETL_ETIMEOUT", "request timed out", 1 },
	{ "JETL_EAUTH", "Jira rejected the credentials (HTTP 401)", 0 },
	{ "JETL_EFORBIDDEN", "Jira denied permission (HTTP 403)", 0 },
	{ "JETL_ENOTFOUND", "Jira has no such resource (HTTP 404)", 0 },
	{ "JETL_EGONE", "Jira endpoint removed (HTTP 410)", 0 },
	{ "JETL_ERATELIMIT", "still rate limited by Jira after every retry", 1 },
	{ "JETL_EHTTP", "Jira request failed", 1 },
	{ "JETL_EPROTOCOL", "malformed answer from Jira", 1 },
	{ "JETL_EDATA", "data cannot be transformed", 0 },
	{ "JETL_ECANCELLED", "cancelled", 0 },
	{ "JETL_ESTATE", "call not valid in the current state", 0 },
	{ "JETL_ENOENT", "no such job, raw row or field", 0 },
	{ "JETL_ECONFIG", "configuration incomplete", 0 },
	{ "JETL_EIO", "local I/O failure", 0 },
	{ "JETL_EDBRETRY", "transient PostgreSQL failure (cancelled, timed out, deadlock, out of resources)", 1 },
	{ "JETL_EBUSY", "a project is already being extracted by another running job", 1 },
};

#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]))

static const struct status_entry *lookup(int status)
{
	if (status > 0 || (unsigned int)-status >= NSTATUS)
		return NULL;
	return &statuses[-status];
}

const char *jetl_strerror(int status)
{
	const struct status_entry *e = lookup(status);
	return e ? e->message : "unknown status";
}

const char *jetl_status_name(int status)
{
	const struct status_entry *e = lookup(status);
	return e ? e->name : "JETL_UNKNOWN";
}

int jetl_status_is_retriable(int status)
{
	const struct status_entry *e = lookup(status);
	return e ? e->retriable : 0;
}
