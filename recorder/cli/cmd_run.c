/* Commands that change the deployment: rollback, stop, backup, abort. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "files.h"
#include "gitops.h"
#include "ir_limits.h"
#include "lock.h"
#include "rec.h"
#include "runbook.h"
#include "term.h"

/* What the last incident.interrupted said, for the line we print. */
struct interruption {
	bool seen;
	bool killed;
	bool trading_known;
	uint64_t trading;
	char step[16];
	char outcome[16];
	char signal[16];
	char pattern[256];
	char error[256];
};

struct live {
	struct ir_term *term;
	struct interruption intr;
};

static void
copy_str(char *dst, size_t cap, const struct ir_val *d, const char *key)
{
	const char *v = ir_val_get_str(d, key);

	snprintf(dst, cap, "%s", v ? v : "");
}

static void
live_event(void *payload, const struct ir_event *ev)
{
	struct live *l = payload;
	struct interruption *in = &l->intr;

	ir_term_event(l->term, ev);
	if (strcmp(ev->type, "incident.interrupted"))
		return;
	in->seen = true;
	in->killed = ir_val_get_bool(ev->data, "killed", false);
	in->trading_known = ir_val_get(ev->data, "trading") != NULL;
	in->trading = (uint64_t)ir_val_get_int(ev->data, "trading", 0);
	copy_str(in->step, sizeof(in->step), ev->data, "step");
	if (!in->step[0])
		copy_str(in->step, sizeof(in->step), ev->data, "next_step");
	copy_str(in->outcome, sizeof(in->outcome), ev->data, "outcome");
	copy_str(in->signal, sizeof(in->signal), ev->data, "signal");
	copy_str(in->pattern, sizeof(in->pattern), ev->data, "pattern");
	copy_str(in->error, sizeof(in->error), ev->data, "trading_error");
}

static void
live_tick(void *payload, uint64_t mono)
{
	struct live *l = payload;

	ir_term_tick(l->term, mono);
}

struct open_walk {
	const char *kind;
	uint64_t id;
};

static int
find_open(void *payload, const struct ir_incident *inc)
{
	struct open_walk *w = payload;

	if (strcmp(inc->status, "open") || strcmp(inc->kind, w->kind))
		return 0;
	w->id = inc->id;
	return 1;
}

static struct ir_val *
opened_data(struct cli *cli, const struct run_opts *o)
{
	struct ir_val *d = ir_val_map_new(), *opts = ir_val_map_new();
	char actor[300], host[256] = "localhost", hex[IR_SHA256_HEX];

	cli_actor(actor, sizeof(actor));
	gethostname(host, sizeof(host) - 1);
	ir_hex(hex, cli->cfg->sha256, sizeof(cli->cfg->sha256));
	ir_val_set_str(d, "reason", o->reason ? o->reason : "");
	ir_val_set_str(d, "actor", actor);
	ir_val_set_str(d, "host", host);
	ir_val_set_int(d, "pid", getpid());
	ir_val_set_str(d, "version", IR_VERSION);
	ir_val_set_str(d, "config", cli->cfg->have_file ? hex : "");
	ir_val_set_str(d, "deploy_dir", cli->cfg->deploy_dir);
	if (!strcmp(o->kind, "rollback"))
		ir_val_set_uint(d, "budget_ms", cli->cfg->rollback_budget_ms);
	else if (!strcmp(o->kind, "stop"))
		ir_val_set_uint(d, "budget_ms", cli->cfg->stop_budget_ms);
	if (o->tag)
		ir_val_set_str(opts, "tag", o->tag);
	ir_val_set_bool(opts, "force", o->force);
	ir_val_set_bool(opts, "with_db", o->with_db);
	ir_val_set_bool(opts, "no_backup", o->no_backup);
	if (o->archive)
		ir_val_set_str(opts, "archive", o->archive);
	if (o->to)
		ir_val_set_str(opts, "to", o->to);
	if (o->sha256)
		ir_val_set_str(opts, "sha256", o->sha256);
	ir_val_set_take(d, "options", opts);
	return d;
}

