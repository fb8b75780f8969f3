/*
 * `incident verify`: each incident's hash chain, and its header against
 * what its own events say (history.c): an edited status, kind, from,
 * target, opened or closed is a fault like an edited event.  And the log
 * against the data directory around it: an archive or a report of an
 * incident the log does not hold says the log was cut short, replaced,
 * or had an incident taken out.
 */
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hash.h"

struct verify_walk {
	struct cli *cli;
	json_t *arr;
	unsigned ok, bad;
	uint64_t first_bad;
	char first_msg[1024];
};

/* One incident: the chain (in the scan) and the header against the
 * events.  rc and the message in ctx. */
static int
verify_incident(struct cli *cli, uint64_t id, struct ir_incident *inc,
		struct cli_history *h, struct ir_ctx *ctx)
{
	struct cli_header_fault f;
	int rc;

	rc = ir_evlog_incident(cli->log, id, inc, ctx);
	if (!rc)
		rc = cli_history_of(cli, id, true, h, ctx);
	if (rc || !cli_header_differs(inc, h, &f))
		return rc;
	return ir_error_set(ctx, -EBADMSG, IR_ORIGIN_LMDB, 0,
			    "INC-%llu: the header's %s is %s, its events say "
			    "%s (the header was edited)",
			    (unsigned long long)id, f.field, f.header,
			    f.events);
}

static int
verify_one(struct verify_walk *w, uint64_t id)
{
	struct ir_ctx ctx = { 0 };
	struct ir_incident inc = { 0 };
	struct cli_history h = { .events = 0 };
	char head[IR_SHA256_HEX];
	int rc;

	rc = verify_incident(w->cli, id, &inc, &h, &ctx);
	ir_hex(head, inc.head, sizeof(inc.head));
	if (rc) {
		w->bad++;
		if (!w->first_bad) {
			w->first_bad = id;
			snprintf(w->first_msg, sizeof(w->first_msg), "%s",
				 ir_error_msg(&ctx, rc));
		}
	} else {
		w->ok++;
	}
	if (w->arr) {
		json_t *j = json_object();

		json_object_set_new(j, "id", json_integer((json_int_t)id));
		json_object_set_new(j, "ok", json_boolean(!rc));
		json_object_set_new(j, "events",
				    json_integer((json_int_t)h.events));
		json_object_set_new(j, "head", json_string(head));
		if (rc)
			json_object_set_new(
				j, "error", json_string(ir_error_msg(&ctx, rc)));
		json_array_append_new(w->arr, j);
	} else if (rc) {
		printf("INC-%llu  BAD  %s\n", (unsigned long long)id,
		       ir_error_msg(&ctx, rc));
	} else {
		printf("INC-%llu  ok   %llu events, head %.16s\n",
		       (unsigned long long)id, (unsigned long long)h.events,
		       head);
	}
	return 0;
}

static int
verify_walk_one(void *payload, const struct ir_incident *inc)
{
	return verify_one(payload, inc->id);
}

/* The incident an archive or report is named for (INC-<n>-step.tar.zst,
 * INC-<n>.md): 0 for any other name. */
static uint64_t
named_incident(const char *name)
{
	unsigned long long n;
	char *end;

	if (strncmp(name, "INC-", 4) || name[4] < '1' || name[4] > '9')
		return 0;
	n = strtoull(name + 4, &end, 10);
	return *end == '-' || *end == '.' ? (uint64_t)n : 0;
}

/* Each archive and report of DATA_DIR/sub names an incident the log holds;
 * the first that does not is a fault (w->bad, the message). */
static int
check_evidence(struct verify_walk *w, const char *sub)
{
	struct cli *cli = w->cli;
	struct ir_incident inc;
	struct dirent *e;
	char path[4200];
	uint64_t id;
	DIR *d;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/%s", cli->data_dir, sub);
	d = opendir(path);
	if (!d)
		return 0;
	while (!rc && (e = readdir(d))) {
		struct ir_ctx ctx = { 0 };

		id = named_incident(e->d_name);
		if (!id)
			continue;
		rc = ir_evlog_incident(cli->log, id, &inc, &ctx);
		if (rc != -ENOENT) {
			rc = rc == -ENOMEM ? rc : 0;
			continue;
		}
		w->bad++;
		rc = 0;
		if (w->first_bad)
			continue;
		w->first_bad = id;
		snprintf(w->first_msg, sizeof(w->first_msg),
			 "INC-%llu is not in the log, yet \"%s/%s\" is its: "
			 "the log was cut short, replaced, or had an incident "
			 "taken out",
			 (unsigned long long)id, path, e->d_name);
		if (!w->arr)
			printf("INC-%llu  BAD  %s\n", (unsigned long long)id,
			       w->first_msg);
	}
	closedir(d);
	return rc;
}

/* The ledger against the events (evlog.h): a leaf whose event is gone
 * or rewritten, an incident deleted or added past it, is a fault. */
