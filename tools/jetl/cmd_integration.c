/* cmd_integration.c - `jetl integration …` (each tenant's Jira connections:
 * add, list, show, update, test, set-secret, remove, rotate-key) and
 * `jetl projects` (discovery and the selection an extraction without
 * --project takes). A secret is read from a file or stdin, never argv. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

const char cli_integration_help[] =
"usage: jetl integration add --name NAME --url URL [--user USER] [--auth basic|bearer]\n"
"                           [--flavor auto|cloud|server] [--id N] [--projects KEY,KEY...] [--jql JQL]\n"
"                           [--concurrency N] [--no-dev-status] [--inactive]\n"
"                           [--secret-file FILE | --secret-stdin | --secret-ref env:NAME|file:/PATH]\n"
"       jetl integration update ID [the options of add, and --active]\n"
"       jetl integration list [--json]\n"
"       jetl integration show [ID] [--json]\n"
"       jetl integration test [ID] [--json]\n"
"       jetl integration set-secret [ID] (--secret-file FILE | --secret-stdin | --secret-ref REF)\n"
"       jetl integration remove ID\n"
"       jetl integration rotate-key --old-key-file FILE\n"
"       jetl integration webhook register --service-url URL [--name NAME] [--print]\n"
"       jetl integration webhook list\n"
"       jetl integration webhook remove [--service-url URL]\n"
"  The Jira sites of the tenant (--tenant), used by id (--integration) by every command that\n"
"  reads Jira when no --jira-url is given. The secret is read from a file or stdin, never from\n"
"  the command line, and sealed with AES-256-GCM under JETL_SECRET_KEY (or JETL_SECRET_KEY_FILE)\n"
"  before it is stored; --secret-ref stores a reference instead. ID defaults to --integration.\n"
"  test prints the flavor, version, user and time zone, or the failure (auth, forbidden, tls,\n"
"  dns, unreachable, timeout, ...) and exits 1. rotate-key re-seals every tenant's secrets\n"
"  from the key in FILE to the current JETL_SECRET_KEY. webhook register makes and seals the\n"
"  integration's (--integration) webhook secret and registers URL/jira/webhook/ID with it in\n"
"  Jira (Server/DC's admin API); where Jira refuses (Cloud) or with --print it prints what to\n"
"  paste into Jira's admin page. webhook list: the secret's state and Jira's webhooks; webhook\n"
"  remove: the secret, and with --service-url the webhook in Jira.\n";

const char cli_projects_help[] =
"usage: jetl projects [--sync] [--select KEY]... [--select-none] [--json]\n"
"  The projects of the integration: --sync reads them, with the issue types and statuses,\n"
"  from Jira; --select sets those an extraction without --project takes (repeat it, or\n"
"  KEY,KEY); --select-none clears the selection (every active project). Lists them after.\n"
"  Takes the --jira-* options.\n";

/* Above the global options (main.c: 2000…) and CLI_JIRA_OPTIONS (1000…). */
enum {
	OPT_NAME = 3000, OPT_URL, OPT_USER, OPT_AUTH, OPT_FLAVOR, OPT_ID, OPT_PROJECTS, OPT_JQL, OPT_CONC,
	OPT_NO_DEV, OPT_INACTIVE, OPT_ACTIVE, OPT_SECRET_FILE, OPT_SECRET_STDIN, OPT_SECRET_REF, OPT_SECRET,
	OPT_JSON, OPT_OLD_KEY_FILE, OPT_SYNC_P, OPT_SELECT, OPT_SELECT_NONE
};

static const char *const flavors[] = { "auto", "cloud", "server" };
static const char *const auths[] = { "basic", "bearer" };