static void
print_outcome(struct cli *cli, struct ir_rec *rec)
{
	const struct ir_state *st = ir_rec_state(rec);
	unsigned long long id = (unsigned long long)ir_rec_id(rec);
	uint64_t ms = (st->last_mono) / 1000000;

	if (cli->json) {
		json_t *j = json_object();

		json_object_set_new(j, "id", json_integer((json_int_t)id));
		json_object_set_new(j, "kind", json_string(st->kind));
		json_object_set_new(j, "status", json_string(st->status));
		json_object_set_new(j, "from", json_string(st->from));
		json_object_set_new(j, "to", json_string(st->target));
		json_object_set_new(j, "duration_ms",
				    json_integer((json_int_t)ms));
		if (!strcmp(st->kind, "rollback")) {
			char path[4200];

			snprintf(path, sizeof(path), "%s/reports/INC-%llu.md",
				 cli->data_dir, id);
			json_object_set_new(j, "report", json_string(path));
		}
		if (st->backup_path[0])
			json_object_set_new(j, "archive",
					    json_string(st->backup_path));
		cli_print_json(j);
		return;
	}
	if (!strcmp(st->kind, "rollback") && !strcmp(st->status, "succeeded"))
		fprintf(stderr,
			"INC-%llu: rolled back from %s to %s in %llu.%03llus; "
			"report: %s/reports/INC-%llu.md\n",
			id, st->from[0] ? st->from : "HEAD", st->target,
			(unsigned long long)(ms / 1000),
			(unsigned long long)(ms % 1000), cli->data_dir, id);
	else
		fprintf(stderr, "INC-%llu: %s %s in %llu.%03llus\n", id,
			st->kind, st->status, (unsigned long long)(ms / 1000),
			(unsigned long long)(ms % 1000));
}

/*
 * The one line after an interrupt: which step, whether trading runs now
 * (the look taken when the interrupt was recorded), and the two ways on.
 */
static void
print_interrupted(struct cli *cli, struct ir_rec *rec,
		  const struct interruption *in)
{
	const struct ir_state *st = ir_rec_state(rec);
	unsigned long long id = (unsigned long long)ir_rec_id(rec);
	char what[128] = "", trading[400];

	if (!in->step[0])
		snprintf(what, sizeof(what), "(%s)", in->signal);
	else if (in->killed)
		snprintf(what, sizeof(what),
			 "during step \"%s\" (%s twice: its command was "
			 "killed)",
			 in->step, in->signal);
	else if (!strcmp(in->step, "close") || !in->outcome[0])
		snprintf(what, sizeof(what), "before step \"%s\" (%s)",
			 in->step, in->signal);
	else
		snprintf(what, sizeof(what), "during step \"%s\" (%s; %s)",
			 in->step, in->signal, in->outcome);
	if (!in->trading_known)
		snprintf(trading, sizeof(trading),
			 "whether trading runs is unknown (%s)", in->error);
	else
		snprintf(trading, sizeof(trading),
			 "trading is %s (%llu process%s match%s \"%s\")",
			 in->trading ? "RUNNING" : "not running",
			 (unsigned long long)in->trading,
			 in->trading == 1 ? "" : "es",
			 in->trading == 1 ? "es" : "", in->pattern);
	fprintf(stderr,
		"incident: interrupted %s; %s; resume with 'incident %s', or "
		"close with 'incident abort INC-%llu'\n",
		what, trading, st->kind, id);
	if (cli->json) {
		json_t *j = json_object();

		json_object_set_new(j, "id", json_integer((json_int_t)id));
		json_object_set_new(j, "kind", json_string(st->kind));
		json_object_set_new(j, "status", json_string(st->status));
		json_object_set_new(j, "interrupted", json_true());
		json_object_set_new(j, "step", json_string(in->step));
		json_object_set_new(j, "signal", json_string(in->signal));
		json_object_set_new(j, "killed", json_boolean(in->killed));
		if (in->trading_known)
			json_object_set_new(
				j, "trading",
				json_integer((json_int_t)in->trading));
		cli_print_json(j);
	}
}

