/*
 * amqp.c - the RabbitMQ backend (rabbitmq-c 0.11, AMQP 0-9-1).
 *
 * One connection per handle. Channel 1 carries everything that matters:
 * declarations, publishes (in confirm mode) and the consumer. Channel 2 is
 * opened on demand for the passive declare of jl_queue_depth, because the
 * broker answers a passive declare of a missing queue by closing the
 * channel, which must not take the consumer with it.
 *
 * Broken connections: any socket error, heartbeat timeout, connection.close
 * or channel.close on channel 1 drops the whole connection ("lost"). The
 * next call reconnects with bounded backoff, declares the queues again and
 * consumes again. The generation number changes with every connection so
 * delivery tags of the old one are recognised as void (the broker requeues
 * those messages by itself when the connection dies).
 *
 * TLS (amqps://): rabbitmq-c's SSL socket, with the checks done by OpenSSL
 * itself on the socket's SSL_CTX (see tls_setup) so that a failure can say
 * which check failed and why, IP addresses in the URL are matched against
 * the certificate's IP entries, and no CA file means the system's trust
 * store rather than trusting nothing.
 *
 * Publishes wait for their confirm before returning. While waiting, the
 * broker may push deliveries for the consumer on the same channel; those
 * are read in full and kept in a small FIFO (the "stash") that
 * jl_queue_next drains first.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <amqp.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "jetl/common.h"
#include "../core/util.h"
#include "queue_int.h"

#define CH 1            /* declarations, publishes, consumer */
#define CH_DEPTH 2      /* passive declares only */
#define RPC_TIMEOUT_S 30
#define CONNECT_TIMEOUT_S 10
#define FRAME_MAX 131072

typedef struct stash {
	struct stash *next;
	char *body;
	size_t len;
	uint64_t tag;
	int redelivered;
	const char *queue;
} stash;

typedef struct aq {
	jl_queue_url url;
	amqp_connection_state_t conn;  /* NULL while down */
	uint64_t gen;
	int depth_ch_open;
	double down_since;             /* jl_now() of the loss; 0 while up */

	char **declared;               /* extra queues (jl_queue_declare) */
	size_t ndeclared;

	char **cq;                     /* consumed queues; consumer tag = name */
	size_t ncq;
	int prefetch;

	stash *sh, *st;                /* deliveries read while publishing */
	uint64_t *out;                 /* delivery tags handed out or stashed, unsettled */
	size_t nout, capout;
} aq;

/* ---------------------------------------------------------------- errors */

static void reply_text(amqp_rpc_reply_t r, char *buf, size_t n)
{
	switch (r.reply_type) {
	case AMQP_RESPONSE_NORMAL:
		snprintf(buf, n, "ok");
		break;
	case AMQP_RESPONSE_NONE:
		snprintf(buf, n, "no reply");
		break;
	case AMQP_RESPONSE_LIBRARY_EXCEPTION:
		snprintf(buf, n, "%s", amqp_error_string2(r.library_error));
		break;
	case AMQP_RESPONSE_SERVER_EXCEPTION:
		if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
			amqp_connection_close_t *c = r.reply.decoded;
			snprintf(buf, n, "broker closed the connection: %u %.*s", c->reply_code,
				(int)c->reply_text.len, (const char *)c->reply_text.bytes);
		} else if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
			amqp_channel_close_t *c = r.reply.decoded;
			snprintf(buf, n, "broker closed the channel: %u %.*s", c->reply_code,
				(int)c->reply_text.len, (const char *)c->reply_text.bytes);
		} else {
			snprintf(buf, n, "unexpected broker method 0x%08x", (unsigned)r.reply.id);
		}
		break;
	}
}

static int fail_reply(jl_queue *q, amqp_rpc_reply_t r, const char *what)
{
	aq *a = q->impl;
	char t[300];

	reply_text(r, t, sizeof t);
	return jl_queue_fail(q, JETL_EQUEUE, "rabbitmq %s: %s: %s", a->url.where, what, t);
}

/* ---------------------------------------------------------------- helpers */

static struct timeval tv_ms(int ms)
{
	struct timeval tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return tv;
}

static int track(aq *a, uint64_t tag)
{
	if (a->nout == a->capout) {
		size_t cap = a->capout ? a->capout * 2 : 32;
		uint64_t *p = realloc(a->out, cap * sizeof *p);

		if (!p)
			return -1;
		a->out = p;
		a->capout = cap;
	}
	a->out[a->nout++] = tag;
	return 0;
}

static int untrack(aq *a, uint64_t tag)
{
	for (size_t i = 0; i < a->nout; i++) {
		if (a->out[i] == tag) {
			a->out[i] = a->out[--a->nout];
			return 1;
		}
	}
	return 0;
}

static const char *consumer_queue(aq *a, amqp_bytes_t tag)
{
	for (size_t i = 0; i < a->ncq; i++)
		if (strlen(a->cq[i]) == tag.len && !memcmp(a->cq[i], tag.bytes, tag.len))
			return a->cq[i];
	return NULL;
}

