/* Commands that change the deployment: rollback, stop, backup, abort. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "files.h"
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

static void
print_outcome(struct cli *cli, struct ir_rec *rec)
{
	const struct ir_state *st = ir_rec_state(rec);
	unsigned long long id = (unsigned long long)ir_rec_id(rec);
	uint64_t ms = (st->last_mono) / 1000000;
	const struct ir_step_state *failed = NULL;
	const char *failed_step = "";
	int i;

	/* The step that failed the incident, and why, in full: a piped
	 * rollback's last line is often all that a log keeps of it. */
	for (i = 0; i < IR_STEP__COUNT && strcmp(st->status, "succeeded"); i++)
		if (st->steps[i].status == IR_STEP_FAILED) {
			failed = &st->steps[i];
			failed_step = ir_step_name((enum ir_step)i);
			break;
		}

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
		if (failed) {
			json_object_set_new(j, "failed_step",
					    json_string(failed_step));
			json_object_set_new(j, "error",
					    json_string(failed->error));
		}
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
		fprintf(stderr, "INC-%llu: %s %s in %llu.%03llus%s%s%s%s\n", id,
			st->kind, st->status, (unsigned long long)(ms / 1000),
			(unsigned long long)(ms % 1000),
			failed ? ": " : "", failed ? failed_step : "",
			failed && failed->error[0] ? " failed: " : "",
			failed ? failed->error : "");
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
		"incident: interrupted %s; %s; resume with 'incident %s%s%s', "
		"or close with 'incident abort INC-%llu'\n",
		what, trading, st->kind,
		!strcmp(st->kind, "deploy") ? " " : "",
		!strcmp(st->kind, "deploy") ? st->opt_tag : "", id);
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

/* The lock this run holds, and on a resume the earlier owner found gone:
 * what made it the one writer of the incident. */
static int
record_lock(struct cli *cli, struct ir_rec *rec, int64_t previous_pid)
{
	struct ir_val *d = ir_val_map_new();
	char path[4200];

	snprintf(path, sizeof(path), "%s/lock", cli->data_dir);
	ir_val_set_str(d, "what", "lock");
	ir_val_set_str(d, "path", path);
	ir_val_set_bool(d, "held", true);
	ir_val_set_int(d, "pid", getpid());
	if (previous_pid)
		ir_val_set_int(d, "previous_pid", previous_pid);
	return ir_rec_emit(rec, "observation", NULL, d, &cli->ctx);
}

