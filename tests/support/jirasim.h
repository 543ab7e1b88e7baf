/* jirasim.h - run the Jira simulator (sim/jirasim.py) from a Criterion test. */
#ifndef JETL_TEST_JIRASIM_H
#define JETL_TEST_JIRASIM_H

#include <sys/types.h>

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

#endif