static void stash_clear(aq *a)
{
	while (a->sh) {
		stash *s = a->sh;
		a->sh = s->next;
		free(s->body);
		free(s);
	}
	a->st = NULL;
}

/* The connection is gone (or unusable): forget it and everything tied to
 * it. The broker requeues what this connection held unacked. */
static void lost(aq *a)
{
	if (a->conn) {
		amqp_destroy_connection(a->conn);
		a->conn = NULL;
	}
	stash_clear(a);
	a->nout = 0;
	a->depth_ch_open = 0;
	if (!a->down_since)
		a->down_since = jl_now();
}

/* ---------------------------------------------------------------- connect */

static int declare_on(jl_queue *q, amqp_connection_state_t c, const char *name)
{
	aq *a = q->impl;
	char *dn = jl_queue_dead_name(name);
	amqp_table_entry_t e[2];
	amqp_table_t args;
	amqp_rpc_reply_t r;

	if (!dn)
		return jl_queue_fail(q, JETL_ENOMEM, "queue: out of memory");
	amqp_queue_declare(c, CH, amqp_cstring_bytes(dn), 0, 1, 0, 0, amqp_empty_table);
	r = amqp_get_rpc_reply(c);
	if (r.reply_type == AMQP_RESPONSE_NORMAL) {
		/* dead letters go through the default exchange, straight to <name>.dead */
		e[0].key = amqp_cstring_bytes("x-dead-letter-exchange");
		e[0].value.kind = AMQP_FIELD_KIND_UTF8;
		e[0].value.value.bytes = amqp_cstring_bytes("");
		e[1].key = amqp_cstring_bytes("x-dead-letter-routing-key");
		e[1].value.kind = AMQP_FIELD_KIND_UTF8;
		e[1].value.value.bytes = amqp_cstring_bytes(dn);
		args.num_entries = 2;
		args.entries = e;
		amqp_queue_declare(c, CH, amqp_cstring_bytes(name), 0, 1, 0, 0, args);
		r = amqp_get_rpc_reply(c);
	}
	free(dn);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		char t[300];

		reply_text(r, t, sizeof t);
		/* 406 PRECONDITION_FAILED: someone declared it with other arguments */
		return jl_queue_fail(q, JETL_EQUEUE, "rabbitmq %s: cannot declare queue %s: %s%s",
			a->url.where, name, t,
			strstr(t, "406") ? " (it exists with other arguments: delete it or use another vhost)" : "");
	}
	return JETL_OK;
}

static int start_consumer(jl_queue *q, amqp_connection_state_t c)
{
	aq *a = q->impl;

	amqp_basic_qos(c, CH, 0, (uint16_t)a->prefetch, 0);
	if (amqp_get_rpc_reply(c).reply_type != AMQP_RESPONSE_NORMAL)
		return fail_reply(q, amqp_get_rpc_reply(c), "basic.qos");
	for (size_t i = 0; i < a->ncq; i++) {
		amqp_basic_consume(c, CH, amqp_cstring_bytes(a->cq[i]), amqp_cstring_bytes(a->cq[i]),
			0, 0, 0, amqp_empty_table);
		if (amqp_get_rpc_reply(c).reply_type != AMQP_RESPONSE_NORMAL) {
			char what[300];

			snprintf(what, sizeof what, "cannot consume from %s", a->cq[i]);
			return fail_reply(q, amqp_get_rpc_reply(c), what);
		}
	}
	return JETL_OK;
}

/* ---------------------------------------------------------------- TLS */

/* What the verify callback saw during one handshake: the first failure and
 * the names the broker's certificate carries (for the hostname message). */
typedef struct tls_seen {
	int err;               /* X509_V_OK or the first X509_V_ERR_* */
	int depth;
	char names[200];       /* "DNS:a, IP:b" of the leaf certificate */
} tls_seen;

static void leaf_names(X509 *cert, char *buf, size_t n)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens) && len + 1 < n; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		char one[80] = "";

		if (g->type == GEN_DNS) {
			snprintf(one, sizeof one, "DNS:%.*s", ASN1_STRING_length(g->d.dNSName),
				(const char *)ASN1_STRING_get0_data(g->d.dNSName));
		} else if (g->type == GEN_IPADD && ASN1_STRING_length(g->d.iPAddress) == 4) {
			const unsigned char *a = ASN1_STRING_get0_data(g->d.iPAddress);

			snprintf(one, sizeof one, "IP:%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
		} else if (g->type == GEN_IPADD) {
			snprintf(one, sizeof one, "IP:(v6)");
		}
		if (*one)
			len += (size_t)snprintf(buf + len, n - len, "%s%s", len ? ", " : "", one);
	}
	GENERAL_NAMES_free(gens);
	if (!buf[0]) {
		X509_NAME *sub = X509_get_subject_name(cert);
		char cn[80];

		if (sub && X509_NAME_get_text_by_NID(sub, NID_commonName, cn, sizeof cn) > 0)
			snprintf(buf, n, "CN=%s", cn);
	}
}

