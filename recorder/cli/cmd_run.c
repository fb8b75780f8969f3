/* Commands that change the deployment: rollback, stop, backup, abort. */
#include <jansson.h>
#include <stdarg.h>
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

struct live {
	struct ir_term *term;
};

static void
live_event(void *payload, const struct ir_event *ev)
{
	struct live *l = payload;

	ir_term_event(l->term, ev);
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

int
cli_run_incident(struct cli *cli, const struct run_opts *o)
{
	struct open_walk w = { o->kind, 0 };
	struct ir_lock *lock = NULL;
	struct ir_rec *rec = NULL;
	struct ir_term_opts topts = { stderr, cli->tty_err, cli->color_err };
	struct live live = { NULL };
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
out:
	if (rc) {
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
int
cli_check_tag(struct cli *cli, const char *tag)
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

/* What the pre-flight found: the target, the local changes in the way of
 * its checkout, and why the run would refuse ("" when it would go). */
struct preflight {
	struct ir_target t;
	struct ir_buf conflicts; /* one path per line */
	size_t n_conflicts;
	char blocked[1024];
};

static void
preflight_clear(struct preflight *p)
{
	ir_val_free(p->t.skipped);
	p->t.skipped = NULL;
	ir_buf_clear(&p->conflicts);
}

/* The conflicts as "a, b, c" (the first few). */
static void
conflict_list(const struct preflight *p, char *out, size_t cap)
{
	const char *s = p->conflicts.len ? (const char *)p->conflicts.data
					 : "";
	size_t used = 0;

	out[0] = '\0';
	while (*s && used + 1 < cap) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);

		if (used + len + 8 >= cap) {
			snprintf(out + used, cap - used, "%s...",
				 used ? ", " : "");
			return;
		}
		used += (size_t)snprintf(out + used, cap - used, "%s%.*s",
					 used ? ", " : "", (int)len, s);
		s += len + (nl ? 1 : 0);
	}
}

static void IR_PRINTF(2, 3)
add_block(struct preflight *p, const char *fmt, ...)
{
	size_t used = strlen(p->blocked);
	va_list ap;

	if (used && used + 2 < sizeof(p->blocked)) {
		memcpy(p->blocked + used, "; ", 3);
		used += 2;
	}
	if (used + 1 >= sizeof(p->blocked))
		return;
	va_start(ap, fmt);
	vsnprintf(p->blocked + used, sizeof(p->blocked) - used, fmt, ap);
	va_end(ap);
}

/* Everything the rollback checks before it changes anything.  0 with
 * p->blocked set when the run would refuse; a negative errno when the
 * target cannot be chosen at all. */
static int
preflight(struct cli *cli, const struct run_opts *o, struct preflight *p)
{
	char paths[600];
	int rc;

	memset(p, 0, sizeof(*p));
	p->conflicts = (struct ir_buf)IR_BUF_INIT(64 * 1024);
	rc = preview_target(cli, o->tag, &p->t);
	if (rc)
		return rc;
	rc = ir_runbook_conflicts(cli->cfg, p->t.to, &p->conflicts,
				  &p->n_conflicts, &cli->ctx);
	if (rc)
		return rc;
	conflict_list(p, paths, sizeof(paths));
	if (p->t.known_bad && !o->force)
		add_block(p, "%s; give --force to roll back to it anyway",
			  p->t.note);
	if (p->n_conflicts && !o->force)
		add_block(p,
			  "local change%s in %s would be overwritten by the "
			  "checkout of %s: %s (commit or stash %s, or give "
			  "--force: the backup archives %s first)",
			  p->n_conflicts == 1 ? "" : "s", cli->cfg->deploy_dir,
			  p->t.to, paths, p->n_conflicts == 1 ? "it" : "them",
			  p->n_conflicts == 1 ? "it" : "them");
	else if (p->n_conflicts && o->no_backup)
		add_block(p,
			  "--force would overwrite local changes (%s) that "
			  "--no-backup would not archive first; drop "
			  "--no-backup",
			  paths);
	return 0;
}

/* The pre-flight's refusal, which may be longer than an error message
 * holds: exit 2, nothing changed. */
static void
refuse(struct cli *cli, const char *why)
{
	fprintf(stderr, "incident %s: %s; nothing changed\n", cli->argv[0],
		why);
}

/* A plan: built as JSON for --json, printed as text otherwise. */
struct plan {
	json_t *j;
	json_t *steps;
	bool text;
};

static json_t *
plan_step(struct plan *pl, const char *name, bool run)
{
	json_t *s = json_object();

	json_object_set_new(s, "step", json_string(name));
	json_object_set_new(s, "run", json_boolean(run));
	json_array_append_new(pl->steps, s);
	return s;
}

struct change_walk {
	struct plan *pl;
	json_t *list;
	unsigned n;
};

static int
print_change(void *payload, enum ir_files_change change, const char *path)
{
	struct change_walk *c = payload;
	char line[4200];

	if (++c->n > 200)
		return 0;
	snprintf(line, sizeof(line), "%c %s", (char)change, path);
	json_array_append_new(c->list, json_string(line));
	if (c->pl->text && c->n <= 50)
		printf("    %s\n", line);
	return 0;
}

static json_t *
str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static int
plan_stop_backup(struct cli *cli, const struct run_opts *o, struct plan *pl)
{
	const struct ir_config *cfg = cli->cfg;
	pid_t pids[IR_LIMIT_PIDS];
	size_t n = 0, i;
	json_t *s, *paths;
	int rc;

	rc = ir_proc_find(cfg->stop_process, pids, IR_LIMIT_PIDS, &n,
			  &cli->ctx);
	if (rc)
		return rc;
	s = plan_step(pl, "stop", n > 0);
	json_object_set_new(s, "processes", json_integer((json_int_t)n));
	json_object_set_new(s, "match", json_string(cfg->stop_process));
	json_object_set_new(s, "command", str_or_null(cfg->stop_command));
	json_object_set_new(s, "escalate", str_or_null(cfg->stop_escalate));
	json_object_set_new(s, "budget_ms",
			    json_integer((json_int_t)cfg->stop_budget_ms));
	if (pl->text) {
		printf("1. stop      trading active? %s (%zu process%s match "
		       "\"%s\")\n",
		       n ? "yes" : "no", n, n == 1 ? "" : "es",
		       cfg->stop_process);
		if (n)
			printf("             would run: %s (budget %llus), "
			       "escalate: %s\n",
			       cfg->stop_command,
			       (unsigned long long)cfg->stop_budget_ms / 1000,
			       cfg->stop_escalate);
		printf("2. backup    data at risk? %s\n",
		       o->no_backup ? "no (--no-backup)" : "yes");
	}
	s = plan_step(pl, "backup", !o->no_backup);
	paths = json_array();
	for (i = 0; i < cfg->n_backup_paths; i++)
		json_array_append_new(paths, json_string(cfg->backup_paths[i]));
	json_object_set_new(s, "paths", paths);
	json_object_set_new(s, "database_dump",
			    json_boolean(cfg->database_dump != NULL));
	json_object_set_new(s, "into", json_sprintf("%s/archives/",
						    cli->data_dir));
	if (pl->text && !o->no_backup) {
		printf("             would archive:");
		for (i = 0; i < cfg->n_backup_paths; i++)
			printf(" %s", cfg->backup_paths[i]);
		printf(" + git state%s into %s/archives/\n",
		       cfg->database_dump ? " + database dump" : "",
		       cli->data_dir);
	}
	return 0;
}

static void
plan_checkout(struct cli *cli, const struct run_opts *o, struct plan *pl,
	      const struct preflight *p)
{
	const struct ir_target *t = &p->t;
	json_t *s = plan_step(pl, "checkout", true), *sk = json_array();
	json_t *cf = json_array();
	const char *c = p->conflicts.len ? (const char *)p->conflicts.data : "";
	size_t i;

	json_object_set_new(s, "force", json_boolean(o->force));
	for (i = 0; t->skipped && i < t->skipped->as.arr.len; i++) {
		const struct ir_val *m = &t->skipped->as.arr.items[i];
		json_t *e = json_object();

		json_object_set_new(e, "tag",
				    json_string(ir_val_get_str(m, "tag")));
		json_object_set_new(e, "why",
				    json_string(ir_val_get_str(m, "why")));
		json_array_append_new(sk, e);
	}
	while (*c) {
		const char *nl = strchr(c, '\n');
		size_t len = nl ? (size_t)(nl - c) : strlen(c);

		json_array_append_new(cf, json_stringn(c, len));
		c += len + (nl ? 1 : 0);
	}
	json_object_set_new(pl->j, "from", json_string(t->from));
	json_object_set_new(pl->j, "from_commit", json_string(t->from_commit));
	json_object_set_new(pl->j, "to", json_string(t->to));
	json_object_set_new(pl->j, "to_commit", json_string(t->to_commit));
	json_object_set_new(pl->j, "why", json_string(t->why));
	json_object_set_new(pl->j, "note", json_string(t->note));
	json_object_set_new(pl->j, "known_bad", json_boolean(t->known_bad));
	json_object_set_new(pl->j, "skipped", sk);
	json_object_set_new(pl->j, "conflicts", cf);
	if (!pl->text)
		return;
	printf("3. checkout  %s -> %s (%.7s -> %.7s): %s\n",
	       t->from[0] ? t->from : "HEAD", t->to, t->from_commit,
	       t->to_commit, t->why);
	if (t->note[0])
		printf("             note: %s\n", t->note);
	for (i = 0; i < json_array_size(sk); i++) {
		json_t *e = json_array_get(sk, i);

		printf("             skipped %s: %s\n",
		       json_string_value(json_object_get(e, "tag")),
		       json_string_value(json_object_get(e, "why")));
	}
	if (p->n_conflicts)
		printf("             local changes in the way (%s): %zu\n",
		       o->force ? "--force overwrites them after the backup"
				: "the rollback refuses",
		       p->n_conflicts);
	for (i = 0; i < json_array_size(cf) && i < 50; i++)
		printf("    ! %s\n", json_string_value(json_array_get(cf, i)));
}

static int
plan_config(struct cli *cli, struct plan *pl, const char *to)
{
	const struct ir_config *cfg = cli->cfg;
	struct change_walk c = { pl, json_array(), 0 };
	char *tmpl = NULL, src[4096], dst[4096];
	json_t *s;
	int rc = 0;

	tmpl = ir_runbook_expand(cfg->config_backup, to);
	if (!tmpl) {
		json_decref(c.list);
		return -ENOMEM;
	}
	if (tmpl[0] == '/')
		snprintf(src, sizeof(src), "%s", tmpl);
	else
		snprintf(src, sizeof(src), "%s/%s", cfg->deploy_dir, tmpl);
	snprintf(dst, sizeof(dst), "%s/%s", cfg->deploy_dir, cfg->config_dir);
	free(tmpl);
	s = plan_step(pl, "config", !access(src, F_OK));
	json_object_set_new(s, "path", json_string(cfg->config_dir));
	json_object_set_new(s, "source", json_string(src));
	if (access(src, F_OK)) {
		json_decref(c.list);
		if (pl->text)
			printf("4. config    no config backup at %s: skipped\n",
			       src);
		return 0;
	}
	if (pl->text)
		printf("4. config    %s from %s; changes:\n", cfg->config_dir,
		       src);
	rc = ir_files_diff(src, dst, print_change, &c, &cli->ctx);
	if (rc == -ENOTDIR || rc == -EINVAL) {
		if (pl->text)
			printf("    (an archive: extracted over %s)\n",
			       cfg->config_dir);
		json_object_set_new(s, "archive", json_true());
		rc = 0;
	} else if (!rc) {
		json_object_set_new(s, "archive", json_false());
		if (pl->text && !c.n)
			printf("    (none: already identical)\n");
		else if (pl->text && c.n > 50)
			printf("    ... and %u more\n", c.n - 50);
	}
	json_object_set_new(s, "changes", c.list);
	json_object_set_new(s, "changes_total", json_integer(c.n));
	return rc;
}

static void
plan_rest(struct cli *cli, const struct run_opts *o, struct plan *pl)
{
	const struct ir_config *cfg = cli->cfg;
	bool db = cfg->database_restore &&
		  (o->with_db || cfg->database_on_rollback);
	json_t *s;

	s = plan_step(pl, "database", db);
	json_object_set_new(s, "command",
			    str_or_null(db ? cfg->database_restore : NULL));
	s = plan_step(pl, "start", true);
	json_object_set_new(s, "command", str_or_null(cfg->start_command));
	json_object_set_new(s, "budget_ms",
			    json_integer((json_int_t)cfg->start_budget_ms));
	s = plan_step(pl, "health", true);
	json_object_set_new(s, "url", str_or_null(cfg->health_url));
	json_object_set_new(s, "expect_status",
			    json_integer(cfg->health_expect_status));
	json_object_set_new(s, "expect_body",
			    str_or_null(cfg->health_expect_body));
	s = plan_step(pl, "verify", true);
	json_object_set_new(s, "log", str_or_null(cfg->verify_log));
	json_object_set_new(s, "lines", json_integer(cfg->verify_lines));
	s = plan_step(pl, "report", true);
	json_object_set_new(s, "path", json_sprintf("%s/reports/INC-<n>.md",
						    cli->data_dir));
	if (!pl->text)
		return;
	if (db)
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
}

/* The plan, with nothing changed; exit 2 when the run would refuse. */
static int
dry_run(struct cli *cli, struct run_opts *o, uint64_t open_id)
{
	struct plan pl = { json_object(), json_array(), !cli->json };
	struct preflight p;
	int rc;

	json_object_set_new(pl.j, "dry_run", json_true());
	json_object_set_new(pl.j, "deploy_dir",
			    json_string(cli->cfg->deploy_dir));
	json_object_set_new(pl.j, "resume",
			    open_id ? json_integer((json_int_t)open_id)
				    : json_null());
	if (pl.text)
		printf("dry run: nothing will be changed\n\n");
	if (pl.text && open_id)
		printf("would resume interrupted INC-%llu\n\n",
		       (unsigned long long)open_id);
	rc = plan_stop_backup(cli, o, &pl);
	if (!rc)
		rc = preflight(cli, o, &p);
	if (rc) {
		json_decref(pl.steps);
		json_decref(pl.j);
		return cli_fail(cli, rc);
	}
	plan_checkout(cli, o, &pl, &p);
	rc = plan_config(cli, &pl, p.t.to);
	if (!rc)
		plan_rest(cli, o, &pl);
	json_object_set_new(pl.j, "steps", pl.steps);
	json_object_set_new(pl.j, "blocked",
			    p.blocked[0] ? json_string(p.blocked) : json_null());
	if (!rc && pl.text && p.blocked[0])
		printf("\nwould refuse: %s\n", p.blocked);
	if (!rc && !pl.text)
		cli_print_json(pl.j);
	else
		json_decref(pl.j);
	if (!rc && p.blocked[0]) {
		refuse(cli, p.blocked);
		preflight_clear(&p);
		return IR_EXIT_USAGE;
	}
	preflight_clear(&p);
	return rc ? cli_fail(cli, rc) : IR_EXIT_OK;
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

struct fold_walk {
	struct ir_state st;
};

static int
fold_one(void *payload, const struct ir_event *ev, const void *raw,
	 size_t len)
{
	struct fold_walk *f = payload;

	(void)raw;
	(void)len;
	ir_state_apply(&f->st, ev);
	return 0;
}

/* An open rollback resumes on its own target: a TAG that is not it is
 * refused (exit 2), naming the incident and the ways on. */
static int
check_open(struct cli *cli, uint64_t id, const struct run_opts *o)
{
	struct fold_walk f;
	unsigned long long n = (unsigned long long)id;
	const char *target;
	int rc;

	ir_state_init(&f.st);
	rc = ir_evlog_scan(cli->log, id, 1, IR_EVLOG_DECODE, fold_one, &f,
			   &cli->ctx);
	if (rc)
		return rc;
	target = f.st.target[0] ? f.st.target : f.st.opt_tag;
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

/* A --reason given on resume is kept as a note on the incident (the one
 * it was opened with stands). */
static int
note_reason(struct cli *cli, uint64_t id, const char *reason)
{
	struct ir_rec *rec = NULL;
	struct ir_val *d = ir_val_map_new();
	char actor[300], text[IR_LIMIT_STRING + 64];
	int rc;

	cli_actor(actor, sizeof(actor));
	snprintf(text, sizeof(text), "resumed with --reason: %s", reason);
	ir_val_set_str(d, "author", actor);
	ir_val_set_str(d, "text", text);
	rc = ir_rec_new(&rec, cli->log, &ir_effects_real);
	if (!rc)
		rc = ir_rec_attach(rec, id, &cli->ctx);
	if (!rc) {
		rc = ir_rec_emit(rec, "note", NULL, d, &cli->ctx);
		d = NULL;
	}
	ir_val_free(d);
	ir_rec_free(rec);
	return rc;
}

int
cmd_rollback(struct cli *cli)
{
	struct run_opts o = { .kind = "rollback" };
	struct open_walk w = { "rollback", 0 };
	char question[1800];
	int rc = prepare(cli, &o, true);

	if (rc)
		return rc;
	if (o.with_db && !cli->cfg->database_restore)
		return cli_usage(cli, "--with-db needs database.restore in "
				      "the configuration");
	rc = ir_evlog_incidents(cli->log, find_open, &w, &cli->ctx);
	if (!rc && w.id)
		rc = check_open(cli, w.id, &o);
	if (rc)
		return cli_fail(cli, rc);
	if (o.tag && !w.id) {
		rc = cli_check_tag(cli, o.tag);
		if (rc)
			return cli_fail(cli, rc);
	}
	if (o.dry_run)
		return dry_run(cli, &o, w.id);
	if (w.id) {
		snprintf(question, sizeof(question),
			 "Resume interrupted rollback INC-%llu of %s?",
			 (unsigned long long)w.id, cli->cfg->deploy_dir);
	} else {
		/* Pre-flight: with no target to roll back to, or a checkout
		 * that would stop on local changes, stopping trading would
		 * only do harm.  Nothing is changed yet. */
		struct preflight p;
		char paths[600];

		rc = preflight(cli, &o, &p);
		if (!rc && p.blocked[0]) {
			refuse(cli, p.blocked);
			preflight_clear(&p);
			return IR_EXIT_USAGE;
		}
		if (rc) {
			preflight_clear(&p);
			cli->ctx.err.origin = IR_ORIGIN_USAGE;
			return cli_fail(cli, rc);
		}
		conflict_list(&p, paths, sizeof(paths));
		snprintf(question, sizeof(question),
			 "Roll back %s from %s to %s now?%s%s%s%s%s",
			 cli->cfg->deploy_dir,
			 p.t.from[0] ? p.t.from : "HEAD", p.t.to,
			 p.t.note[0] ? " (" : "", p.t.note,
			 p.t.note[0] ? ")" : "",
			 p.n_conflicts ? " --force overwrites local changes "
					 "after the backup: "
				       : "",
			 p.n_conflicts ? paths : "");
		preflight_clear(&p);
	}
	rc = cli_confirm(cli, o.yes, question);
	if (!rc && w.id && o.reason)
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