int
cli_run_incident(struct cli *cli, struct run_opts *o)
{
	struct open_walk w = { o->kind, 0 };
	struct ir_lock *lock = NULL;
	struct ir_rec *rec = NULL;
	struct ir_term_opts topts = { stderr, cli->tty_err, cli->color_err };
	struct live live = { .term = NULL };
	struct ir_run run = { 0 };
	int64_t previous_pid = 0;
	char actor[300];
	int rc, code;

	rc = ir_lock_take(&lock, cli->data_dir, &cli->ctx);
	if (rc)
		return cli_fail(cli, rc);
	if (cli->preload & CLI_LOAD_LATE)
		cli_preload(cli->preload);
	rc = ir_evlog_incidents(cli->log, find_open, &w, &cli->ctx);
	if (!rc && o->open_checked && w.id != o->open_id)
		rc = ir_error_set(&cli->ctx, -EEXIST, IR_ORIGIN_USAGE, 0,
				  "another incident process changed the open "
				  "%s meanwhile (INC-%llu); run the command "
				  "again",
				  o->kind,
				  (unsigned long long)(w.id ? w.id
							    : o->open_id));
	if (rc)
		goto out;
	live.term = ir_term_new(&topts);
	rc = ir_rec_new(&rec, cli->log, cli_world(cli));
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
	run.fx = cli_world(cli);
	run.data_dir = cli->data_dir;
	run.interrupted = cli_interrupted;
	/* From here on an interrupt is recorded, never fatal. */
	cli_interrupt_arm(cli->tty_err);
	if (w.id) {
		rc = ir_rec_attach(rec, w.id, &cli->ctx);
		/* The lock is ours, but the process that last ran the
		 * incident must be gone too: two writers to one incident
		 * are never allowed. */
		if (!rc && ir_lock_owner_alive(ir_rec_state(rec)->owner_pid))
			rc = ir_error_set(&cli->ctx, -EBUSY, IR_ORIGIN_LOCK, 0,
					  "INC-%llu is still being run by "
					  "incident pid %lld",
					  (unsigned long long)w.id,
					  (long long)ir_rec_state(rec)
						  ->owner_pid);
		if (!rc) {
			previous_pid = ir_rec_state(rec)->owner_pid;
			cli_say(cli, "resuming interrupted INC-%llu",
				(unsigned long long)w.id);
		}
		ir_lock_set_incident(lock, w.id);
		cli_actor(actor, sizeof(actor));
		if (!rc)
			rc = ir_runbook_resume(&run, actor, &cli->ctx);
	} else {
		rc = ir_rec_open(rec, o->kind, cli_incident_data(cli, o), &cli->ctx);
		if (!rc)
			ir_lock_set_incident(lock, ir_rec_id(rec));
	}
	o->ran_id = rec ? ir_rec_id(rec) : 0;
	if (!rc)
		rc = record_lock(cli, rec, previous_pid);
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
		const char *v = NULL, *fleet = NULL;
		int r = cli_value(cli, &i, "--reason", &v);

		if (!r && rollback)
			r = cli_value(cli, &i, "--fleet", &fleet);
		if (r < 0)
			return r;
		if (r) {
			o->reason = v ? v : o->reason;
			o->fleet = fleet ? fleet : o->fleet;
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
			cli_unexpected(cli, i);
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

static int
fold_one(void *payload, const struct ir_event *ev, const void *raw,
	 size_t len)
{
	struct cli_open *f = payload;

	(void)raw;
	(void)len;
	if (!strcmp(ev->type, "incident.opened") &&
	    ir_val_get_str(ev->data, "reason"))
		snprintf(f->reason, sizeof(f->reason), "%s",
			 ir_val_get_str(ev->data, "reason"));
	ir_state_apply(&f->st, ev);
	return 0;
}

int
cli_find_open(struct cli *cli, const char *kind, struct cli_open *out)
{
	struct open_walk w = { kind, 0 };
	int rc;

	out->id = 0;
	out->reason[0] = '\0';
	ir_state_init(&out->st);
	rc = ir_evlog_incidents(cli->log, find_open, &w, &cli->ctx);
	if (rc || !w.id)
		return rc;
	out->id = w.id;
	return ir_evlog_scan(cli->log, w.id, 1, IR_EVLOG_DECODE, fold_one, out,
			     &cli->ctx);
}

/* An open rollback resumes on its own target: a TAG that is not it is
 * refused (exit 2), naming the incident and the ways on.  *new_reason:
 * o->reason is given and is not the one the incident was opened with. */
static int
check_open(struct cli *cli, const struct cli_open *f,
	   const struct run_opts *o, bool *new_reason)
{
	unsigned long long n = (unsigned long long)f->id;
	const char *target = f->st.target[0] ? f->st.target : f->st.opt_tag;

	*new_reason = o->reason && strcmp(o->reason, f->reason);
	if (!o->tag || !strcmp(o->tag, target))
		return 0;
	if (!target[0])
		return ir_error_set(&cli->ctx, -EEXIST, IR_ORIGIN_USAGE, 0,
				    "INC-%llu is open, its target not chosen "
				    "yet (the rules choose it); resume it "
				    "with 'incident rollback', or close it "
				    "with 'incident abort INC-%llu'",
				    n, n);
	return ir_error_set(&cli->ctx, -EEXIST, IR_ORIGIN_USAGE, 0,
			    "INC-%llu is open, rolling back to %s; resume it "
			    "with 'incident rollback' (or 'incident rollback "
			    "%s'), or close it with 'incident abort INC-%llu'",
			    n, target, target, n);
}

/* The latest rollback that succeeded in the last
 * IR_LIMIT_RECENT_ROLLBACK_MS (the caller compares its target with the
 * tag deployed now: after a later rollback away from it, a tag deployed
 * again is a new deploy). */
struct recent_walk {
	int64_t since;
	struct ir_incident found;
};

static int
find_recent(void *payload, const struct ir_incident *inc)
{
	struct recent_walk *w = payload;

	if (!strcmp(inc->kind, "rollback") &&
	    !strcmp(inc->status, "succeeded") && inc->closed >= w->since &&
	    inc->closed > w->found.closed)
		w->found = *inc;
	return 0;
}

/* Re-running a rollback "to make sure" would roll back one tag further
 * and lose a good deploy: when the deployed tag is the one a rollback
 * reached minutes ago, it is named and asked about, even with --yes;
 * without a terminal only --force goes on.  A TAG named on the command
 * line, or a deployed tag marked bad since, is a choice made: no
 * question. */
static int
check_recent(struct cli *cli, const struct run_opts *o,
	     const struct ir_target *t)
{
	struct recent_walk w = { 0 };
	char question[1200], ago[32];
	int64_t now;
	int rc;

	if (o->force || o->tag || !t->from[0] ||
	    cli_known_bad(cli, t->from, ago, sizeof(ago)))
		return 0;
	now = ir_clock_wall();
	w.since = now - (int64_t)IR_LIMIT_RECENT_ROLLBACK_MS * 1000000;
	rc = ir_evlog_incidents(cli->log, find_recent, &w, &cli->ctx);
	if (rc || !w.found.id || strcmp(w.found.target, t->from))
		return rc;
	ir_duration_format(ago, sizeof(ago),
			   (uint64_t)(now - w.found.closed) / 1000000);
	snprintf(question, sizeof(question),
		 "INC-%llu rolled back to %s %s ago, and %s is still "
		 "deployed: this would roll back again, from %s to %s. Roll "
		 "back again?",
		 (unsigned long long)w.found.id, t->from, ago, t->from,
		 t->from, t->to);
	if (!cli->tty_in)
		return ir_error_set(&cli->ctx, -EPERM, IR_ORIGIN_USAGE, 0,
				    "%s Refusing without --force (no terminal "
				    "to confirm on)",
				    question);
	return cli_confirm(cli, false, question);
}

/* A --reason given on resume is kept as a note on the incident (the one
 * it was opened with stands). */
static int
note_reason(struct cli *cli, uint64_t id, const char *reason)
{
	struct ir_val *d = ir_val_map_new();
	char actor[300], text[IR_LIMIT_STRING + 64];

	cli_actor(actor, sizeof(actor));
	snprintf(text, sizeof(text), "resumed with --reason: %s", reason);
	ir_val_set_str(d, "author", actor);
	ir_val_set_str(d, "text", text);
	return cli_append(cli, id, "note", d, NULL);
}

int
cli_run_prepare(struct cli *cli, struct run_opts *o)
{
	return prepare(cli, o, true);
}

int
cmd_rollback(struct cli *cli)
{
	struct run_opts o = { .kind = "rollback" };
	struct cli_open w;
	char question[1800];
	bool new_reason = false;
	int rc = prepare(cli, &o, true), code;

	if (rc)
		return rc;
	if (o.with_db && !cli->cfg->database_restore)
		return cli_usage(cli, "--with-db needs database.restore in "
				      "the configuration");
	rc = cli_find_open(cli, "rollback", &w);
	if (!rc && w.id)
		rc = check_open(cli, &w, &o, &new_reason);
	if (rc)
		return cli_fail(cli, rc);
	o.open_checked = true;
	o.open_id = w.id;
	if (o.tag && !w.id) {
		rc = cli_check_tag(cli, o.tag);
		if (rc)
			return cli_fail(cli, rc);
	}
	if (o.dry_run)
		return cli_dry_run(cli, &o, w.id);
	if (w.id) {
		snprintf(question, sizeof(question),
			 "Resume interrupted rollback INC-%llu of %s?",
			 (unsigned long long)w.id, cli->cfg->deploy_dir);
	} else {
		/* Pre-flight: with no target to roll back to, or a checkout
		 * that would stop on local changes, stopping trading would
		 * only do harm.  Nothing is changed yet. */
		struct cli_preflight p;
		char paths[600];

		code = cli_preflight_or_refuse(cli, &o, &p);
		if (code)
			return code;
		rc = check_recent(cli, &o, &p.t);
		if (rc) {
			cli_preflight_clear(&p);
			return cli_fail(cli, rc);
		}
		cli_conflict_list(&p, paths, sizeof(paths));
		snprintf(question, sizeof(question),
			 "Roll back %s from %s to %s now?%s%s%s%s%s%s",
			 cli->cfg->deploy_dir,
			 p.t.from[0] ? p.t.from : "HEAD", p.t.to,
			 p.t.note[0] || p.n_conflicts ? " (" : "", p.t.note,
			 p.t.note[0] && p.n_conflicts ? "; " : "",
			 p.n_conflicts ? "--force overwrites local changes "
					 "after the backup: "
				       : "",
			 p.n_conflicts ? paths : "",
			 p.t.note[0] || p.n_conflicts ? ")" : "");
		cli_preflight_clear(&p);
	}
	rc = cli_confirm(cli, o.yes, question);
	if (!rc && w.id && new_reason)
		rc = note_reason(cli, w.id, o.reason);
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
	if (cli->preload & CLI_LOAD_LATE)
		cli_preload(cli->preload);
	d = ir_val_map_new();
	ir_val_set_str(d, "status", "aborted");
	ir_val_set_int(d, "duration_ms",
		       (ir_clock_wall() - inc.opened) / 1000000);
	/* Through a recorder, so mono continues the incident's clock. */
	rc = ir_rec_new(&rec, cli->log, cli_world(cli));
	if (!rc)
		rc = ir_rec_attach(rec, id, &cli->ctx);
	if (!rc && ir_lock_owner_alive(ir_rec_state(rec)->owner_pid))
		rc = ir_error_set(&cli->ctx, -EBUSY, IR_ORIGIN_LOCK, 0,
				  "INC-%llu is still being run by incident "
				  "pid %lld",
				  (unsigned long long)id,
				  (long long)ir_rec_state(rec)->owner_pid);
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
