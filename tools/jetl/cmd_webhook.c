/* cmd_webhook.c - `jetl integration webhook register|list|remove`: the
 * integration's webhook secret (made and sealed by the library) and the
 * webhook in Jira that sends to the service (docs/webhooks.md). The secret
 * reaches stdout only where a person must paste it into Jira's page. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { OPT_SERVICE_URL = 3100, OPT_HOOK_NAME, OPT_PRINT };

#define EVENTS "jira:issue_created, jira:issue_updated, jira:issue_deleted"

/* What an administrator pastes into Jira's System > WebHooks page. */
static void print_paste(int id, const char *url, const char *secret, const char *path)
{
	printf("integration %d: create the webhook on Jira's admin page (System > WebHooks):\n"
	       "  URL:     %s\n"
	       "  Secret:  %s\n"
	       "  Events:  issue created, updated, deleted (" EVENTS ")\n"
	       "  A sender that cannot sign uses this URL instead (keep it secret): %s/%s\n",
	       id, url, secret, url, path);
}

static int do_register(struct cli *c, jetl_ctx *ctx, int id, const char *url, const char *name, int print_only)
{
	char secret[JETL_WEBHOOK_SECRET_SIZE], path[JETL_WEBHOOK_PATH_SIZE], self[512];
	int rc = jetl_webhook_secret_new(ctx, id, secret, sizeof(secret), path, sizeof(path));

	if (rc != JETL_OK)
		return rc;
	if (print_only) {
		print_paste(id, url, secret, path);
		memset(secret, 0, sizeof(secret));
		return JETL_OK;
	}
	rc = jetl_webhook_register(ctx, name, url, secret, self, sizeof(self));
	if (rc == JETL_OK) {
		if (CLI_SAYS(c))
			printf("integration %d: webhook registered in Jira (%s), sending " EVENTS " to %s, signed "
			       "with a new secret sealed in the integration\n", id, self, url);
	} else if (rc == JETL_EAUTH || rc == JETL_EFORBIDDEN || rc == JETL_ENOTFOUND || rc == JETL_EHTTP) {
		/* Cloud, or credentials that may not administer webhooks */
		fprintf(stderr, "jetl: integration webhook register: Jira did not register it: %s\n",
			jetl_last_error(ctx));
		print_paste(id, url, secret, path);
		rc = JETL_OK;
	}
	memset(secret, 0, sizeof(secret));
	return rc;
}

struct list_state {
	int id;
	char mark[64];
	int n;
};

static int print_hook(const jetl_webhook_info *w, void *ud)
{
	struct list_state *s = ud;

	s->n++;
	printf("%s %s %s %s (%s)\n", strstr(w->url, s->mark) ? "*" : "-", w->name, w->url,
	       w->enabled ? "enabled" : "disabled", w->self);
	return 0;
}

static int do_list(jetl_ctx *ctx, int id)
{
	char secret[JETL_WEBHOOK_SECRET_SIZE];
	struct list_state s = { id, "", 0 };
	int rc = jetl_webhook_secret_get(ctx, id, secret, sizeof(secret), NULL, 0);

	memset(secret, 0, sizeof(secret));
	if (rc != JETL_OK && rc != JETL_ENOENT)
		return rc;
	printf("integration %d: webhook secret %s\n", id, rc == JETL_OK ? "set (sealed)" : "none");
	snprintf(s.mark, sizeof(s.mark), "/jira/webhook/%d", id);
	rc = jetl_webhook_list(ctx, print_hook, &s);
	if (rc == JETL_OK)
		printf("%d webhook(s) registered in Jira (* sends to /jira/webhook/%d)\n", s.n, id);
	return rc;
}

static int do_remove(struct cli *c, jetl_ctx *ctx, int id, const char *url)
{
	int removed = 0, rc = JETL_OK;

	if (url && (rc = jetl_webhook_unregister(ctx, url, &removed)) != JETL_OK)
		return rc;
	if ((rc = jetl_webhook_secret_remove(ctx, id)) == JETL_OK && CLI_SAYS(c))
		printf("integration %d: webhook secret removed (deliveries are refused)%s%d webhook(s) removed "
		       "from Jira\n", id, url ? "; " : "; give --service-url to remove Jira's too; ", removed);
	return rc;
}

/* argv[0] is "webhook", argv[1] the action. */
int cli_integration_webhook(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "service-url", required_argument, NULL, OPT_SERVICE_URL },
		{ "name", required_argument, NULL, OPT_HOOK_NAME },
		{ "print", no_argument, NULL, OPT_PRINT },
		CLI_JIRA_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	const char *verb = argc > 1 ? argv[1] : "", *service = NULL, *name = "jetl";
	int print_only = 0, rc = EXIT_DONE, o, id;
	char url[1024], what[64];
	jetl_ctx *ctx;

	if (strcmp(verb, "register") && strcmp(verb, "list") && strcmp(verb, "remove")) {
		fprintf(stderr, "jetl: integration webhook: register, list or remove (see jetl help integration)\n");
		return EXIT_USAGE;
	}
	while (rc == EXIT_DONE && (o = cli_getopt(c, argc - 1, argv + 1, opts)) != CLI_END) {
		if (o == CLI_ERROR)
			rc = EXIT_USAGE;
		else if (o == CLI_HELP)
			return EXIT_DONE;
		else if (o == OPT_SERVICE_URL)
			service = optarg;
		else if (o == OPT_HOOK_NAME)
			name = optarg;
		else if (o == OPT_PRINT)
			print_only = 1;
	}
	if (rc != EXIT_DONE)
		return rc;
	if (optind < argc - 1)
		return cli_extra_operand(c, argv[optind + 1]);
	if (!strcmp(verb, "register") && !service) {
		fprintf(stderr, "jetl: integration webhook register: --service-url URL is required (the service's "
			"base, e.g. https://etl.example.com/api/v1/etl)\n");
		return EXIT_USAGE;
	}
	if ((rc = cli_open(c, &ctx)) != EXIT_DONE)
		return rc;
	id = jetl_integration_id(ctx);
	if (service) {
		size_t n = strlen(service);

		while (n && service[n - 1] == '/')   /* a base given with its trailing slash */
			n--;
		snprintf(url, sizeof(url), "%.*s/jira/webhook/%d", (int)n, service, id);
	}
	if (!strcmp(verb, "register"))
		rc = do_register(c, ctx, id, url, name, print_only);
	else if (!strcmp(verb, "list"))
		rc = do_list(ctx, id);
	else
		rc = do_remove(c, ctx, id, service ? url : NULL);
	snprintf(what, sizeof(what), "integration webhook %s", verb);
	rc = cli_fail(ctx, rc, what);
	jetl_close(ctx);
	return rc;
}