/* Read a secret: the whole file (or stdin) minus trailing white space. */
static char *read_secret(const char *path)
{
	FILE *f = path ? fopen(path, "r") : stdin;
	char buf[8192];
	size_t n;

	if (!f) {
		fprintf(stderr, "jetl: cannot read the secret file %s: %s\n", path, strerror(errno));
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	if (path)
		fclose(f);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	buf[n] = '\0';
	if (!n) {
		fprintf(stderr, "jetl: the secret from %s is empty\n", path ? path : "stdin");
		return NULL;
	}
	{
		char *s = strdup(buf);

		memset(buf, 0, sizeof(buf));
		return s;
	}
}

static void free_secret(char *s)
{
	if (s) {
		memset(s, 0, strlen(s));
		free(s);
	}
}

static int pick(const char *opt, const char *v, const char *const *names, int n, int *out)
{
	for (int k = 0; k < n; k++)
		if (strcmp(v, names[k]) == 0) {
			*out = k;
			return 0;
		}
	fprintf(stderr, "jetl: %s: '%s' is not one of %s|%s%s%s\n", opt, v, names[0], names[1],
		n > 2 ? "|" : "", n > 2 ? names[2] : "");
	return -1;
}

static int put(char *dst, size_t n, const char *opt, const char *v)
{
	if (strlen(v) >= n) {
		fprintf(stderr, "jetl: %s: too long (at most %zu bytes)\n", opt, n - 1);
		return -1;
	}
	snprintf(dst, n, "%s", v);
	return 0;
}

static json_t *integration_json(const jetl_integration *in)
{
	return json_pack("{s:i, s:i, s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:i, s:b, s:s, s:s, s:s, s:o, s:o}",
		"tenant_id", in->tenant_id, "id", in->id, "name", in->name, "base_url", in->base_url,
		"flavor", flavors[in->flavor >= 0 && in->flavor < 3 ? in->flavor : 0],
		"auth", auths[in->auth == 1], "user", in->user, "active", in->active,
		"projects", in->projects, "jql", in->jql, "concurrency", in->concurrency,
		"dev_status", in->dev_status, "secret_kind", in->secret_kind, "secret_key_id", in->secret_key_id,
		"secret_ref", in->secret_ref, "created_at", cli_iso_time(in->created_at),
		"updated_at", cli_iso_time(in->updated_at));
}

static void print_json(json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

	if (s)
		printf("%s\n", s);
	free(s);
	json_decref(j);
}

static int print_line(const jetl_integration *in, void *ud)
{
	if (*(int *)ud) {
		print_json(integration_json(in));
		return 0;
	}
	printf("%-5d %-24s %-8s %-6s %-9s %s%s\n", in->id, in->name, flavors[in->flavor >= 0 && in->flavor < 3 ? in->flavor : 0],
	       auths[in->auth == 1], in->secret_kind, in->base_url, in->active ? "" : "  (inactive)");
	return 0;
}

static void print_show(const jetl_integration *in)
{
	char when[64];
	time_t t = (time_t)in->updated_at;

	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
	printf("integration %d of tenant %d: %s\n", in->id, in->tenant_id, in->name);
	printf("  url          %s\n", in->base_url);
	printf("  flavor       %s\n", flavors[in->flavor >= 0 && in->flavor < 3 ? in->flavor : 0]);
	printf("  auth         %s%s%s\n", auths[in->auth == 1], in->user[0] ? ", user " : "", in->user);
	printf("  secret       %s%s%s%s%s\n", in->secret_kind, in->secret_key_id[0] ? ", key " : "",
	       in->secret_key_id, in->secret_ref[0] ? ", " : "", in->secret_ref);
	printf("  active       %s\n", in->active ? "yes" : "no");
	printf("  projects     %s\n", in->projects[0] ? in->projects : "(every active project)");
	printf("  jql          %s\n", in->jql[0] ? in->jql : "(none)");
	printf("  concurrency  %d%s\n", in->concurrency, in->concurrency ? "" : " (the default)");
	printf("  dev status   %s\n", in->dev_status ? "on" : "off");
	printf("  updated      %s\n", when);
}

static int parse_id(const char *arg, int dflt, int *id)
{
	long v;

	if (!arg) {
		*id = dflt;
		return 0;
	}
	if (cli_number("ID", arg, 1, 2147483647L, "an integration id (a positive integer)", &v) < 0)
		return -1;
	*id = (int)v;
	return 0;
}

/* add and update: options into *in, the secret into *secret. */
static int add_or_update(struct cli *c, int argc, char **argv, int update)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, OPT_NAME },
		{ "url", required_argument, NULL, OPT_URL },
		{ "user", required_argument, NULL, OPT_USER },
		{ "auth", required_argument, NULL, OPT_AUTH },
		{ "flavor", required_argument, NULL, OPT_FLAVOR },
		{ "id", required_argument, NULL, OPT_ID },
		{ "projects", required_argument, NULL, OPT_PROJECTS },
		{ "jql", required_argument, NULL, OPT_JQL },
		{ "concurrency", required_argument, NULL, OPT_CONC },
		{ "no-dev-status", no_argument, NULL, OPT_NO_DEV },
		{ "inactive", no_argument, NULL, OPT_INACTIVE },
		{ "active", no_argument, NULL, OPT_ACTIVE },
		{ "secret-file", required_argument, NULL, OPT_SECRET_FILE },
		{ "secret-stdin", no_argument, NULL, OPT_SECRET_STDIN },
		{ "secret-ref", required_argument, NULL, OPT_SECRET_REF },
		{ "secret", optional_argument, NULL, OPT_SECRET },
		{ NULL, 0, NULL, 0 }
	};
	jetl_integration in = JETL_INTEGRATION_INIT;
	const char *a[OPT_SELECT_NONE - OPT_NAME + 1] = { 0 };
	int seen[OPT_SELECT_NONE - OPT_NAME + 1] = { 0 };
	char *secret = NULL;
	int rc = EXIT_DONE, o, id = 0;
	long n;
	jetl_ctx *ctx;

	while (rc == EXIT_DONE && (o = cli_getopt(c, argc, argv, opts)) != CLI_END) {
		if (o == CLI_ERROR)
			rc = EXIT_USAGE;
		else if (o == CLI_HELP)
			return EXIT_DONE;
		else if (o == OPT_SECRET) {
			fprintf(stderr, "jetl: --secret: a secret is never taken from the command line: use "
				"--secret-file FILE, --secret-stdin or --secret-ref\n");
			rc = EXIT_USAGE;
		} else {
			seen[o - OPT_NAME] = 1;
			a[o - OPT_NAME] = optarg;
		}
	}
	if (rc != EXIT_DONE)
		return rc;
	if (update) {
		if (optind >= argc) {
			fprintf(stderr, "jetl: integration update: which ID? (see jetl help integration)\n");
			return EXIT_USAGE;
		}
		if (parse_id(argv[optind++], 0, &id) < 0)
			return EXIT_USAGE;
	}
	if (optind < argc)
		return cli_extra_operand(c, argv[optind]);
	if (seen[OPT_SECRET_FILE - OPT_NAME] + seen[OPT_SECRET_STDIN - OPT_NAME] + seen[OPT_SECRET_REF - OPT_NAME] > 1) {
		fprintf(stderr, "jetl: integration: give one of --secret-file, --secret-stdin, --secret-ref\n");
		return EXIT_USAGE;
	}
	if (!update && (!seen[OPT_NAME - OPT_NAME] || !seen[OPT_URL - OPT_NAME])) {
		fprintf(stderr, "jetl: integration add: --name and --url are required\n");
		return EXIT_USAGE;
	}
	if ((rc = cli_open(c, &ctx)) != EXIT_DONE)
		return rc;
	rc = JETL_OK;
	if (update && (rc = jetl_integration_get(ctx, id, &in)) != JETL_OK)
		goto out;
	if (!update && seen[OPT_ID - OPT_NAME]) {
		if (parse_id(a[OPT_ID - OPT_NAME], 0, &in.id) < 0)
			goto usage;
	}