static int
check_ledger(struct verify_walk *w, json_t *out)
{
	struct ir_ledger_check c = { 0 };
	struct ir_ctx ctx = { 0 };
	char root[IR_SHA256_HEX];
	int rc;

	rc = ir_evlog_ledger_verify(w->cli->log, &c, &ctx);
	if (rc == -ENOENT) {
		if (!w->arr)
			printf("ledger: none yet (%s)\n", ir_error_msg(&ctx, rc));
		return 0;
	}
	if (rc == -EBADMSG) {
		w->bad++;
		if (!w->first_bad)
			snprintf(w->first_msg, sizeof(w->first_msg), "%s",
				 ir_error_msg(&ctx, rc));
		w->first_bad = w->first_bad ? w->first_bad : 1;
		if (!w->arr)
			printf("ledger  BAD  %s\n", ir_error_msg(&ctx, rc));
		return 0;
	}
	if (rc)
		return ir_error_set(&w->cli->ctx, rc, IR_ORIGIN_LMDB, 0, "%s",
				    ir_error_msg(&ctx, rc));
	ir_hex(root, c.root, sizeof(c.root));
	if (out) {
		json_t *j = json_object();

		json_object_set_new(j, "size", json_integer((json_int_t)c.size));
		json_object_set_new(j, "root", json_string(root));
		json_object_set_new(out, "ledger", j);
	} else {
		printf("ledger: %llu events, root %s\n",
		       (unsigned long long)c.size, root);
	}
	return 0;
}

/* --checkpoint: the log against the signed checkpoints of src
 * (verify_checkpoint.c); without one, say what is not protected. */
static int
check_anchor(struct verify_walk *w, const char *src,
	     const struct cli_pins *pins, json_t *out)
{
	char msg[1024] = "";
	int rc;

	if (!src) {
		if (out)
			json_object_set_new(out, "checkpoint", json_null());
		else
			printf("checkpoint: none given: a cut tail or a log "
			       "rewritten whole would pass (verify "
			       "--checkpoint FILE|git)\n");
		return 0;
	}
	rc = cli_verify_checkpoints(w->cli, src, pins, out, msg, sizeof(msg));
	if (rc || !msg[0])
		return rc;
	w->bad++;
	if (!w->first_bad) {
		w->first_bad = 1;
		snprintf(w->first_msg, sizeof(w->first_msg), "%s", msg);
	}
	if (!w->arr)
		printf("checkpoint  BAD  %s\n", msg);
	return 0;
}

int
cmd_verify(struct cli *cli)
{
	json_t *ledger = NULL;
	struct verify_walk w = { cli, NULL, 0, 0, 0, "" };
	const char *anchor = NULL, *key = NULL, *inc = NULL;
	struct cli_pins pins = { .n = 0 };
	uint64_t id = 0;
	int i, rc;

	for (i = 1; i < cli->argc; i++) {
		rc = cli_value(cli, &i, "--checkpoint", &anchor);
		if (!rc)
			rc = cli_value(cli, &i, "--key", &key);
		if (rc < 0)
			return IR_EXIT_USAGE;
		if (rc)
			continue;
		if (inc || cli->argv[i][0] == '-')
			return cli_unexpected(cli, i);
		inc = cli->argv[i];
	}
	if (key && !anchor)
		return cli_usage(cli, "--key goes with --checkpoint");
	rc = cli_open_log_readonly(cli);
	if (!rc && inc)
		rc = cli_incident_arg(cli, inc, &id);
	if (rc)
		return cli_fail(cli, rc);
	if (anchor && !strcmp(anchor, "git") && !cli->cfg->deploy_dir)
		return cli_usage(cli, "--checkpoint git reads the notes of "
				      "deploy.dir: no configuration names it");
	/* The keys to check signatures against, read before the walk: a
	 * --key that is no key is said before any incident is. */
	if (anchor) {
		rc = cli_checkpoint_pins(cli, key, &pins, &cli->ctx);
		if (rc)
			return cli_fail(cli, rc);
	}
	if (cli->json)
		w.arr = json_array();
	ledger = cli->json ? json_object() : NULL;
	if (id) {
		rc = verify_one(&w, id);
		/* One incident; the ledger only when asked to hold it to a
		 * checkpoint. */
		if (!rc && anchor)
			rc = check_ledger(&w, ledger);
	} else {
		rc = ir_evlog_incidents(cli->log, verify_walk_one, &w,
					&cli->ctx);
		if (!rc)
			rc = check_evidence(&w, "archives");
		if (!rc)
			rc = check_evidence(&w, "reports");
		if (!rc)
			rc = check_ledger(&w, ledger);
	}
	if (!rc && (anchor || !id))
		rc = check_anchor(&w, anchor, &pins, ledger);
	if (w.arr) {
		json_object_set_new(ledger, "ok", json_boolean(!w.bad && !rc));
		if (w.bad)
			json_object_set_new(ledger, "error",
					    json_string(w.first_msg));
		json_object_set_new(ledger, "incidents", w.arr);
		cli_print_json(ledger);
	}
	if (rc)
		return cli_fail(cli, rc);
	if (w.bad) {
		fprintf(stderr, "incident verify: %s\n", w.first_msg);
		return IR_EXIT_FAILED;
	}
	if (!cli->json)
		printf("%u incident%s verified\n", w.ok, w.ok == 1 ? "" : "s");
	return IR_EXIT_OK;
}