int
cli_run_incident(struct cli *cli, const struct run_opts *o)
{
	struct open_walk w = { o->kind, 0 };
	struct ir_lock *lock = NULL;
	struct ir_rec *rec = NULL;
	struct ir_term_opts topts = { stderr, cli->tty_err, cli->color_err };
	struct live live = { .term = NULL };
	struct ir_run run = { 0 };
	char actor[300];
	int rc, code;

	rc = ir_lock_take(&lock, cli->data_dir, &cli->ctx);
	if (rc)
		return cli_fail(cli, rc);
	rc = ir_evlog_incidents(cli->log, find_open, &w, &cli->ctx);
	if (rc)
		goto out;
	live.term = ir_term_new(&topts);
	rc = ir_rec_new(&rec, cli->log, &ir_effects_real);
	if (rc || !live.term) {
		rc = rc ? rc : -ENOMEM;
		goto out;
	}
	rc = ir_rec_subscribe(rec, live_event, &live);
	if (rc)
		goto out;
	ir_rec_on_tick(rec, live_tick, &live);
	run.rec = rec;
	run.cfg = cli->cfg;
	run.fx = &ir_effects_real;
	run.data_dir = cli->data_dir;
	run.write_report = cli_write_report;
	run.report_payload = cli;
	run.known_bad = cli_known_bad;
	run.known_bad_payload = cli;
	run.interrupted = cli_interrupted;
	/* From here on an interrupt is recorded, never fatal. */
	cli_interrupt_arm(cli->tty_err);
	if (w.id) {
		cli_say(cli, "resuming interrupted INC-%llu",
			(unsigned long long)w.id);
		rc = ir_rec_attach(rec, w.id, &cli->ctx);
		ir_lock_set_incident(lock, w.id);
		cli_actor(actor, sizeof(actor));
		if (!rc)
			rc = ir_runbook_resume(&run, actor, &cli->ctx);
	} else {
		rc = ir_rec_open(rec, o->kind, opened_data(cli, o), &cli->ctx);
		if (!rc)
			ir_lock_set_incident(lock, ir_rec_id(rec));
	}
	if (!rc)
		rc = ir_runbook_execute(&run, &cli->ctx);
	ir_term_finish(live.term);
	cli_interrupt_disarm();
out:
	if (rc == -EINTR && live.intr.seen) {
		print_interrupted(cli, rec, &live.intr);
		code = IR_EXIT_INTERRUPTED;
	} else if (rc) {
		code = cli_fail(cli, rc);
	} else {
		print_outcome(cli, rec);
		code = strcmp(ir_rec_state(rec)->status, "succeeded")
			       ? IR_EXIT_FAILED
			       : IR_EXIT_OK;
	}
	ir_rec_free(rec);
	ir_term_free(live.term);
	ir_lock_release(lock);
	return code;
}

/* ---- rollback ---------------------------------------------------------- */

static int
parse_run_opts(struct cli *cli, struct run_opts *o, bool rollback)
{
	int i;

	for (i = 1; i < cli->argc; i++) {
		const char *v = NULL;
		int r = cli_value(cli, &i, "--reason", &v);

		if (r < 0)
			return r;
		if (r) {
			o->reason = v;
		} else if (cli_flag(cli, &i, "--yes") || cli_flag(cli, &i, "-y")) {
			o->yes = true;
		} else if (rollback && cli_flag(cli, &i, "--force")) {
			o->force = true;
		} else if (rollback && cli_flag(cli, &i, "--with-db")) {
			o->with_db = true;
		} else if (rollback && cli_flag(cli, &i, "--no-backup")) {
			o->no_backup = true;
		} else if (rollback && cli_flag(cli, &i, "--dry-run")) {
			o->dry_run = true;
		} else if (rollback && cli->argv[i][0] != '-' && !o->tag) {
			o->tag = cli->argv[i];
		} else {
			cli_usage(cli, "unexpected argument \"%s\"",
				  cli->argv[i]);
			return -EINVAL;
		}
	}
	if (o->reason && strlen(o->reason) > IR_LIMIT_STRING) {
		cli_usage(cli, "--reason is longer than %d bytes",
			  IR_LIMIT_STRING);
		return -EINVAL;
	}
	return 0;
}

