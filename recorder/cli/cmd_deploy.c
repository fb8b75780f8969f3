/*
 * deploy TAG [--dry-run] [--yes] [--force] [--no-backup] [--reason TEXT]:
 * the same executor as rollback with the deploy's steps (runbook.c):
 * backup, the graceful stop (deploy.stop), checkout of TAG, config,
 * migrate, start, health, soak, verify, report.  When the health or the
 * soak fails, deploy.on-failure says what follows: a rollback incident to
 * the tag deployed before (linked both ways: caused_by in its opening,
 * an observation rolled_back_by on the deploy), a stop, or nothing.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* What a closed deploy came to: its folded state. */
static int
deploy_state(struct cli *cli, uint64_t id, struct ir_rec **rec)
{
	int rc = ir_rec_new(rec, cli->log, cli_world(cli));

	return rc ? rc : ir_rec_attach(*rec, id, &cli->ctx);
}

static int
link_rollback(struct cli *cli, uint64_t deploy, uint64_t rollback)
{
	struct ir_val *d = ir_val_map_new();

	ir_val_set_str(d, "what", "rolled_back_by");
	ir_val_set_uint(d, "incident", rollback);
	return cli_append(cli, deploy, "observation", d, NULL);
}

/* The deploy failed: act on deploy.on-failure when its health or soak
 * was what failed.  The exit code stays the deploy's (1). */
static int
on_failure(struct cli *cli, const struct run_opts *o, int code)
{
	const char *what = cli->cfg->deploy_on_failure;
	struct run_opts r = { .yes = true };
	struct ir_rec *rec = NULL;
	const struct ir_state *st;
	char from[256], reason[400];
	bool unhealthy, soak;
	int rc;

	rc = deploy_state(cli, o->ran_id, &rec);
	if (rc) {
		ir_rec_free(rec);
		return cli_fail(cli, rc);
	}
	st = ir_rec_state(rec);
	soak = st->steps[IR_STEP_SOAK].status == IR_STEP_FAILED;
	unhealthy = soak || st->steps[IR_STEP_HEALTH].status == IR_STEP_FAILED;
	snprintf(from, sizeof(from), "%s", st->from);
	ir_rec_free(rec);
	if (!unhealthy)
		return code;
	if (!strcmp(what, "hold")) {
		cli_say(cli, "deploy.on-failure = hold: %s is left running, "
			     "unhealthy; roll back with 'incident rollback%s%s'",
			o->tag, from[0] ? " " : "", from);
		return code;
	}
	snprintf(reason, sizeof(reason), "INC-%llu: the deploy of %s failed "
		 "its %s",
		 (unsigned long long)o->ran_id, o->tag,
		 soak ? "soak" : "health");
	r.reason = reason;
	r.caused_by = o->ran_id;
	if (!strcmp(what, "stop")) {
		r.kind = "stop";
		cli_say(cli, "deploy.on-failure = stop: stopping trading");
		cli_run_incident(cli, &r);
		return code;
	}
	r.kind = "rollback";
	r.tag = from[0] ? from : NULL;
	cli_say(cli, "deploy.on-failure = rollback: rolling back to %s",
		from[0] ? from : "the rules' target");
	cli_run_incident(cli, &r);
	if (r.ran_id) {
		rc = link_rollback(cli, o->ran_id, r.ran_id);
		if (rc)
			return cli_fail(cli, rc);
	}
	return code;
}

static int
check_open(struct cli *cli, const struct run_opts *o, uint64_t *open_id)
{
	struct cli_open w;
	int rc = cli_find_open(cli, "rollback", &w);

	if (!rc && w.id)
		return ir_error_set(&cli->ctx, -EEXIST, IR_ORIGIN_USAGE, 0,
				    "INC-%llu, a rollback, is open: resume it "
				    "with 'incident rollback' or close it with "
				    "'incident abort INC-%llu' first",
				    (unsigned long long)w.id,
				    (unsigned long long)w.id);
	if (!rc)
		rc = cli_find_open(cli, "deploy", &w);
	if (!rc && w.id && strcmp(w.st.opt_tag, o->tag))
		return ir_error_set(&cli->ctx, -EEXIST, IR_ORIGIN_USAGE, 0,
				    "INC-%llu is open, deploying %s; resume it "
				    "with 'incident deploy %s', or close it "
				    "with 'incident abort INC-%llu'",
				    (unsigned long long)w.id, w.st.opt_tag,
				    w.st.opt_tag, (unsigned long long)w.id);
	*open_id = rc ? 0 : w.id;
	return rc;
}

int
cmd_deploy(struct cli *cli)
{
	struct run_opts o = { .kind = "deploy" };
	char question[1800];
	uint64_t open_id = 0;
	int rc = cli_run_prepare(cli, &o), code;

	if (rc)
		return rc;
	if (!o.tag)
		return cli_usage(cli, "deploy needs a TAG ('incident tags' "
				      "lists them)");
	if (o.with_db)
		return cli_usage(cli, "--with-db is the rollback's; a deploy "
				      "runs deploy.migrate");
	rc = check_open(cli, &o, &open_id);
	if (!rc && !open_id)
		rc = cli_check_tag(cli, o.tag);
	if (rc)
		return cli_fail(cli, rc);
	o.open_checked = true;
	o.open_id = open_id;
	if (o.dry_run)
		return cli_dry_run(cli, &o, open_id);
	if (open_id) {
		snprintf(question, sizeof(question),
			 "Resume interrupted deploy INC-%llu of %s?",
			 (unsigned long long)open_id, o.tag);
	} else {
		/* The rollback's pre-flight: a known-bad TAG without
		 * --force, or local changes in the way, refuse before the
		 * running version is stopped. */
		struct cli_preflight p;

		code = cli_preflight_or_refuse(cli, &o, &p);
		if (code)
			return code;
		snprintf(question, sizeof(question),
			 "Deploy %s to %s (deployed now: %s)?%s%s%s", o.tag,
			 cli->cfg->deploy_dir, p.t.from[0] ? p.t.from : "HEAD",
			 p.t.known_bad ? " (" : "",
			 p.t.known_bad ? p.t.note : "",
			 p.t.known_bad ? ")" : "");
		cli_preflight_clear(&p);
	}
	rc = cli_confirm(cli, o.yes, question);
	if (rc)
		return cli_fail(cli, rc);
	code = cli_run_incident(cli, &o);
	if (code != IR_EXIT_FAILED || !o.ran_id)
		return code;
	return on_failure(cli, &o, code);
}