/* Records, never decides: returns what OpenSSL decided (rabbitmq-c checks
 * the verify result after the handshake and fails the open). */
static int tls_verify_cb(int ok, X509_STORE_CTX *sctx)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(sctx, SSL_get_ex_data_X509_STORE_CTX_idx());
	tls_seen *seen = ssl ? SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)) : NULL;
	int depth = X509_STORE_CTX_get_error_depth(sctx);

	if (!seen)
		return ok;
	if (depth == 0 && !seen->names[0]) {
		X509 *cert = X509_STORE_CTX_get_current_cert(sctx);

		if (cert)
			leaf_names(cert, seen->names, sizeof seen->names);
	}
	if (!ok && seen->err == X509_V_OK) {
		seen->err = X509_STORE_CTX_get_error(sctx);
		seen->depth = depth;
	}
	return ok;
}

/* OpenSSL would prompt on the terminal for an encrypted key: a worker has
 * none, so refuse (the key must be unencrypted, readable by the worker). */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return 0;
}

/* The first error OpenSSL queued on this thread, as text ("" when none). */
static void ssl_reason(char *buf, size_t n)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	snprintf(buf, n, "%s", r ? r : "");
	ERR_clear_error();
}

static int readable(jl_queue *q, const char *what, const char *path)
{
	aq *a = q->impl;
	FILE *f = fopen(path, "r");

	if (!f)
		return jl_queue_fail(q, JETL_ECONFIG, "rabbitmq %s: cannot read the %s %s: %s",
			a->url.where, what, path, strerror(errno));
	fclose(f);
	return JETL_OK;
}

/* A new SSL socket on c with the URL's settings, or a failure. */
static int tls_setup(jl_queue *q, amqp_connection_state_t c, amqp_socket_t **out, tls_seen *seen)
{
	aq *a = q->impl;
	amqp_socket_t *s;
	SSL_CTX *ctx;
	X509_VERIFY_PARAM *param;
	char why[200];
	int rc;

	if ((a->url.cacert && (rc = readable(q, "CA file (cacertfile)", a->url.cacert))) ||
	    (a->url.cert && (rc = readable(q, "client certificate (certfile)", a->url.cert))) ||
	    (a->url.key && (rc = readable(q, "client key (keyfile)", a->url.key))))
		return rc;
	ERR_clear_error();
	s = amqp_ssl_socket_new(c);
	if (!s)
		return jl_queue_fail(q, JETL_ENOMEM, "rabbitmq %s: cannot set up TLS", a->url.where);
	ctx = amqp_ssl_socket_get_context(s);
	SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
	if (a->url.cacert) {
		if (amqp_ssl_socket_set_cacert(s, a->url.cacert) != AMQP_STATUS_OK) {
			ssl_reason(why, sizeof why);
			return jl_queue_fail(q, JETL_ECONFIG, "rabbitmq %s: the CA file (cacertfile) %s holds no usable PEM certificate%s%s",
				a->url.where, a->url.cacert, *why ? ": " : "", why);
		}
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		ssl_reason(why, sizeof why);
		return jl_queue_fail(q, JETL_ECONFIG, "rabbitmq %s: cannot load the system's CA certificates (%s): set cacertfile in the URL",
			a->url.where, *why ? why : "unknown error");
	}
	if (a->url.cert) {
		const char *key = a->url.key ? a->url.key : a->url.cert;

		if (amqp_ssl_socket_set_key(s, a->url.cert, key) != AMQP_STATUS_OK) {
			ssl_reason(why, sizeof why);
			return jl_queue_fail(q, JETL_ECONFIG, "rabbitmq %s: cannot use the client certificate %s with the key %s%s%s (PEM, unencrypted, and the pair must match)",
				a->url.where, a->url.cert, key, *why ? ": " : "", why);
		}
	}
	/* rabbitmq-c's own hostname check knows DNS names only; OpenSSL's
	 * matches an IP in the URL against the IP entries too, and reports a
	 * mismatch through the verify result we record */
	amqp_ssl_socket_set_verify_peer(s, a->url.verify);
	amqp_ssl_socket_set_verify_hostname(s, 0);
	if (a->url.verify) {
		param = SSL_CTX_get0_param(ctx);
		X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (X509_VERIFY_PARAM_set1_ip_asc(param, a->url.host) != 1 &&
		    X509_VERIFY_PARAM_set1_host(param, a->url.host, 0) != 1)
			return jl_queue_fail(q, JETL_ECONFIG, "rabbitmq %s: cannot check the host name %s against a certificate",
				a->url.where, a->url.host);
	}
	memset(seen, 0, sizeof *seen);
	seen->err = X509_V_OK;
	SSL_CTX_set_app_data(ctx, seen);
	SSL_CTX_set_verify(ctx, SSL_CTX_get_verify_mode(ctx), tls_verify_cb);
	*out = s;
	return JETL_OK;
}

