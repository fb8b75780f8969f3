/* status and tags: the deployment as it is now, by the executor's rules. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "gitops.h"
#include "health.h"
#include "ir_limits.h"
#include "proc.h"

/* ---- status and tags ----------------------------------------------------- */

struct open_any {
	struct cli *cli;
	uint64_t id;
	char kind[16];
};

/* Open by its events (no incident.closed), not by its header alone: a
 * header that says open is confirmed by the fold.  Only those are folded,
 * so that status starts in the same time over a thousand incidents as
 * over one (a header edited to hide an open incident is verify's to
 * find). */
static int
find_open_any(void *payload, const struct ir_incident *inc)
{
	struct open_any *o = payload;
	const struct cli_told *t;
	int rc;

	if (strcmp(inc->status, "open"))
		return 0;
	rc = cli_told_of(o->cli, inc, &t, &o->cli->ctx);
	if (rc || !t->readable || strcmp(t->status, "open"))
		return rc;
	o->id = inc->id;
	snprintf(o->kind, sizeof(o->kind), "%s", t->kind);
	return 1;
}

/* The deployed tag by the executor's rule (ir_target_deployed): its
 * index in tags, or n. */
static size_t
deployed_index(const struct ir_git_tag *tags, size_t n, const char *head)
{
	struct ir_tag_input *view = calloc(n ? n : 1, sizeof(*view));
	size_t i, cur = n;

	if (!view)
		return n;
	for (i = 0; i < n; i++) {
		view[i].name = tags[i].name;
		view[i].commit = tags[i].commit;
	}
	cur = ir_target_deployed(view, n, head);
	free(view);
	return cur;
}

int
cmd_status(struct cli *cli)
{
	const struct ir_config *cfg;
	struct open_any open = { cli, 0, "" };
	struct ir_git *git = NULL;
	struct ir_git_tag *tags = NULL;
	struct ir_http_result http;
	struct ir_health_expect want;
	struct ir_ctx local = { 0 };
	pid_t pids[IR_LIMIT_PIDS];
	char why[IR_HEALTH_WHY];
	char head[IR_GIT_OID_HEX] = "", subject[256] = "", deployed[256] = "";
	size_t ntags = 0, npids = 0, i;
	bool detached = false, healthy;
	int rc, http_rc;

	if (cli->argc > 1)
		return cli_unexpected(cli, 1);
	rc = cli_load_config(cli, true);
	if (!rc)
		rc = cli_open_log(cli);
	if (!rc)
		rc = ir_evlog_incidents(cli->log, find_open_any, &open,
					&cli->ctx);
	if (rc)
		return cli_fail(cli, rc);
	cfg = cli->cfg;
	if (!ir_git_open(&git, cfg->deploy_dir, &local) &&
	    !ir_git_head(git, head, subject, sizeof(subject), &detached,
			 &local) &&
	    !ir_git_tags(git, cfg->tag_pattern, &tags, &ntags, &local)) {
		i = deployed_index(tags, ntags, head);
		if (i < ntags)
			snprintf(deployed, sizeof(deployed), "%s",
				 tags[i].name);
	}
	free(tags);
	ir_git_close(git);
	rc = ir_proc_find(cfg->stop_process, pids, IR_LIMIT_PIDS, &npids,
			  &local);
	memset(&http, 0, sizeof(http));
	http_rc = ir_http_get(cfg->health_url, 1000, 2000, &http, &local);
	want.status = cfg->health_expect_status;
	want.body = cfg->health_expect_body;
	want.timeout_ms = 2000;
	healthy = ir_health_judge(&want, http_rc, &http, why, sizeof(why));
	if (cli->json) {
		json_t *j = json_object(), *p = json_array();

		for (i = 0; i < npids && i < IR_LIMIT_PIDS; i++)
			json_array_append_new(p, json_integer(pids[i]));
		json_object_set_new(j, "open_incident",
				    open.id ? json_integer((json_int_t)open.id)
					    : json_null());
		json_object_set_new(j, "open_kind",
				    open.id ? json_string(open.kind)
					    : json_null());
		json_object_set_new(j, "deploy_dir",
				    json_string(cfg->deploy_dir));
		json_object_set_new(j, "deployed", json_string(deployed));
		json_object_set_new(j, "head", json_string(head));
		json_object_set_new(j, "trading_pids", p);
		json_object_set_new(j, "health_status",
				    json_integer(http_rc ? 0 : http.status));
		json_object_set_new(j, "healthy", json_boolean(healthy));
		json_object_set_new(j, "health", json_string(why));
		json_object_set_new(j, "config",
				    cfg->path ? json_string(cfg->path)
					      : json_null());
		cli_print_json(j);
		return IR_EXIT_OK;
	}
	if (open.id)
		printf("open incident:  INC-%llu (%s, interrupted or running)\n",
		       (unsigned long long)open.id, open.kind);
	else
		printf("open incident:  none\n");
	printf("config:         %s\n",
	       cfg->path ? cfg->path : "none (defaults)");
	printf("deployment:     %s\n", cfg->deploy_dir);
	printf("deployed:       %s (%.7s %s)\n",
	       deployed[0] ? deployed : "untagged", head, subject);
	if (rc)
		printf("trading:        cannot tell: %s\n",
		       ir_error_msg(&local, rc));
	else
		printf("trading:        %s (%zu process%s match \"%s\")\n",
		       npids ? "running" : "stopped", npids,
		       npids == 1 ? "" : "es", cfg->stop_process);
	printf("health:         %s (%s) at %s\n",
	       healthy ? "healthy" : "unhealthy", why, cfg->health_url);
	return IR_EXIT_OK;
}

