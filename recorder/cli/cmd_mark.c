/*
 * `incident mark TAG good|bad|clear`: a recorded correction of a tag's
 * verdict (verdict.c), as an incident of kind mark under the lock.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lock.h"
#include "rec.h"

static struct ir_val *
mark_opened(struct cli *cli, const char *tag, const char *as,
	    const char *reason)
{
	struct ir_val *d = cli_opened_data(cli, reason), *opts;

	opts = ir_val_map_new();
	ir_val_set_str(opts, "tag", tag);
	ir_val_set_str(opts, "as", as);
	ir_val_set_take(d, "options", opts);
	return d;
}

/* Open, mark and close in one go, under the lock, so that no rollback
 * chooses its target in between. */
static int
record_mark(struct cli *cli, const char *tag, const char *as,
	    const char *reason, const char *was, uint64_t *id)
{
	struct ir_lock *lock = NULL;
	struct ir_rec *rec = NULL;
	struct ir_val *d;
	char actor[300];
	int rc;

	rc = ir_lock_take(&lock, cli->data_dir, &cli->ctx);
	if (rc)
		return rc;
	rc = ir_rec_new(&rec, cli->log, cli_world(cli));
	if (!rc)
		rc = ir_rec_open(rec, "mark", mark_opened(cli, tag, as, reason),
				 &cli->ctx);
	if (rc)
		goto out;
	ir_lock_set_incident(lock, ir_rec_id(rec));
	cli_actor(actor, sizeof(actor));
	d = ir_val_map_new();
	ir_val_set_str(d, "tag", tag);
	ir_val_set_str(d, "as", as);
	ir_val_set_str(d, "reason", reason);
	ir_val_set_str(d, "actor", actor);
	ir_val_set_str(d, "was", was);
	rc = ir_rec_emit(rec, "tag.marked", NULL, d, &cli->ctx);
	if (rc)
		goto out;
	d = ir_val_map_new();
	ir_val_set_str(d, "status", "succeeded");
	ir_val_set_uint(d, "duration_ms", ir_rec_mono(rec) / 1000000);
	rc = ir_rec_emit(rec, "incident.closed", NULL, d, &cli->ctx);
	if (!rc)
		*id = ir_rec_id(rec);
out:
	ir_rec_free(rec);
	ir_lock_release(lock);
	return rc;
}

int
cmd_mark(struct cli *cli)
{
	const char *tag = NULL, *as = NULL, *reason = NULL;
	struct cli_verdict v;
	char was[600], question[1200];
	bool yes = false;
	uint64_t id = 0;
	int i, rc;

	for (i = 1; i < cli->argc; i++) {
		const char *val = NULL;
		int r = cli_value(cli, &i, "--reason", &val);

		if (r < 0)
			return IR_EXIT_USAGE;
		if (r)
			reason = val;
		else if (cli_flag(cli, &i, "--yes") || cli_flag(cli, &i, "-y"))
			yes = true;
		else if (cli->argv[i][0] != '-' && !tag)
			tag = cli->argv[i];
		else if (cli->argv[i][0] != '-' && !as)
			as = cli->argv[i];
		else
			return cli_unexpected(cli, i);
	}
	if (!tag || !as)
		return cli_usage(cli, "mark needs TAG and good, bad or clear");
	if (strcmp(as, "good") && strcmp(as, "bad") && strcmp(as, "clear"))
		return cli_usage(cli, "\"%s\" is not good, bad or clear", as);
	if (!reason || !*reason)
		return cli_usage(cli, "mark needs --reason TEXT: the log keeps "
				      "why a verdict was corrected");
	if (strlen(reason) > IR_LIMIT_STRING)
		return cli_usage(cli, "--reason is longer than %d bytes",
				 IR_LIMIT_STRING);
	rc = cli_load_config(cli, true);
	if (!rc)
		rc = cli_open_log(cli);
	if (!rc)
		rc = cli_check_tag(cli, tag);
	if (!rc)
		rc = cli_tag_verdict(cli, tag, &v);
	if (rc)
		return cli_fail(cli, rc);
	cli_verdict_text(&v, was, sizeof(was));
	snprintf(question, sizeof(question), "Mark %s %s (now: %s)?", tag,
		 !strcmp(as, "clear") ? "as neither known-good nor known-bad"
		 : !strcmp(as, "good") ? "known-good"
				       : "known-bad",
		 was[0] ? was : "neither known-good nor known-bad");
	rc = cli_confirm(cli, yes, question);
	if (!rc)
		rc = record_mark(cli, tag, as, reason, was, &id);
	if (rc)
		return cli_fail(cli, rc);
	if (cli->json) {
		json_t *j = json_object();

		json_object_set_new(j, "id", json_integer((json_int_t)id));
		json_object_set_new(j, "tag", json_string(tag));
		json_object_set_new(j, "as", json_string(as));
		json_object_set_new(j, "was", json_string(was));
		cli_print_json(j);
	} else {
		fprintf(stderr, "INC-%llu: %s marked %s\n",
			(unsigned long long)id, tag, as);
	}
	return IR_EXIT_OK;
}

