/* jirasim.h - run the Jira simulator (sim/jirasim.py) from a Criterion test. */
#ifndef JETL_TEST_JIRASIM_H
#define JETL_TEST_JIRASIM_H

#include <sys/types.h>

/* The credentials tests give the simulator (--user/--token) and the client. */
#define JIRASIM_USER "sim@example.com"
#define JIRASIM_TOKEN "s3cr3t-t0ken-value"

typedef struct jirasim {
	pid_t pid;
	int port;
	char url[64];           /* http://127.0.0.1:PORT */
	char dir[256];          /* temp dir holding the port file and the log */
} jirasim;

/* Generate a dataset with sim/gen.py into a fresh temp dir; returns the dir
 * (malloc'd; remove with jirasim_rmdir). extra: more gen.py arguments,
 * NULL-terminated, may be NULL. Aborts the test on failure. */
char *jirasim_gen(const char *projects, const char *flavor, const char *const *extra);

/* Start the simulator on a free port serving data; extra: more jirasim.py
 * arguments (NULL-terminated, may be NULL). Waits until it listens. Aborts
 * the test on failure. */
void jirasim_start(jirasim *s, const char *data, const char *flavor, const char *const *extra);

/* Stop it (SIGTERM, then SIGKILL) and remove its temp dir. Harmless twice. */
void jirasim_stop(jirasim *s);

/* GET or POST (body != NULL) on the simulator; returns the body (malloc'd) or NULL. */
char *jirasim_http(const jirasim *s, const char *path, const char *body);

/* rm -rf of a temp dir made by these helpers (only under /tmp). */
void jirasim_rmdir(const char *dir);

/* What every test against the simulator starts with: JETL_JIRA_BACKOFF_MS=20
 * (retries the simulator provokes cost milliseconds, not seconds),
 * jetl_global_init(), a dataset from jirasim_gen(projects, flavor, gen_args)
 * and the simulator started on it with sim_args. *data gets the dataset dir
 * (malloc'd; owned by the caller until jirasim_down). Sets the process
 * environment: call from the test's thread before any other is started.
 * Aborts the test on failure. */
void jirasim_up(jirasim *s, char **data, const char *projects, const char *flavor,
		const char *const *gen_args, const char *const *sim_args);

/* Undo jirasim_up: stop s, remove and free *data (may be NULL) and set it to
 * NULL. Harmless twice, so it fits a Criterion .fini as well as a loop that
 * starts a fresh simulator each round. Same thread as jirasim_up. Never fails. */
void jirasim_down(jirasim *s, char **data);

#endif