#define STR(opt, field) if (seen[(opt) - OPT_NAME] && put(in.field, sizeof(in.field), "--" #field, a[(opt) - OPT_NAME]) < 0) goto usage
	STR(OPT_NAME, name);
	STR(OPT_URL, base_url);
	STR(OPT_USER, user);
	STR(OPT_PROJECTS, projects);
	STR(OPT_JQL, jql);
#undef STR
	if (seen[OPT_AUTH - OPT_NAME] && pick("--auth", a[OPT_AUTH - OPT_NAME], auths, 2, &in.auth) < 0)
		goto usage;
	if (seen[OPT_FLAVOR - OPT_NAME] && pick("--flavor", a[OPT_FLAVOR - OPT_NAME], flavors, 3, &in.flavor) < 0)
		goto usage;
	if (seen[OPT_CONC - OPT_NAME]) {
		if (cli_number("--concurrency", a[OPT_CONC - OPT_NAME], 0, 64, "0..64", &n) < 0)
			goto usage;
		in.concurrency = (int)n;
	}
	if (seen[OPT_NO_DEV - OPT_NAME])
		in.dev_status = 0;
	if (seen[OPT_INACTIVE - OPT_NAME])
		in.active = 0;
	if (seen[OPT_ACTIVE - OPT_NAME])
		in.active = 1;
	if (!update && !seen[OPT_AUTH - OPT_NAME] && !in.user[0])
		in.auth = JETL_AUTH_BEARER;
	if (seen[OPT_SECRET_REF - OPT_NAME]) {
		const char *r = a[OPT_SECRET_REF - OPT_NAME];

		if (strncmp(r, "env:", 4) && strncmp(r, "file:/", 6)) {
			fprintf(stderr, "jetl: --secret-ref: '%s' is not env:NAME or file:/absolute/path\n", r);
			goto usage;
		}
		secret = strdup(r);
	} else if (seen[OPT_SECRET_FILE - OPT_NAME] || seen[OPT_SECRET_STDIN - OPT_NAME]) {
		secret = read_secret(a[OPT_SECRET_FILE - OPT_NAME]);
		if (!secret)
			goto usage;
	}
	if (update)
		rc = jetl_integration_update(ctx, &in, secret);
	else
		rc = jetl_integration_add(ctx, &in, secret, &id);
	if (rc == JETL_OK && CLI_SAYS(c))
		printf("integration %d of tenant %d %s%s\n", id, jetl_tenant_id(ctx), update ? "updated" : "added",
		       secret ? "" : update ? "" : " (no secret yet: jetl integration set-secret)");
