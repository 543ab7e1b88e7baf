/* config.c - the configuration file (jetl_config_*): `key = value` lines
 * read once, checked line by line, applied to jetl_options under the
 * environment. One parser for the library and for the jetl command, so a
 * file that one accepts the other accepts too. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jetl/context.h"
#include "util.h"

enum kind { K_STR, K_INT, K_ENUM, K_FILE };

/* What a key holds and which environment variable overrides it. */
static const struct key {
	const char *name;
	enum kind kind;
	const char *env;       /* NULL: no variable overrides it */
	long lo, hi;           /* K_INT bounds */
	const char *choices;   /* K_ENUM: words separated by '|' */
} keys[] = {
	{ "db", K_STR, "JETL_DB", 0, 0, NULL },
	{ "queue", K_STR, "JETL_QUEUE", 0, 0, NULL },
	{ "tenant", K_INT, "JETL_TENANT", 1, 2147483647L, NULL },
	{ "integration", K_INT, "JETL_INTEGRATION", 1, 2147483647L, NULL },
	{ "jira_url", K_STR, "JETL_JIRA_URL", 0, 0, NULL },
	{ "jira_user", K_STR, "JETL_JIRA_USER", 0, 0, NULL },
	{ "jira_token_file", K_FILE, "JETL_JIRA_TOKEN", 0, 0, NULL },
	{ "jira_auth", K_ENUM, NULL, 0, 0, "basic|bearer" },
	{ "jira_flavor", K_ENUM, NULL, 0, 0, "auto|cloud|server" },
	{ "concurrency", K_INT, NULL, 1, 64, NULL },
	{ "connect_timeout_ms", K_INT, NULL, 1, 3600000L, NULL },
	{ "request_timeout_ms", K_INT, NULL, 1, 86400000L, NULL },
	{ "max_attempts", K_INT, NULL, 1, 100, NULL },
	{ "batch_size", K_INT, NULL, 1, 1000, NULL },
	{ "log_level", K_ENUM, NULL, 0, 0, "error|warning|info|debug" },
	{ "log_format", K_ENUM, NULL, 0, 0, "text|json" },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

struct jetl_config {
	char *path;
	char *value[NKEYS];    /* NULL: not in the file */
	int line[NKEYS];
	char *token;           /* read from jira_token_file by jetl_config_apply() */
};

static void err_at(char *errbuf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void err_at(char *errbuf, size_t n, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;

	if (!errbuf || !n)
		return;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	jl_one_line(errbuf, n, tmp);
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* Index of word in "a|b|c", or -1. */
static int choice(const char *choices, const char *word)
{
	size_t n = strlen(word);
	int i = 0;

	for (const char *p = choices; *p; i++) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		if (len == n && strncmp(p, word, n) == 0)
			return i;
		p += len + (bar ? 1 : 0);
	}
	return -1;
}

static int check_value(const struct key *k, const char *v, char *why, size_t n)
{
	long l;

	if (!*v && strcmp(k->name, "queue") != 0) {
		snprintf(why, n, "%s needs a value", k->name);
		return -1;
	}
	if (k->kind == K_INT && parse_long(v, k->lo, k->hi, &l) < 0) {
		snprintf(why, n, "%s must be a whole number in %ld..%ld, not '%s'", k->name, k->lo, k->hi, v);
		return -1;
	}
	if (k->kind == K_ENUM && choice(k->choices, v) < 0) {
		snprintf(why, n, "%s must be one of %s, not '%s'", k->name, k->choices, v);
		return -1;
	}
	return 0;
}

void jetl_config_free(jetl_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < NKEYS; i++)
		free(cfg->value[i]);
	if (cfg->token) {
		volatile char *p = cfg->token;
		while (*p)
			*p++ = '\0';
		free(cfg->token);
	}
	free(cfg->path);
	free(cfg);
}

/* One line of the file into cfg: a blank or a whole-line comment is
 * skipped, "key = value" is checked and kept. 0, or -1 with why set. */
static int parse_line(jetl_config *cfg, char *buf, int lineno, char *why, size_t n)
{
	char *line = trim(buf), *eq, *key, *val;
	size_t k;

	/* Whole-line comments only: a value (a password in a conninfo, a URL)
	 * may hold a '#'. */
	if (!*line || *line == '#')
		return 0;
	if (!(eq = strchr(line, '='))) {
		snprintf(why, n, "expected 'key = value', got '%.80s'", line);
		return -1;
	}
	*eq = '\0';
	key = trim(line);
	val = trim(eq + 1);
	if (strcmp(key, "jira_token") == 0) {
		/* A file that holds the token gets copied, backed up and shown far
		 * more often than a file made for the token alone. */
		snprintf(why, n, "jira_token is not accepted in a configuration file: put the token "
			"in a file of its own (mode 0600) and name it with jira_token_file");
		return -1;
	}
	for (k = 0; k < NKEYS && strcmp(keys[k].name, key) != 0; k++)
		;
	if (k == NKEYS) {
		snprintf(why, n, "unknown key '%.60s'", key);
		return -1;
	}
	if (cfg->value[k]) {
		snprintf(why, n, "%s is set again (first on line %d)", key, cfg->line[k]);
		return -1;
	}
	if (check_value(&keys[k], val, why, n) < 0)
		return -1;
	if (!(cfg->value[k] = strdup(val))) {
		snprintf(why, n, "out of memory");
		return -1;
	}
	cfg->line[k] = lineno;
	return 0;
}

int jetl_config_load(jetl_config **out, const char *path, char *errbuf, size_t errbuf_size)
{
	jetl_config *cfg;
	char buf[4096], why[512];
	FILE *f;
	int lineno = 0;

	err_at(errbuf, errbuf_size, "%s", "");
	if (!out || !path) {
		err_at(errbuf, errbuf_size, "jetl_config_load: %s is NULL", out ? "path" : "out");
		return JETL_EINVAL;
	}
	*out = NULL;
	f = fopen(path, "r");
	if (!f) {
		err_at(errbuf, errbuf_size, "%s: cannot read the configuration: %s", path, strerror(errno));
		return errno == ENOENT ? JETL_ENOENT : JETL_ECONFIG;
	}
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg || !(cfg->path = strdup(path))) {
		fclose(f);
		free(cfg);
		err_at(errbuf, errbuf_size, "jetl_config_load: out of memory");
		return JETL_ENOMEM;
	}
	while (fgets(buf, sizeof(buf), f)) {
		lineno++;
		if (!strchr(buf, '\n') && !feof(f)) {
			snprintf(why, sizeof(why), "line longer than %zu bytes", sizeof(buf) - 2);
			goto bad;
		}
		if (parse_line(cfg, buf, lineno, why, sizeof(why)) < 0)
			goto bad;
	}
	if (ferror(f)) {
		snprintf(why, sizeof(why), "read error: %s", strerror(errno));
		goto bad;
	}
	fclose(f);
	*out = cfg;
	return JETL_OK;
bad:
	err_at(errbuf, errbuf_size, "%s:%d: %s", path, lineno, why);
	fclose(f);
	jetl_config_free(cfg);
	return JETL_ECONFIG;
}