/* The newest mark of a tag: who, when, what and why; null for none. */
static json_t *
mark_json(const struct cli_verdict *v)
{
	json_t *j;
	char when[32];

	if (!v->marked)
		return json_null();
	cli_utc(when, sizeof(when), v->mark.ts);
	j = json_object();
	json_object_set_new(j, "incident",
			    json_integer((json_int_t)v->mark.id));
	json_object_set_new(j, "as", json_string(v->mark.as));
	json_object_set_new(j, "actor", json_string(v->mark.actor));
	json_object_set_new(j, "at", json_string(when));
	json_object_set_new(j, "reason", json_string(v->mark.reason));
	return j;
}

int
cmd_tags(struct cli *cli)
{
	struct ir_git *git = NULL;
	struct ir_git_tag *tags = NULL;
	char head[IR_GIT_OID_HEX], subject[256];
	bool detached;
	json_t *arr = NULL;
	size_t n = 0, i, cur;
	int rc;

	if (cli->argc > 1)
		return cli_unexpected(cli, 1);
	rc = cli_load_config(cli, true);
	if (!rc)
		rc = cli_open_log(cli);
	if (!rc)
		rc = ir_git_open(&git, cli->cfg->deploy_dir, &cli->ctx);
	if (!rc)
		rc = ir_git_head(git, head, subject, sizeof(subject), &detached,
				 &cli->ctx);
	if (!rc)
		rc = ir_git_tags(git, cli->cfg->tag_pattern, &tags, &n,
				 &cli->ctx);
	ir_git_close(git);
	if (rc) {
		free(tags);
		return cli_fail(cli, rc);
	}
	if (cli->json)
		arr = json_array();
	/* Newest first. */
	cur = deployed_index(tags, n, head);
	for (i = n; i-- > 0;) {
		struct cli_verdict v;
		char text[sizeof(v.why) + 32];
		bool deployed = i == cur;

		rc = cli_tag_verdict(cli, tags[i].name, &v);
		if (rc)
			break;
		cli_verdict_text(&v, text, sizeof(text));
		if (arr) {
			json_t *j = json_object();

			json_object_set_new(j, "tag", json_string(tags[i].name));
			json_object_set_new(j, "commit",
					    json_string(tags[i].commit));
			json_object_set_new(j, "deployed", json_boolean(deployed));
			json_object_set_new(j, "known_bad", json_boolean(v.bad));
			json_object_set_new(j, "known_good",
					    json_boolean(v.good));
			json_object_set_new(j, "why", json_string(text));
			json_object_set_new(j, "mark", mark_json(&v));
			json_array_append_new(arr, j);
		} else {
			printf("%s %-28s %.7s  %s%s\n", deployed ? "*" : " ",
			       tags[i].name, tags[i].commit,
			       deployed ? "deployed " : "", text);
		}
	}
	free(tags);
	if (rc) {
		json_decref(arr);
		return cli_fail(cli, rc);
	}
	if (arr)
		cli_print_json(arr);
	else if (!n)
		printf("no tags match \"%s\"\n", cli->cfg->tag_pattern);
	return IR_EXIT_OK;
}
