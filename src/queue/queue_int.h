/* queue_int.h - what the queue backends (inproc.c, amqp.c) share with the
 * dispatch in queue.c. Internal to src/queue/. */
#ifndef JL_QUEUE_INT_H
#define JL_QUEUE_INT_H

#include <stdarg.h>

#include "queue.h"

struct jl_queue_ops {
	int (*declare)(jl_queue *q, const char *name);
	int (*publish)(jl_queue *q, const char *queue, const char *body, size_t len);
	int (*consume)(jl_queue *q, const char *const *queues, size_t n, int prefetch);
	int (*next)(jl_queue *q, jl_queue_msg *msg, const char **queue_out, int timeout_ms);
	int (*settle)(jl_queue *q, const jl_queue_msg *msg, int how);   /* JLQ_ACK, ... */
	int64_t (*depth)(jl_queue *q, const char *queue);
	void (*close)(jl_queue *q);
};

enum { JLQ_ACK, JLQ_REQUEUE, JLQ_DEAD };

struct jl_queue {
	const struct jl_queue_ops *ops;
	void *impl;
	int inprocess;
	int reconnect_ms;
	char err[512];
};

/* Set q->err (one line) and return status. */
int jl_queue_fail(jl_queue *q, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A generation number never handed out before in this process. */
uint64_t jl_queue_new_gen(void);

/* "<name>.dead", malloc'd (NULL when out of memory). */
char *jl_queue_dead_name(const char *name);

/* Backends: fill q->ops/q->impl or fail with q->err set. */
int jl_queue_inproc_open(jl_queue *q);
int jl_queue_amqp_open(jl_queue *q, const char *url);

/* url.c: the parts of an amqp URL (a parsed copy: free with _free). */
typedef struct jl_queue_url {
	char *buf;            /* owns the strings below */
	const char *host, *vhost, *user, *pass;
	int port;
	/* amqps:// only (the query parameters of RabbitMQ's URI spec). NULL
	 * when absent; a cacert of NULL means the system's trust store. */
	int tls;
	int verify;           /* 1: verify_peer (default), 0: verify_none */
	const char *cacert, *cert, *key;
	const char *passfile; /* passwordfile=: the password is read from it */
	char *passbuf;        /* owned: the password read from passfile */
	char where[300];      /* "host:port/vhost": for messages, no secret */
} jl_queue_url;

int jl_queue_url_parse(jl_queue_url *u, const char *url, char *err, size_t errlen);
void jl_queue_url_free(jl_queue_url *u);

#endif