/* An explicit TAG must exist and match the pattern; else exit 2 listing
 * the recent tags, with nothing changed. */
static int
check_tag(struct cli *cli, const char *tag)
{
	struct ir_git *git = NULL;
	struct ir_git_tag *tags = NULL;
	size_t n = 0, i;
	bool found = false;
	int rc;

	rc = ir_git_open(&git, cli->cfg->deploy_dir, &cli->ctx);
	if (rc)
		goto out;
	rc = ir_git_tags(git, cli->cfg->tag_pattern, &tags, &n, &cli->ctx);
	if (rc)
		goto out;
	for (i = 0; i < n; i++)
		if (!strcmp(tags[i].name, tag))
			found = true;
	if (!found) {
		char list[1024] = "";
		size_t used = 0;

		for (i = n > 5 ? n - 5 : 0; i < n && used < sizeof(list); i++)
			used += (size_t)snprintf(list + used,
						 sizeof(list) - used, "%s%s",
						 used ? ", " : "",
						 tags[i].name);
		rc = ir_error_set(&cli->ctx, -ENOENT, IR_ORIGIN_USAGE, 0,
				  "no deploy tag \"%s\" matching \"%s\"; "
				  "recent tags: %s",
				  tag, cli->cfg->tag_pattern,
				  n ? list : "(none)");
	}
out:
	free(tags);
	ir_git_close(git);
	/* A deployment that is not a git work tree is a configuration
	 * error: nothing was changed. */
	if (rc && cli->ctx.err.origin != IR_ORIGIN_USAGE)
		cli->ctx.err.origin = IR_ORIGIN_CONFIG;
	return rc;
}

/* The target the rollback would take now (see ir_runbook_target). */
static int
preview_target(struct cli *cli, const char *tag, struct ir_target *t)
{
	struct ir_run run = { 0 };

	run.cfg = cli->cfg;
	run.known_bad = cli_known_bad;
	run.known_bad_payload = cli;
	return ir_runbook_target(&run, tag, t, &cli->ctx);
}

static int
print_change(void *payload, enum ir_files_change change, const char *path)
{
	unsigned *n = payload;

	if (++*n <= 50)
		printf("    %c %s\n", (char)change, path);
	return 0;
}