/* The open of an SSL socket failed: say which check and what to do. */
static int tls_fail(jl_queue *q, int rc, const tls_seen *seen)
{
	aq *a = q->impl;
	char why[200];

	ssl_reason(why, sizeof why);
	if (rc == AMQP_STATUS_SSL_PEER_VERIFY_FAILED || rc == AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED) {
		int e = seen->err;

		if (e == X509_V_ERR_HOSTNAME_MISMATCH || e == X509_V_ERR_IP_ADDRESS_MISMATCH ||
		    rc == AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED)
			return jl_queue_fail(q, JETL_EQUEUE, "rabbitmq %s: TLS: hostname mismatch: the broker's certificate is for %s, not %s (use a host name the certificate names)",
				a->url.where, seen->names[0] ? seen->names : "other names", a->url.host);
		if (e == X509_V_ERR_CERT_HAS_EXPIRED || e == X509_V_ERR_CERT_NOT_YET_VALID)
			return jl_queue_fail(q, JETL_EQUEUE, "rabbitmq %s: TLS: the broker's certificate is not valid now (%s)",
				a->url.where, X509_verify_cert_error_string(e));
		return jl_queue_fail(q, JETL_EQUEUE, "rabbitmq %s: TLS: certificate not trusted: %s (%s)",
			a->url.where, e != X509_V_OK ? X509_verify_cert_error_string(e) : "no certificate",
			a->url.cacert ? "is cacertfile the CA that signed the broker's certificate?"
				: "no cacertfile in the URL, so the system's CA certificates were used");
	}
	if (rc == AMQP_STATUS_SSL_CONNECTION_FAILED || rc == AMQP_STATUS_SSL_ERROR)
		return jl_queue_fail(q, JETL_EQUEUE, "rabbitmq %s: TLS handshake failed%s%s (is the port a TLS listener, and does the broker want a client certificate?)",
			a->url.where, *why ? ": " : "", why);
	return jl_queue_fail(q, JETL_EQUEUE, "rabbitmq %s: cannot connect: %s", a->url.where, amqp_error_string2(rc));
}

/* The socket of c (TCP or TLS), connected within CONNECT_TIMEOUT_S. 0, or
 * a status with q->err set (c is the caller's to destroy). */
static int open_socket(jl_queue *q, amqp_connection_state_t c)
{
	aq *a = q->impl;
	amqp_socket_t *s = NULL;
	struct timeval tv;
	tls_seen seen;
	int rc;

	if (a->url.tls) {
		if ((rc = tls_setup(q, c, &s, &seen)))
			return rc;
	} else if (!(s = amqp_tcp_socket_new(c))) {
		return jl_queue_fail(q, JETL_ENOMEM, "queue: out of memory");
	}
	tv = tv_ms(CONNECT_TIMEOUT_S * 1000);
	rc = amqp_socket_open_noblock(s, a->url.host, a->url.port, &tv);
	if (a->url.tls)   /* seen lives on this stack frame only */
		SSL_CTX_set_app_data((SSL_CTX *)amqp_ssl_socket_get_context(s), NULL);
	if (rc == AMQP_STATUS_OK)
		return 0;
	if (a->url.tls)
		return tls_fail(q, rc, &seen);
	return jl_queue_fail(q, JETL_EQUEUE, "rabbitmq %s: cannot connect: %s", a->url.where, amqp_error_string2(rc));
}

/* Log in on an open socket, with timeouts so that no RPC can hang a worker
 * forever on a half-dead broker. 0, or a status with q->err set. */
static int login(jl_queue *q, amqp_connection_state_t c)
{
	aq *a = q->impl;
	struct timeval tv = tv_ms(CONNECT_TIMEOUT_S * 1000);
	amqp_rpc_reply_t r;
	char t[300];

	amqp_set_handshake_timeout(c, &tv);
	tv = tv_ms(RPC_TIMEOUT_S * 1000);
	amqp_set_rpc_timeout(c, &tv);
	r = amqp_login(c, a->url.vhost, 0, FRAME_MAX, JL_QUEUE_HEARTBEAT_S, AMQP_SASL_METHOD_PLAIN,
		a->url.user, a->url.pass);
	if (r.reply_type == AMQP_RESPONSE_NORMAL)
		return 0;
	if (a->url.tls && r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_SSL_ERROR) {
		/* TLS 1.3: the broker checks the client certificate after the
		 * client's side of the handshake is done, so its refusal shows at
		 * the first read */
		ssl_reason(t, sizeof t);
		return jl_queue_fail(q, JETL_EQUEUE, "rabbitmq %s: TLS: the broker closed the connection%s%s (does it want a client certificate its CA signed: certfile, keyfile?)",
			a->url.where, *t ? ": " : "", t);
	}
	reply_text(r, t, sizeof t);
	return jl_queue_fail(q, JETL_EQUEUE, "rabbitmq %s: login as %s failed: %s%s",
		a->url.where, a->url.user, t,
		strstr(t, "403") || strstr(t, "ACCESS_REFUSED") ? " (check user, password and vhost permissions)" : "");
}

