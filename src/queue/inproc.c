/*
 * inproc.c - the in-process queue: a process-global registry of named FIFOs
 * behind one mutex and one condition variable, with the semantics of the
 * RabbitMQ backend (durable names, dead-letter queues, prefetch, redelivery
 * of whatever a handle held unacked when it closed). Nothing survives the
 * process, which is what the embedded default needs.
 *
 * One lock for everything: the messages are tiny and the work done per
 * message (a database transaction) dwarfs the time spent in here.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jetl/common.h"
#include "queue_int.h"
#include "../core/util.h"

typedef struct iq_msg {
	struct iq_msg *next;
	char *body;
	size_t len;
	int redelivered;
} iq_msg;

typedef struct iq_queue {
	struct iq_queue *next;
	char *name;
	iq_msg *head, *tail;
	int64_t count;
	struct iq_queue *dead;     /* NULL for a dead-letter queue itself */
} iq_queue;

/* Registry: lives as long as the process (queues are never deleted, like
 * durable queues); reachable from this static, so not a leak. */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static iq_queue *g_queues;

typedef struct iq_held {
	uint64_t tag;
	iq_queue *from;
	iq_msg *m;
} iq_held;

typedef struct inproc {
	uint64_t gen;
	iq_queue *consumed[16];
	size_t nconsumed;
	size_t rr;                 /* round robin start, so no queue starves */
	int prefetch;
	iq_held *held;             /* delivered, not yet acked */
	size_t nheld, capheld;
	uint64_t next_tag;
} inproc;

static void init_cv(void)
{
	pthread_condattr_t a;

	/* monotonic: a wall-clock jump must not stretch or cut a timeout */
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&g_cv, &a);
	pthread_condattr_destroy(&a);
}

/* Under g_mu. */
static iq_queue *find(const char *name)
{
	for (iq_queue *x = g_queues; x; x = x->next)
		if (!strcmp(x->name, name))
			return x;
	return NULL;
}

/* Under g_mu. */
static iq_queue *create(const char *name)
{
	iq_queue *x = find(name);

	if (x)
		return x;
	x = calloc(1, sizeof *x);
	if (!x || !(x->name = strdup(name))) {
		free(x);
		return NULL;
	}
	x->next = g_queues;
	g_queues = x;
	return x;
}

static void push_back(iq_queue *x, iq_msg *m)
{
	m->next = NULL;
	if (x->tail)
		x->tail->next = m;
	else
		x->head = m;
	x->tail = m;
	x->count++;
}

/* A requeued message goes to the front, where RabbitMQ puts it too. */
static void push_front(iq_queue *x, iq_msg *m)
{
	m->next = x->head;
	x->head = m;
	if (!x->tail)
		x->tail = m;
	x->count++;
}

static iq_msg *pop(iq_queue *x)
{
	iq_msg *m = x->head;

	if (m) {
		x->head = m->next;
		if (!x->head)
			x->tail = NULL;
		x->count--;
		m->next = NULL;
	}
	return m;
}

static void msg_destroy(iq_msg *m)
{
	if (m) {
		free(m->body);
		free(m);
	}
}

static int ip_declare(jl_queue *q, const char *name)
{
	char *dn = jl_queue_dead_name(name);
	iq_queue *x = NULL, *d = NULL;

	if (!dn)
		return jl_queue_fail(q, JETL_ENOMEM, "queue: out of memory");
	pthread_mutex_lock(&g_mu);
	d = create(dn);
	if (d)
		x = create(name);
	if (x && x != d && !x->dead)
		x->dead = d;
	pthread_mutex_unlock(&g_mu);
	free(dn);
	if (!x)
		return jl_queue_fail(q, JETL_ENOMEM, "queue: out of memory");
	return JETL_OK;
}

static int ip_publish(jl_queue *q, const char *queue, const char *body, size_t len)
{
	iq_msg *m = calloc(1, sizeof *m);
	iq_queue *x;

	if (!m || !(m->body = malloc(len + 1))) {
		free(m);
		return jl_queue_fail(q, JETL_ENOMEM, "queue: out of memory");
	}
	memcpy(m->body, body, len);
	m->body[len] = '\0';
	m->len = len;
	pthread_mutex_lock(&g_mu);
	x = find(queue);
	if (x) {
		push_back(x, m);
		pthread_cond_broadcast(&g_cv);
	}
	pthread_mutex_unlock(&g_mu);
	if (!x) {
		msg_destroy(m);
		/* as RabbitMQ with mandatory publishes: no queue, no silent drop */
		return jl_queue_fail(q, JETL_ENOENT, "queue: no queue named %s (in-process)", queue);
	}
	return JETL_OK;
}

static int ip_consume(jl_queue *q, const char *const *queues, size_t n, int prefetch)
{
	inproc *ip = q->impl;
	int missing = -1;

	if (ip->nconsumed)
		return jl_queue_fail(q, JETL_ESTATE, "queue: this handle already consumes");
	if (n > sizeof ip->consumed / sizeof ip->consumed[0])
		return jl_queue_fail(q, JETL_EINVAL, "queue: too many queues");
	pthread_mutex_lock(&g_mu);
	for (size_t i = 0; i < n && missing < 0; i++)
		if (!(ip->consumed[i] = find(queues[i])))
			missing = (int)i;
	pthread_mutex_unlock(&g_mu);
	if (missing >= 0)
		return jl_queue_fail(q, JETL_ENOENT, "queue: no queue named %s (in-process)", queues[missing]);
	ip->nconsumed = n;
	ip->prefetch = prefetch;
	return JETL_OK;
}