static int
dry_run(struct cli *cli, struct run_opts *o)
{
	const struct ir_config *cfg = cli->cfg;
	struct ir_target t;
	pid_t pids[IR_LIMIT_PIDS];
	size_t n = 0, i;
	char *tmpl = NULL, src[4096], dst[4096];
	unsigned changes = 0;
	int rc;

	printf("dry run: nothing will be changed\n\n");
	rc = ir_proc_find(cfg->stop_process, pids, IR_LIMIT_PIDS, &n,
			  &cli->ctx);
	if (rc)
		return cli_fail(cli, rc);
	printf("1. stop      trading active? %s (%zu process%s match \"%s\")\n",
	       n ? "yes" : "no", n, n == 1 ? "" : "es", cfg->stop_process);
	if (n)
		printf("             would run: %s (budget %llus), escalate: "
		       "%s\n",
		       cfg->stop_command,
		       (unsigned long long)cfg->stop_budget_ms / 1000,
		       cfg->stop_escalate);
	printf("2. backup    data at risk? %s\n",
	       o->no_backup ? "no (--no-backup)" : "yes");
	if (!o->no_backup) {
		printf("             would archive:");
		for (i = 0; i < cfg->n_backup_paths; i++)
			printf(" %s", cfg->backup_paths[i]);
		printf(" + git state%s into %s/archives/\n",
		       cfg->database_dump ? " + database dump" : "",
		       cli->data_dir);
	}
	rc = preview_target(cli, o->tag, &t);
	if (rc)
		return cli_fail(cli, rc);
	printf("3. checkout  %s -> %s (%.7s -> %.7s): %s\n",
	       t.from[0] ? t.from : "HEAD", t.to, t.from_commit, t.to_commit,
	       t.why);
	for (i = 0; t.skipped && i < t.skipped->as.arr.len; i++)
		printf("             skipped %s: %s\n",
		       ir_val_get_str(&t.skipped->as.arr.items[i], "tag"),
		       ir_val_get_str(&t.skipped->as.arr.items[i], "why"));
	ir_val_free(t.skipped);
	tmpl = ir_runbook_expand(cfg->config_backup, t.to);
	if (!tmpl)
		return cli_fail(cli, -ENOMEM);
	if (tmpl[0] == '/')
		snprintf(src, sizeof(src), "%s", tmpl);
	else
		snprintf(src, sizeof(src), "%s/%s", cfg->deploy_dir, tmpl);
	snprintf(dst, sizeof(dst), "%s/%s", cfg->deploy_dir, cfg->config_dir);
	free(tmpl);
	if (access(src, F_OK)) {
		printf("4. config    no config backup at %s: skipped\n", src);
	} else {
		printf("4. config    %s from %s; changes:\n", cfg->config_dir,
		       src);
		rc = ir_files_diff(src, dst, print_change, &changes,
				   &cli->ctx);
		if (rc == -ENOTDIR || rc == -EINVAL) {
			printf("    (an archive: extracted over %s)\n",
			       cfg->config_dir);
			rc = 0;
		}
		if (rc)
			return cli_fail(cli, rc);
		if (!changes)
			printf("    (none: already identical)\n");
		else if (changes > 50)
			printf("    ... and %u more\n", changes - 50);
	}
	if (cfg->database_restore && (o->with_db || cfg->database_on_rollback))
		printf("5. database  would run: %s\n", cfg->database_restore);
	else
		printf("5. database  restore database? no: skipped\n");
	printf("6. start     would run: %s (budget %llus)\n",
	       cfg->start_command,
	       (unsigned long long)cfg->start_budget_ms / 1000);
	printf("7. health    GET %s until %ld%s%s%s\n", cfg->health_url,
	       cfg->health_expect_status,
	       cfg->health_expect_body ? " and body contains \"" : "",
	       cfg->health_expect_body ? cfg->health_expect_body : "",
	       cfg->health_expect_body ? "\"" : "");
	printf("8. verify    HEAD, last %u lines of %s, one more GET\n",
	       cfg->verify_lines, cfg->verify_log);
	printf("9. report    %s/reports/INC-<n>.md\n", cli->data_dir);
	return IR_EXIT_OK;
}

/* Options, configuration and log for a command that opens an incident:
 * 0, or the exit code after the message. */
static int
prepare(struct cli *cli, struct run_opts *o, bool rollback)
{
	int rc;

	if (parse_run_opts(cli, o, rollback))
		return IR_EXIT_USAGE;
	rc = cli_load_config(cli, true);
	if (!rc)
		rc = cli_open_log(cli);
	return rc ? cli_fail(cli, rc) : 0;
}