/* The channel in confirm mode, the queues declared (jetl's and the
 * caller's), the consumer started when the handle consumes. 0 or a status. */
static int open_channel(jl_queue *q, amqp_connection_state_t c)
{
	aq *a = q->impl;
	amqp_rpc_reply_t r;
	int rc;

	amqp_channel_open(c, CH);
	r = amqp_get_rpc_reply(c);
	if (r.reply_type == AMQP_RESPONSE_NORMAL) {
		amqp_confirm_select(c, CH);
		r = amqp_get_rpc_reply(c);
	}
	if (r.reply_type != AMQP_RESPONSE_NORMAL)
		return fail_reply(q, r, "cannot open a channel in confirm mode");
	if ((rc = declare_on(q, c, JL_QUEUE_EXTRACT)) || (rc = declare_on(q, c, JL_QUEUE_TRANSFORM)))
		return rc;
	for (size_t i = 0; i < a->ndeclared; i++)
		if ((rc = declare_on(q, c, a->declared[i])))
			return rc;
	return a->ncq ? start_consumer(q, c) : 0;
}

/* One attempt: a new connection with everything set up, or a failure with
 * q->err set and nothing left open. */
static int connect_once(jl_queue *q)
{
	aq *a = q->impl;
	amqp_connection_state_t c = amqp_new_connection();
	int rc;

	if (!c)
		return jl_queue_fail(q, JETL_ENOMEM, "queue: out of memory");
	if ((rc = open_socket(q, c)) || (rc = login(q, c)) || (rc = open_channel(q, c))) {
		amqp_destroy_connection(c);
		return rc;
	}
	a->conn = c;
	a->gen = jl_queue_new_gen();
	a->down_since = 0;
	a->depth_ch_open = 0;
	a->nout = 0;
	return JETL_OK;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * Make sure there is a connection. Retries with backoff while the time since
 * the loss is under q->reconnect_ms. With a deadline (jl_now() scale, 0 =
 * none), gives up at it with JETL_ETIMEOUT so that jl_queue_next keeps its
 * timeout while the broker is away.
 */
static int ensure_up(jl_queue *q, double deadline)
{
	aq *a = q->impl;
	int backoff = 100;

	if (a->conn)
		return JETL_OK;
	if (!a->down_since)
		a->down_since = jl_now();
	for (;;) {
		double now;
		int wait;

		if (connect_once(q) == JETL_OK)
			return JETL_OK;
		now = jl_now();
		if ((now - a->down_since) * 1000 >= q->reconnect_ms) {
			/* keep the cause from connect_once, say it is final */
			char t[sizeof q->err];

			snprintf(t, sizeof t, "%s", q->err);
			return jl_queue_fail(q, JETL_EQUEUE, "%s (gave up reconnecting after %d ms)",
				t, q->reconnect_ms);
		}
		wait = backoff;
		if (deadline > 0) {
			if (now >= deadline)
				return JETL_ETIMEOUT;
			if ((deadline - now) * 1000 < wait)
				wait = (int)((deadline - now) * 1000) + 1;
		}
		sleep_ms(wait);
		backoff = backoff * 2 > 2000 ? 2000 : backoff * 2;
	}
}

/* ---------------------------------------------------------------- frames */

/* A basic.deliver method frame arrived outside amqp_consume_message: read
 * its content and keep it for jl_queue_next. 0 or -1 (connection unusable). */
static int stash_delivery(aq *a, const amqp_frame_t *f)
{
	const amqp_basic_deliver_t *d = f->payload.method.decoded;
	uint64_t tag = d->delivery_tag;
	int redelivered = d->redelivered;
	const char *queue = consumer_queue(a, d->consumer_tag);
	amqp_message_t m;
	amqp_rpc_reply_t r;
	stash *s;

	/* read the content before anything reuses the frame's memory */
	r = amqp_read_message(a->conn, f->channel, &m, 0);
	if (r.reply_type != AMQP_RESPONSE_NORMAL)
		return -1;
	s = calloc(1, sizeof *s);
	if (s)
		s->body = malloc(m.body.len + 1);
	if (!s || !s->body || track(a, tag)) {
		/* out of memory: the delivery cannot be handed out; dropping the
		 * connection makes the broker requeue it */
		if (s)
			free(s->body);
		free(s);
		amqp_destroy_message(&m);
		return -1;
	}
	memcpy(s->body, m.body.bytes, m.body.len);
	s->body[m.body.len] = '\0';
	s->len = m.body.len;
	s->tag = tag;
	s->redelivered = redelivered;
	s->queue = queue;
	amqp_destroy_message(&m);
	if (a->st)
		a->st->next = s;
	else
		a->sh = s;
	a->st = s;
	return 0;
}

/* Discard the content that follows a basic.return. */
static int skip_content(aq *a, amqp_channel_t ch)
{
	amqp_message_t m;
	amqp_rpc_reply_t r = amqp_read_message(a->conn, ch, &m, 0);

	if (r.reply_type != AMQP_RESPONSE_NORMAL)
		return -1;
	amqp_destroy_message(&m);
	return 0;
}

/* Answer the broker's close so it can free its side, then note the cause. */
static void close_frame(jl_queue *q, const amqp_frame_t *f)
{
	aq *a = q->impl;
	amqp_rpc_reply_t r;

	memset(&r, 0, sizeof r);
	r.reply_type = AMQP_RESPONSE_SERVER_EXCEPTION;
	r.reply = f->payload.method;
	fail_reply(q, r, "connection lost");
	if (f->payload.method.id == AMQP_CONNECTION_CLOSE_METHOD) {
		amqp_connection_close_ok_t ok = { 0 };
		amqp_send_method(a->conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
	}
}

/* ---------------------------------------------------------------- ops */

static int aq_declare(jl_queue *q, const char *name)
{
	aq *a = q->impl;
	char *copy, **v;
	int rc;

	for (size_t i = 0; i < a->ndeclared; i++)
		if (!strcmp(a->declared[i], name))
			return JETL_OK;
	for (int attempt = 0;; attempt++) {
		if ((rc = ensure_up(q, 0)))
			return rc;
		rc = declare_on(q, a->conn, name);
		if (rc != JETL_EQUEUE || attempt)
			break;
		/* a failed declare closes channel 1: the connection must go */
		lost(a);
		if (strstr(q->err, "406"))
			return rc;
	}
	if (rc) {
		lost(a);
		return rc;
	}
	copy = strdup(name);
	v = copy ? realloc(a->declared, (a->ndeclared + 1) * sizeof *v) : NULL;
	if (!v) {
		free(copy);
		return jl_queue_fail(q, JETL_ENOMEM, "queue: out of memory");
	}
	a->declared = v;
	a->declared[a->ndeclared++] = copy;
	return JETL_OK;
}

/* 0 = confirmed, 1 = connection lost (publish again), or a failure. */
static int publish_once(jl_queue *q, const char *queue, const char *body, size_t len)
{
	aq *a = q->impl;
	amqp_basic_properties_t p;
	amqp_bytes_t b = { len, (void *)body };
	int returned = 0, rc;
	double deadline;

	memset(&p, 0, sizeof p);
	p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
	p.content_type = amqp_cstring_bytes("application/json");
	p.delivery_mode = AMQP_DELIVERY_PERSISTENT;
	/* mandatory: an unroutable message comes back (basic.return) instead of
	 * vanishing, so a missing queue is an error, not a silent loss */
	rc = amqp_basic_publish(a->conn, CH, amqp_empty_bytes, amqp_cstring_bytes(queue), 1, 0, &p, b);
	if (rc != AMQP_STATUS_OK) {
		jl_queue_fail(q, JETL_EQUEUE, "rabbitmq %s: publish: %s", a->url.where, amqp_error_string2(rc));
		return 1;
	}
	/* one publish in flight, so the first ack (or nack) on CH is ours */
	deadline = jl_now() + RPC_TIMEOUT_S;
	for (;;) {
		amqp_frame_t f;
		struct timeval tv = tv_ms((int)((deadline - jl_now()) * 1000));

		rc = amqp_simple_wait_frame_noblock(a->conn, &f, &tv);
		if (rc != AMQP_STATUS_OK) {
			jl_queue_fail(q, JETL_EQUEUE, "rabbitmq %s: waiting for the publish confirm: %s",
				a->url.where, amqp_error_string2(rc));
			return 1;
		}
		if (f.frame_type != AMQP_FRAME_METHOD)
			continue;
		switch (f.payload.method.id) {
		case AMQP_BASIC_ACK_METHOD:
			if (f.channel != CH)
				break;
			if (returned)
				return jl_queue_fail(q, JETL_ENOENT, "rabbitmq %s: no queue named %s",
					a->url.where, queue);
			return JETL_OK;
		case AMQP_BASIC_NACK_METHOD:
			if (f.channel != CH)
				break;
			return jl_queue_fail(q, JETL_EQUEUE, "rabbitmq %s: the broker refused a message for %s",
				a->url.where, queue);
		case AMQP_BASIC_RETURN_METHOD:
			returned = 1;
			if (skip_content(a, f.channel))
				return 1;
			break;
		case AMQP_BASIC_DELIVER_METHOD:
			if (stash_delivery(a, &f))
				return 1;
			break;
		case AMQP_CHANNEL_CLOSE_METHOD:
		case AMQP_CONNECTION_CLOSE_METHOD:
			close_frame(q, &f);
			return 1;
		case AMQP_BASIC_CANCEL_METHOD:
			/* the broker cancelled our consumer (queue deleted): start over */
			jl_queue_fail(q, JETL_EQUEUE, "rabbitmq %s: consumer cancelled by the broker", a->url.where);
			return 1;
		default:
			break;
		}
	}
}

static int aq_publish(jl_queue *q, const char *queue, const char *body, size_t len)
{
	aq *a = q->impl;
	int rc;

	for (;;) {
		if ((rc = ensure_up(q, 0)))
			return rc;
		amqp_maybe_release_buffers(a->conn);
		rc = publish_once(q, queue, body, len);
		if (rc != 1)
			return rc;
		lost(a);
	}
}

static int aq_consume(jl_queue *q, const char *const *queues, size_t n, int prefetch)
{
	aq *a = q->impl;
	int rc;

	if (a->ncq)
		return jl_queue_fail(q, JETL_ESTATE, "queue: this handle already consumes");
	a->cq = calloc(n, sizeof *a->cq);
	if (!a->cq)
		return jl_queue_fail(q, JETL_ENOMEM, "queue: out of memory");
	for (size_t i = 0; i < n; i++) {
		if (!(a->cq[i] = strdup(queues[i]))) {
			a->ncq = i;   /* so close frees what was copied */
			return jl_queue_fail(q, JETL_ENOMEM, "queue: out of memory");
		}
	}
	a->ncq = n;
	a->prefetch = prefetch;
	if ((rc = ensure_up(q, 0)))
		return rc;
	if ((rc = start_consumer(q, a->conn))) {
		/* e.g. no such queue (404): stop consuming so a retry can work */
		lost(a);
		for (size_t i = 0; i < a->ncq; i++)
			free(a->cq[i]);
		free(a->cq);
		a->cq = NULL;
		a->ncq = 0;
		return rc;
	}
	return JETL_OK;
}

static void fill_msg(aq *a, jl_queue_msg *msg, const char **queue_out, char *body, size_t len,
	uint64_t tag, int redelivered, const char *queue)
{
	msg->body = body;
	msg->len = len;
	msg->tag = tag;
	msg->redelivered = redelivered;
	msg->gen = a->gen;
	if (queue_out)
		*queue_out = queue;
}

/* A frame other than a delivery interrupted amqp_consume_message: 0 to go
 * on, 1 when the connection must be dropped. */
static int other_frame(jl_queue *q)
{
	aq *a = q->impl;
	amqp_frame_t f;
	struct timeval tv = tv_ms(0);

	if (amqp_simple_wait_frame_noblock(a->conn, &f, &tv) != AMQP_STATUS_OK)
		return 1;
	if (f.frame_type != AMQP_FRAME_METHOD)
		return 0;
	switch (f.payload.method.id) {
	case AMQP_CHANNEL_CLOSE_METHOD:
	case AMQP_CONNECTION_CLOSE_METHOD:
		close_frame(q, &f);
		return 1;
	case AMQP_BASIC_CANCEL_METHOD:
		jl_queue_fail(q, JETL_EQUEUE, "rabbitmq %s: consumer cancelled by the broker", a->url.where);
		return 1;
	case AMQP_BASIC_RETURN_METHOD:
		return skip_content(a, f.channel) ? 1 : 0;
	default:
		return 0;   /* a late confirm, flow control: nothing to do */
	}
}

static int aq_next(jl_queue *q, jl_queue_msg *msg, const char **queue_out, int timeout_ms)
{
	aq *a = q->impl;
	double deadline = jl_now() + timeout_ms / 1000.0;
	int rc;

	if (!a->ncq)
		return jl_queue_fail(q, JETL_ESTATE, "queue: jl_queue_consume was not called");
	for (;;) {
		amqp_envelope_t env;
		amqp_rpc_reply_t r;
		struct timeval tv;
		char *body;

		if (a->sh) {
			stash *s = a->sh;

			a->sh = s->next;
			if (!a->sh)
				a->st = NULL;
			fill_msg(a, msg, queue_out, s->body, s->len, s->tag, s->redelivered, s->queue);
			free(s);
			return JETL_OK;
		}
		if (!a->conn) {
			rc = ensure_up(q, deadline);
			if (rc)
				return rc;
		}
		amqp_maybe_release_buffers(a->conn);
		tv = tv_ms((int)((deadline - jl_now()) * 1000));
		r = amqp_consume_message(a->conn, &env, &tv, 0);
		if (r.reply_type == AMQP_RESPONSE_NORMAL) {
			body = malloc(env.message.body.len + 1);
			if (!body || track(a, env.delivery_tag)) {
				free(body);
				amqp_destroy_envelope(&env);
				lost(a);   /* the broker requeues it */
				return jl_queue_fail(q, JETL_ENOMEM, "queue: out of memory");
			}
			memcpy(body, env.message.body.bytes, env.message.body.len);
			body[env.message.body.len] = '\0';
			fill_msg(a, msg, queue_out, body, env.message.body.len, env.delivery_tag,
				env.redelivered, consumer_queue(a, env.consumer_tag));
			amqp_destroy_envelope(&env);
			return JETL_OK;
		}
		if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT)
			return JETL_ETIMEOUT;
		if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
		    r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
			if (other_frame(q))
				lost(a);
		} else {
			fail_reply(q, r, "connection lost");
			lost(a);
		}
		if (!a->conn && jl_now() >= deadline) {
			/* one immediate reconnect attempt even at the deadline, so a
			 * poll right after a restart does not report a stale failure */
			rc = ensure_up(q, deadline);
			if (rc)
				return rc;
		}
	}
}

