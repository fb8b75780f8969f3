/* `incident config`: which file was read, from where in the search order,
 * every effective value, and the values a comment character cut short. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct config_walk {
	struct cli *cli;
	const char *path;
	json_t *arr; /* --json: values or warnings */
	unsigned n;
};

/* A webhook URL is a secret: keep its scheme and host only. */
static void
mask(char *buf, size_t cap, const char *url)
{
	const char *host = strstr(url, "://");
	size_t n;

	if (!host) {
		snprintf(buf, cap, "***");
		return;
	}
	host += 3;
	/* user:password@host: the credentials are a secret too. */
	if (host[strcspn(host, "/?#@")] == '@')
		host += strcspn(host, "@") + 1;
	n = strcspn(host, "/?#");
	snprintf(buf, cap, "%.*s%.*s/***", (int)(strstr(url, "://") + 3 - url),
		 url, (int)n, host);
}

static int
show_value(void *payload, const char *key, const char *value, bool from_file,
	   bool secret)
{
	struct config_walk *w = payload;
	char masked[300];

	if (secret && value) {
		mask(masked, sizeof(masked), value);
		value = masked;
	}
	if (w->arr) {
		json_t *j = json_object();

		json_object_set_new(j, "key", json_string(key));
		json_object_set_new(j, "value",
				    value ? json_string(value) : json_null());
		json_object_set_new(j, "from_file", json_boolean(from_file));
		json_object_set_new(j, "secret", json_boolean(secret));
		json_array_append_new(w->arr, j);
	} else {
		printf("  %-22s = %s%s\n", key, value ? value : "(unset)",
		       from_file ? "" : "  (default)");
	}
	return 0;
}

static void
warn(void *payload, const char *key, unsigned line, char ch,
     const char *rest)
{
	struct config_walk *w = payload;
	char msg[700];

	if (rest)
		snprintf(msg, sizeof(msg),
			 "%s: the value ends at '%c' on line %u of %s; quote "
			 "it (\"%s\" is read as a comment)",
			 key, ch, line, w->path, rest);
	else
		snprintf(msg, sizeof(msg),
			 "%s: the value ends at '%c' on line %u of %s; quote "
			 "it (the rest is read as a comment)",
			 key, ch, line, w->path);
	fprintf(stderr, "incident config: warning: %s\n", msg);
	w->n++;
	if (w->arr) {
		json_t *j = json_object();
		char c[2] = { ch, '\0' };

		json_object_set_new(j, "key", json_string(key));
		json_object_set_new(j, "line", json_integer(line));
		json_object_set_new(j, "char", json_string(c));
		json_object_set_new(j, "comment",
				    rest ? json_string(rest) : json_null());
		json_object_set_new(j, "message", json_string(msg));
		json_array_append_new(w->arr, j);
	}
}

static const char *
data_dir_source(const struct cli *cli)
{
	const char *env = getenv("INCIDENT_DATA");

	if (cli->data_opt)
		return "-d";
	if (env && *env)
		return "$INCIDENT_DATA";
	if (cli->cfg->data_dir)
		return "core.data-dir";
	return "default";
}

int
cmd_config(struct cli *cli)
{
	struct ir_config_source src[IR_CONFIG_SOURCES];
	struct config_walk warns = { cli, NULL, NULL, 0 };
	struct config_walk vals = { cli, NULL, NULL, 0 };
	const char *chosen = NULL;
	json_t *j = NULL, *search = NULL;
	size_t i;
	int rc;

	if (cli->argc > 1)
		return cli_unexpected(cli, 1);
	ir_config_search(src, cli->config_opt);
	for (i = 0; i < IR_CONFIG_SOURCES; i++)
		if (src[i].chosen && src[i].exists)
			chosen = src[i].path;
	if (cli->json) {
		warns.arr = json_array();
		vals.arr = json_array();
	}
	/* The warnings first: they may explain why the file fails to load. */
	warns.path = chosen;
	if (chosen && ir_config_lint(chosen, warn, &warns, &cli->ctx))
		ir_error_clear(&cli->ctx); /* loading says why, below */
	rc = cli_load_config(cli, false);
	if (rc) {
		json_decref(warns.arr);
		json_decref(vals.arr);
		return cli_fail(cli, rc);
	}
	if (cli->json) {
		j = json_object();
		search = json_array();
		for (i = 0; i < IR_CONFIG_SOURCES; i++) {
			json_t *s = json_object();

			json_object_set_new(s, "source",
					    json_string(src[i].what));
			json_object_set_new(s, "path",
					    src[i].path
						    ? json_string(src[i].path)
						    : json_null());
			json_object_set_new(s, "exists",
					    json_boolean(src[i].exists));
			json_object_set_new(s, "chosen",
					    json_boolean(src[i].chosen));
			json_array_append_new(search, s);
		}
		json_object_set_new(j, "file",
				    cli->cfg->path ? json_string(cli->cfg->path)
						   : json_null());
		json_object_set_new(j, "search", search);
		json_object_set_new(j, "data_dir", json_string(cli->data_dir));
		json_object_set_new(j, "data_dir_from",
				    json_string(data_dir_source(cli)));
	} else {
		printf("file:      %s\n",
		       cli->cfg->path ? cli->cfg->path
				      : "none: built-in defaults");
		printf("search order (the first given, or the first that "
		       "exists):\n");
		for (i = 0; i < IR_CONFIG_SOURCES; i++)
			printf("  %zu. %-17s %s%s\n", i + 1, src[i].what,
			       src[i].path ? src[i].path : "(not given)",
			       src[i].chosen	   ? "  <- read"
			       : !src[i].path	   ? ""
			       : src[i].exists ? "  (exists)"
					       : "  (absent)");
		printf("data dir:  %s (from %s)\n", cli->data_dir,
		       data_dir_source(cli));
		printf("values:\n");
	}
	rc = ir_config_each(cli->cfg, show_value, &vals);
	if (j) {
		json_object_set_new(j, "values", vals.arr);
		json_object_set_new(j, "warnings", warns.arr);
		cli_print_json(j);
	} else if (warns.n) {
		printf("%u warning%s (on stderr)\n", warns.n,
		       warns.n == 1 ? "" : "s");
	}
	return cli_fail(cli, rc);
}