/* Under g_mu: take the next message of the consumed queues, if any. */
static int try_take(jl_queue *q, inproc *ip, jl_queue_msg *msg, const char **queue_out)
{
	if (ip->prefetch && ip->nheld >= (size_t)ip->prefetch)
		return 0;
	for (size_t k = 0; k < ip->nconsumed; k++) {
		size_t i = (ip->rr + k) % ip->nconsumed;
		iq_queue *x = ip->consumed[i];
		iq_msg *m;
		char *copy;

		if (!x->head)
			continue;
		if (ip->nheld == ip->capheld) {
			size_t cap = ip->capheld ? ip->capheld * 2 : 16;
			iq_held *h = realloc(ip->held, cap * sizeof *h);

			if (!h)
				return jl_queue_fail(q, JETL_ENOMEM, "queue: out of memory");
			ip->held = h;
			ip->capheld = cap;
		}
		copy = malloc(x->head->len + 1);
		if (!copy)
			return jl_queue_fail(q, JETL_ENOMEM, "queue: out of memory");
		m = pop(x);
		memcpy(copy, m->body, m->len + 1);
		msg->body = copy;
		msg->len = m->len;
		msg->tag = ++ip->next_tag;
		msg->redelivered = m->redelivered;
		msg->gen = ip->gen;
		ip->held[ip->nheld++] = (iq_held){ msg->tag, x, m };
		ip->rr = i + 1;
		if (queue_out)
			*queue_out = x->name;
		return 1;
	}
	return 0;
}

static int ip_next(jl_queue *q, jl_queue_msg *msg, const char **queue_out, int timeout_ms)
{
	inproc *ip = q->impl;
	struct timespec dl;
	int got, timed_out = 0;

	if (!ip->nconsumed)
		return jl_queue_fail(q, JETL_ESTATE, "queue: jl_queue_consume was not called");
	jl_deadline_ms(&dl, timeout_ms);
	pthread_mutex_lock(&g_mu);
	while (!(got = try_take(q, ip, msg, queue_out)) && !timed_out)
		timed_out = pthread_cond_timedwait(&g_cv, &g_mu, &dl) == ETIMEDOUT;
	pthread_mutex_unlock(&g_mu);
	if (got < 0)
		return got;
	if (!got)
		return JETL_ETIMEOUT;
	return JETL_OK;
}

static int ip_settle(jl_queue *q, const jl_queue_msg *msg, int how)
{
	inproc *ip = q->impl;
	size_t i;
	iq_held h;

	if (msg->gen != ip->gen)
		return jl_queue_fail(q, JETL_ESTATE, "queue: message was not delivered by this handle");
	for (i = 0; i < ip->nheld && ip->held[i].tag != msg->tag; i++)
		;
	if (i == ip->nheld)
		return jl_queue_fail(q, JETL_ESTATE, "queue: delivery %llu already acknowledged or rejected",
			(unsigned long long)msg->tag);
	h = ip->held[i];
	memmove(ip->held + i, ip->held + i + 1, (ip->nheld - i - 1) * sizeof *ip->held);
	ip->nheld--;
	pthread_mutex_lock(&g_mu);
	if (how == JLQ_REQUEUE) {
		h.m->redelivered = 1;
		push_front(h.from, h.m);
	} else if (how == JLQ_DEAD && h.from->dead) {
		/* RabbitMQ delivers a dead-lettered message as a new one */
		h.m->redelivered = 0;
		push_back(h.from->dead, h.m);
	} else {
		msg_destroy(h.m);   /* acked, or rejected from a queue without DLQ */
	}
	pthread_cond_broadcast(&g_cv);
	pthread_mutex_unlock(&g_mu);
	return JETL_OK;
}

static int64_t ip_depth(jl_queue *q, const char *queue)
{
	iq_queue *x;
	int64_t n = -1;

	pthread_mutex_lock(&g_mu);
	x = find(queue);
	if (x)
		n = x->count;
	pthread_mutex_unlock(&g_mu);
	if (!x)
		jl_queue_fail(q, JETL_ENOENT, "queue: no queue named %s (in-process)", queue);
	return n;
}

static void ip_close(jl_queue *q)
{
	inproc *ip = q->impl;

	/* like a closed channel: what this handle held goes back, in order */
	pthread_mutex_lock(&g_mu);
	for (size_t i = ip->nheld; i-- > 0;) {
		ip->held[i].m->redelivered = 1;
		push_front(ip->held[i].from, ip->held[i].m);
	}
	if (ip->nheld)
		pthread_cond_broadcast(&g_cv);
	pthread_mutex_unlock(&g_mu);
	free(ip->held);
	free(ip);
}

static const struct jl_queue_ops inproc_ops = {
	ip_declare, ip_publish, ip_consume, ip_next, ip_settle, ip_depth, ip_close,
};

int jl_queue_inproc_open(jl_queue *q)
{
	inproc *ip = calloc(1, sizeof *ip);
	int rc;

	if (!ip)
		return jl_queue_fail(q, JETL_ENOMEM, "queue: out of memory");
	pthread_once(&g_once, init_cv);
	ip->gen = jl_queue_new_gen();
	q->ops = &inproc_ops;
	q->impl = ip;
	if ((rc = ip_declare(q, JL_QUEUE_EXTRACT)) || (rc = ip_declare(q, JL_QUEUE_TRANSFORM))) {
		free(ip);
		q->impl = NULL;
		return rc;
	}
	return JETL_OK;
}