static int aq_settle(jl_queue *q, const jl_queue_msg *msg, int how)
{
	aq *a = q->impl;
	int rc;

	if (!a->conn || msg->gen != a->gen)
		return jl_queue_fail(q, JETL_ESTATE,
			"queue: delivery %llu is from an earlier connection; the broker delivers it again",
			(unsigned long long)msg->tag);
	/* an unknown or repeated tag would make the broker close the channel */
	if (!untrack(a, msg->tag))
		return jl_queue_fail(q, JETL_ESTATE, "queue: delivery %llu already acknowledged or rejected",
			(unsigned long long)msg->tag);
	if (how == JLQ_ACK)
		rc = amqp_basic_ack(a->conn, CH, msg->tag, 0);
	else
		rc = amqp_basic_reject(a->conn, CH, msg->tag, how == JLQ_REQUEUE);
	if (rc != AMQP_STATUS_OK) {
		jl_queue_fail(q, JETL_EQUEUE, "rabbitmq %s: %s: %s; the broker delivers it again",
			a->url.where, how == JLQ_ACK ? "ack" : "reject", amqp_error_string2(rc));
		lost(a);
		return JETL_EQUEUE;
	}
	return JETL_OK;
}

static int64_t aq_depth(jl_queue *q, const char *queue)
{
	aq *a = q->impl;

	for (int attempt = 0; attempt < 2; attempt++) {
		amqp_queue_declare_ok_t *ok;
		amqp_rpc_reply_t r;

		if (ensure_up(q, 0))
			return -1;
		if (!a->depth_ch_open) {
			amqp_channel_open(a->conn, CH_DEPTH);
			r = amqp_get_rpc_reply(a->conn);
			if (r.reply_type != AMQP_RESPONSE_NORMAL) {
				fail_reply(q, r, "cannot open a channel");
				lost(a);
				continue;
			}
			a->depth_ch_open = 1;
		}
		ok = amqp_queue_declare(a->conn, CH_DEPTH, amqp_cstring_bytes(queue), 1, 0, 0, 0,
			amqp_empty_table);
		if (ok)
			return (int64_t)ok->message_count;
		r = amqp_get_rpc_reply(a->conn);
		if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION && r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
			amqp_channel_close_t *c = r.reply.decoded;
			amqp_channel_close_ok_t cok = { 0 };
			int code = c->reply_code;

			fail_reply(q, r, "queue.declare (passive)");
			/* only channel 2 died: confirm its close and carry on */
			amqp_send_method(a->conn, CH_DEPTH, AMQP_CHANNEL_CLOSE_OK_METHOD, &cok);
			a->depth_ch_open = 0;
			if (code == AMQP_NOT_FOUND)
				jl_queue_fail(q, JETL_ENOENT, "rabbitmq %s: no queue named %s", a->url.where, queue);
			return -1;
		}
		fail_reply(q, r, "queue.declare (passive)");
		lost(a);
	}
	return -1;
}