out:
	free_secret(secret);
	rc = cli_fail(ctx, rc, update ? "integration update" : "integration add");
	jetl_close(ctx);
	return rc;
usage:
	free_secret(secret);
	jetl_close(ctx);
	return EXIT_USAGE;
}

/* list, show, test, set-secret, remove, rotate-key */
static int other(struct cli *c, int argc, char **argv, const char *verb)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "secret-file", required_argument, NULL, OPT_SECRET_FILE },
		{ "secret-stdin", no_argument, NULL, OPT_SECRET_STDIN },
		{ "secret-ref", required_argument, NULL, OPT_SECRET_REF },
		{ "secret", optional_argument, NULL, OPT_SECRET },
		{ "old-key-file", required_argument, NULL, OPT_OLD_KEY_FILE },
		{ NULL, 0, NULL, 0 }
	};
	const char *secret_file = NULL, *secret_ref = NULL, *old_key_file = NULL;
	int json = 0, from_stdin = 0, rc = EXIT_DONE, o, id = 0;
	int is_list = !strcmp(verb, "list"), is_show = !strcmp(verb, "show"), is_test = !strcmp(verb, "test"),
	    is_set = !strcmp(verb, "set-secret"), is_remove = !strcmp(verb, "remove"),
	    is_rotate = !strcmp(verb, "rotate-key");
	char *secret = NULL;
	jetl_ctx *ctx;

	while (rc == EXIT_DONE && (o = cli_getopt(c, argc, argv, opts)) != CLI_END) {
		if (o == CLI_ERROR)
			rc = EXIT_USAGE;
		else if (o == CLI_HELP)
			return EXIT_DONE;
		else if (o == OPT_SECRET) {
			fprintf(stderr, "jetl: --secret: a secret is never taken from the command line: use "
				"--secret-file FILE, --secret-stdin or --secret-ref\n");
			rc = EXIT_USAGE;
		} else if (o == OPT_JSON && (is_list || is_show || is_test))
			json = 1;
		else if (o == OPT_SECRET_FILE && is_set)
			secret_file = optarg;
		else if (o == OPT_SECRET_STDIN && is_set)
			from_stdin = 1;
		else if (o == OPT_SECRET_REF && is_set)
			secret_ref = optarg;
		else if (o == OPT_OLD_KEY_FILE && is_rotate)
			old_key_file = optarg;
		else {
			fprintf(stderr, "jetl: integration %s does not take %s (see jetl help integration)\n", verb,
				argv[optind - 1]);
			rc = EXIT_USAGE;
		}
	}
	if (rc != EXIT_DONE)
		return rc;
	if (!is_list && !is_rotate && optind < argc && parse_id(argv[optind++], 0, &id) < 0)
		return EXIT_USAGE;
	if (is_remove && !id) {
		fprintf(stderr, "jetl: integration remove: which ID? (see jetl help integration)\n");
		return EXIT_USAGE;
	}
	if (optind < argc)
		return cli_extra_operand(c, argv[optind]);
	if (is_set && (!!secret_file + from_stdin + !!secret_ref) != 1) {
		fprintf(stderr, "jetl: integration set-secret: give one of --secret-file, --secret-stdin, --secret-ref\n");
		return EXIT_USAGE;
	}
	if (is_rotate && !old_key_file) {
		fprintf(stderr, "jetl: integration rotate-key: --old-key-file FILE is required\n");
		return EXIT_USAGE;
	}
	if (is_set) {
		secret = secret_ref ? strdup(secret_ref) : read_secret(secret_file);
		if (!secret)
			return EXIT_USAGE;
	}
	if (is_rotate && !(secret = read_secret(old_key_file)))
		return EXIT_USAGE;
	if ((rc = cli_open(c, &ctx)) != EXIT_DONE) {
		free_secret(secret);
		return rc;
	}
	if (is_list) {
		rc = jetl_integration_list(ctx, print_line, &json);
	} else if (is_show) {
		jetl_integration in = JETL_INTEGRATION_INIT;

		rc = jetl_integration_get(ctx, id, &in);
		if (rc == JETL_OK) {
			if (json)
				print_json(integration_json(&in));
			else
				print_show(&in);
		}
	} else if (is_test) {
		jetl_integration_test_result r = JETL_INTEGRATION_TEST_INIT;
		int shown = id ? id : jetl_integration_id(ctx);

		rc = jetl_integration_test(ctx, id, &r);
		if (rc != JETL_ENOENT && rc != JETL_EDB && rc != JETL_ESCHEMA) {
			if (json)
				print_json(json_pack("{s:i, s:b, s:s, s:i, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:f}",
					"integration", shown, "ok", r.status == JETL_OK, "failure", r.failure,
					"status", r.status, "http_status", r.http_status, "status_name",
					jetl_status_name(r.status), "deployment", r.deployment, "version", r.server_version,
					"user", r.user, "time_zone", r.time_zone, "message", r.message, "seconds", r.seconds));
			else if (r.status == JETL_OK)
				printf("integration %d: ok: %s (%.2f s)\n", shown, r.message, r.seconds);
			else
				printf("integration %d: failed (%s): %s\n", shown, r.failure, r.message);
			jetl_close(ctx);
			return r.status == JETL_OK ? EXIT_DONE : EXIT_FAILED;
		}
	} else if (is_set) {
		rc = jetl_integration_set_secret(ctx, id, secret);
		if (rc == JETL_OK && CLI_SAYS(c))
			printf("integration %d: secret %s\n", id ? id : jetl_integration_id(ctx),
			       secret_ref ? "reference stored" : "sealed and stored");
	} else if (is_remove) {
		rc = jetl_integration_remove(ctx, id);
		if (rc == JETL_OK && CLI_SAYS(c))
			printf("integration %d removed (its data stays)\n", id);
	} else {
		int64_t n = 0;

		rc = jetl_secret_rotate(ctx, secret, &n);
		if (rc == JETL_OK && CLI_SAYS(c))
			printf("%lld secrets re-sealed under the current key\n", (long long)n);
	}
	free_secret(secret);
	{
		char what[64];

		snprintf(what, sizeof(what), "integration %s", verb);
		rc = cli_fail(ctx, rc, what);
	}
	jetl_close(ctx);
	return rc;
}