int
cmd_rollback(struct cli *cli)
{
	struct run_opts o = { .kind = "rollback" };
	struct open_walk w = { "rollback", 0 };
	char question[700];
	int rc = prepare(cli, &o, true);

	if (rc)
		return rc;
	if (o.with_db && !cli->cfg->database_restore)
		return cli_usage(cli, "--with-db needs database.restore in "
				      "the configuration");
	rc = ir_evlog_incidents(cli->log, find_open, &w, &cli->ctx);
	if (rc)
		return cli_fail(cli, rc);
	if (o.tag && !w.id) {
		rc = check_tag(cli, o.tag);
		if (rc)
			return cli_fail(cli, rc);
	}
	if (o.dry_run)
		return dry_run(cli, &o);
	if (w.id) {
		snprintf(question, sizeof(question),
			 "Resume interrupted rollback INC-%llu of %s?",
			 (unsigned long long)w.id, cli->cfg->deploy_dir);
	} else {
		/* Pre-flight: with no target to roll back to, stopping
		 * trading would only do harm.  Nothing is changed yet. */
		struct ir_target t;

		rc = preview_target(cli, o.tag, &t);
		if (rc) {
			cli->ctx.err.origin = IR_ORIGIN_USAGE;
			return cli_fail(cli, rc);
		}
		ir_val_free(t.skipped);
		snprintf(question, sizeof(question),
			 "Roll back %s from %s to %s now?",
			 cli->cfg->deploy_dir, t.from[0] ? t.from : "HEAD",
			 t.to);
	}
	rc = cli_confirm(cli, o.yes, question);
	if (rc)
		return cli_fail(cli, rc);
	return cli_run_incident(cli, &o);
}

int
cmd_stop(struct cli *cli)
{
	struct run_opts o = { .kind = "stop" };
	int rc = prepare(cli, &o, false);

	if (rc)
		return rc;
	rc = cli_confirm(cli, o.yes, "Emergency stop: stop trading now?");
	if (rc)
		return cli_fail(cli, rc);
	return cli_run_incident(cli, &o);
}

int
cmd_backup(struct cli *cli)
{
	struct run_opts o = { .kind = "backup", .yes = true };
	int rc = prepare(cli, &o, false);

	return rc ? rc : cli_run_incident(cli, &o);
}

int
cmd_abort(struct cli *cli)
{
	struct ir_incident inc;
	struct ir_lock *lock = NULL;
	struct ir_rec *rec = NULL;
	struct ir_val *d;
	uint64_t id;
	int rc;

	if (cli->argc != 2)
		return cli_usage(cli, "abort takes one incident");
	rc = cli_open_log(cli);
	if (!rc)
		rc = cli_incident_arg(cli, cli->argv[1], &id);
	if (!rc)
		rc = ir_evlog_incident(cli->log, id, &inc, &cli->ctx);
	if (rc)
		return cli_fail(cli, rc);
	if (strcmp(inc.status, "open"))
		return cli_usage(cli, "INC-%llu is already closed (%s)",
				 (unsigned long long)id, inc.status);
	/* A running incident holds the lock: abort only interrupted ones. */
	rc = ir_lock_take(&lock, cli->data_dir, &cli->ctx);
	if (rc)
		return cli_fail(cli, rc);
	d = ir_val_map_new();
	ir_val_set_str(d, "status", "aborted");
	ir_val_set_int(d, "duration_ms",
		       (ir_clock_wall() - inc.opened) / 1000000);
	/* Through a recorder, so mono continues the incident's clock. */
	rc = ir_rec_new(&rec, cli->log, &ir_effects_real);
	if (!rc)
		rc = ir_rec_attach(rec, id, &cli->ctx);
	if (!rc) {
		rc = ir_rec_emit(rec, "incident.closed", NULL, d, &cli->ctx);
		d = NULL;
	}
	ir_rec_free(rec);
	ir_val_free(d);
	ir_lock_release(lock);
	if (rc)
		return cli_fail(cli, rc);
	if (cli->json) {
		json_t *j = json_object();

		json_object_set_new(j, "id", json_integer((json_int_t)id));
		json_object_set_new(j, "status", json_string("aborted"));
		cli_print_json(j);
	} else {
		fprintf(stderr, "INC-%llu aborted\n", (unsigned long long)id);
	}
	return IR_EXIT_OK;
}