const char *jetl_config_get(const jetl_config *cfg, const char *key)
{
	if (!cfg || !key)
		return NULL;
	for (size_t k = 0; k < NKEYS; k++)
		if (strcmp(keys[k].name, key) == 0)
			return cfg->value[k];
	return NULL;
}

/* The token file: its whole content minus trailing blanks, as the
 * command's --jira-token-file. */
static int read_token(jetl_config *cfg, size_t k, char *errbuf, size_t errbuf_size)
{
	const char *file = cfg->value[k];
	char buf[4096];
	size_t n;
	FILE *f;

	if (cfg->token)
		return JETL_OK;
	f = fopen(file, "r");
	if (!f) {
		err_at(errbuf, errbuf_size, "%s:%d: jira_token_file: cannot read %s: %s", cfg->path, cfg->line[k],
			file, strerror(errno));
		return JETL_ECONFIG;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		buf[--n] = '\0';
	if (n == 0) {
		err_at(errbuf, errbuf_size, "%s:%d: jira_token_file: %s is empty", cfg->path, cfg->line[k], file);
		return JETL_ECONFIG;
	}
	cfg->token = strdup(buf);
	memset(buf, 0, sizeof(buf));
	if (!cfg->token) {
		err_at(errbuf, errbuf_size, "jetl_config_apply: out of memory");
		return JETL_ENOMEM;
	}
	return JETL_OK;
}

int jetl_config_apply(jetl_config *cfg, jetl_options *opts, char *errbuf, size_t errbuf_size)
{
	static const int log_levels[] = { JETL_LOG_ERROR, JETL_LOG_WARNING, JETL_LOG_INFO, JETL_LOG_DEBUG };

	err_at(errbuf, errbuf_size, "%s", "");
	if (!cfg || !opts) {
		err_at(errbuf, errbuf_size, "jetl_config_apply: %s is NULL", cfg ? "opts" : "cfg");
		return JETL_EINVAL;
	}
	for (size_t k = 0; k < NKEYS; k++) {
		const struct key *key = &keys[k];
		const char *v = cfg->value[k], *env = key->env ? getenv(key->env) : NULL;
		long l = 0;
		int rc;

		/* The environment wins over the file; an empty variable is unset,
		 * as jetl_open() reads it. */
		if (!v || (env && *env))
			continue;
		if (key->kind == K_INT)
			parse_long(v, key->lo, key->hi, &l);
		if (strcmp(key->name, "db") == 0) opts->db = v;
		else if (strcmp(key->name, "queue") == 0) opts->queue_url = v;
		else if (strcmp(key->name, "jira_url") == 0) opts->jira_url = v;
		else if (strcmp(key->name, "jira_user") == 0) opts->jira_user = v;
		else if (strcmp(key->name, "tenant") == 0) opts->tenant_id = (int)l;
		else if (strcmp(key->name, "integration") == 0) opts->integration_id = (int)l;
		else if (strcmp(key->name, "concurrency") == 0) opts->concurrency = (int)l;
		else if (strcmp(key->name, "connect_timeout_ms") == 0) opts->connect_timeout_ms = (int)l;
		else if (strcmp(key->name, "request_timeout_ms") == 0) opts->request_timeout_ms = (int)l;
		else if (strcmp(key->name, "max_attempts") == 0) opts->max_attempts = (int)l;
		else if (strcmp(key->name, "batch_size") == 0) opts->batch_size = (int)l;
		else if (strcmp(key->name, "jira_auth") == 0)
			opts->jira_auth = choice(key->choices, v) == 1 ? JETL_AUTH_BEARER : JETL_AUTH_BASIC;
		else if (strcmp(key->name, "jira_flavor") == 0)
			opts->jira_flavor = choice(key->choices, v);   /* auto 0, cloud 1, server 2 */
		else if (strcmp(key->name, "log_level") == 0)
			opts->log_level = log_levels[choice(key->choices, v)];
		else if (strcmp(key->name, "jira_token_file") == 0) {
			if ((rc = read_token(cfg, k, errbuf, errbuf_size)) != JETL_OK)
				return rc;
			opts->jira_token = cfg->token;
		}
		/* log_format: for the application's logger (jetl_config_get). */
	}
	return JETL_OK;
}