int cmd_integration(struct cli *c, int argc, char **argv)
{
	static const char *const verbs[] = { "add", "update", "list", "show", "test", "set-secret", "remove",
		"rotate-key" };
	const char *verb = argc > 1 ? argv[1] : NULL;

	if (!verb || strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
		fputs(cli_integration_help, verb ? stdout : stderr);
		return verb ? EXIT_DONE : EXIT_USAGE;
	}
	if (strcmp(verb, "webhook") == 0)
		return cli_integration_webhook(c, argc - 1, argv + 1);
	for (size_t k = 0; k < sizeof(verbs) / sizeof(verbs[0]); k++)
		if (strcmp(verb, verbs[k]) == 0) {
			if (k < 2)
				return add_or_update(c, argc - 1, argv + 1, k == 1);
			return other(c, argc - 1, argv + 1, verb);
		}
	fprintf(stderr, "jetl: integration: unknown action '%s' (add, update, list, show, test, set-secret, "
		"remove, rotate-key, webhook)\n", verb);
	return EXIT_USAGE;
}

/* ---- projects ---- */

/* Append a copy of key to the growing *keys; -1 on OOM. */
static int push_key(char ***keys, size_t *n, size_t *cap, const char *key)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		char **nk = realloc(*keys, nc * sizeof(char *));

		if (!nk)
			return -1;
		*keys = nk;
		*cap = nc;
	}
	(*keys)[*n] = strdup(key);
	return (*keys)[(*n)++] ? 0 : -1;
}