static void aq_close(jl_queue *q)
{
	aq *a = q->impl;

	if (a->conn) {
		/* polite close so the broker requeues at once instead of waiting
		 * for the socket to time out; bounded by the RPC timeout */
		amqp_channel_close(a->conn, CH, AMQP_REPLY_SUCCESS);
		amqp_connection_close(a->conn, AMQP_REPLY_SUCCESS);
	}
	lost(a);
	for (size_t i = 0; i < a->ndeclared; i++)
		free(a->declared[i]);
	free(a->declared);
	for (size_t i = 0; i < a->ncq; i++)
		free(a->cq[i]);
	free(a->cq);
	free(a->out);
	jl_queue_url_free(&a->url);
	free(a);
}

static const struct jl_queue_ops amqp_ops = {
	aq_declare, aq_publish, aq_consume, aq_next, aq_settle, aq_depth, aq_close,
};

int jl_queue_amqp_open(jl_queue *q, const char *url)
{
	aq *a = calloc(1, sizeof *a);
	int rc;

	if (!a)
		return jl_queue_fail(q, JETL_ENOMEM, "queue: out of memory");
	rc = jl_queue_url_parse(&a->url, url, q->err, sizeof q->err);
	if (rc) {
		free(a);
		return rc;
	}
	q->ops = &amqp_ops;
	q->impl = a;
	rc = connect_once(q);
	if (rc) {
		jl_queue_url_free(&a->url);
		free(a);
		q->impl = NULL;
		return rc;
	}
	return JETL_OK;
}