static int print_project(const jetl_project_info *p, void *ud)
{
	if (*(int *)ud)
		print_json(json_pack("{s:s, s:s, s:s, s:s, s:b, s:b}", "key", p->key, "id", p->id, "name", p->name,
			"type", p->type, "active", p->active, "selected", p->selected));
	else
		printf("%-12s %-10s %-9s %s%s%s\n", p->key, p->id, p->type, p->name, p->selected ? "  [selected]" : "",
		       p->active ? "" : "  (gone from Jira)");
	return 0;
}

int cmd_projects(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sync", no_argument, NULL, OPT_SYNC_P },
		{ "select", required_argument, NULL, OPT_SELECT },
		{ "select-none", no_argument, NULL, OPT_SELECT_NONE },
		{ "json", no_argument, NULL, OPT_JSON },
		CLI_JIRA_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	char **keys = NULL;
	size_t nkeys = 0, cap = 0;
	int sync = 0, none = 0, json = 0, rc = EXIT_DONE, o;
	jetl_ctx *ctx;

	while (rc == EXIT_DONE && (o = cli_getopt(c, argc, argv, opts)) != CLI_END) {
		if (o == CLI_ERROR)
			rc = EXIT_USAGE;
		else if (o == CLI_HELP)
			rc = -1;
		else if (o == OPT_SYNC_P)
			sync = 1;
		else if (o == OPT_SELECT_NONE)
			none = 1;
		else if (o == OPT_JSON)
			json = 1;
		else if (o == OPT_SELECT) {
			/* KEY or KEY,KEY; operands after --select are keys too (--select A B) */
			char *dup = strdup(optarg), *save = NULL;

			for (char *t = dup ? strtok_r(dup, ", ", &save) : NULL; t; t = strtok_r(NULL, ", ", &save))
				if (push_key(&keys, &nkeys, &cap, t) < 0)
					rc = EXIT_FAILED;
			free(dup);
			while (rc == EXIT_DONE && optind < argc && argv[optind][0] != '-')
				if (push_key(&keys, &nkeys, &cap, argv[optind++]) < 0)
					rc = EXIT_FAILED;
		}
	}
	if (rc == EXIT_DONE && optind < argc)
		rc = cli_extra_operand(c, argv[optind]);
	if (rc == EXIT_DONE && none && nkeys) {
		fprintf(stderr, "jetl: projects: --select and --select-none together\n");
		rc = EXIT_USAGE;
	}
	if (rc == EXIT_DONE)
		rc = cli_open(c, &ctx);
	if (rc != EXIT_DONE) {
		for (size_t k = 0; k < nkeys; k++)
			free(keys[k]);
		free(keys);
		return rc < 0 ? EXIT_DONE : rc;
	}
	rc = JETL_OK;
	if (sync) {
		int64_t n = 0;

		rc = jetl_projects_sync(ctx, &n);
		if (rc == JETL_OK && CLI_SAYS(c) && !json)
			printf("%lld projects synced (with their issue types and statuses)\n", (long long)n);
	}
	if (rc == JETL_OK && (nkeys || none))
		rc = jetl_projects_select(ctx, (const char *const *)keys, nkeys);
	if (rc == JETL_OK)
		rc = jetl_projects_list(ctx, print_project, &json);
	rc = cli_fail(ctx, rc, "projects");
	jetl_close(ctx);
	for (size_t k = 0; k < nkeys; k++)
		free(keys[k]);
	free(keys);
	return rc;
}
