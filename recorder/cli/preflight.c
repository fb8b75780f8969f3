/*
 * The rollback's pre-flight and its plan: what `rollback` checks before it
 * changes anything, and what `rollback --dry-run` prints (as text, or one
 * JSON object with --json; docs/guide.md, "The plan as JSON").
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "decide.h"
#include "files.h"
#include "ir_limits.h"
#include "proc.h"
#include "runbook.h"

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

void
cli_preflight_clear(struct cli_preflight *p)
{
	ir_val_free(p->t.skipped);
	p->t.skipped = NULL;
	ir_buf_clear(&p->conflicts);
}

/* The conflicts as "a, b, c" (the first few). */
void
cli_conflict_list(const struct cli_preflight *p, char *out, size_t cap)
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

/* Everything the rollback checks before it changes anything.  0 with
 * p->blocked set when the run would refuse; a negative errno when the
 * target cannot be chosen at all. */
int
cli_preflight(struct cli *cli, const struct run_opts *o,
	      struct cli_preflight *p)
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
	cli_conflict_list(p, paths, sizeof(paths));
	if (p->t.known_bad && !o->force)
		ir_str_addf(p->blocked, sizeof(p->blocked),
			    "%s; give --force to roll back to it anyway",
			    p->t.note);
	if (p->n_conflicts && !o->force)
		ir_str_addf(p->blocked, sizeof(p->blocked),
			    "local change%s in %s would be overwritten by "
			    "the checkout of %s: %s (commit or stash %s, or "
			    "give --force: the backup archives %s first)",
			    p->n_conflicts == 1 ? "" : "s",
			    cli->cfg->deploy_dir, p->t.to, paths,
			    p->n_conflicts == 1 ? "it" : "them",
			    p->n_conflicts == 1 ? "it" : "them");
	else if (p->n_conflicts && o->no_backup)
		ir_str_addf(p->blocked, sizeof(p->blocked),
			    "--force would overwrite local changes (%s) that "
			    "--no-backup would not archive first; drop "
			    "--no-backup",
			    paths);
	return 0;
}

/* The pre-flight's refusal, which may be longer than an error message
 * holds: exit 2, nothing changed. */
void
cli_refuse(struct cli *cli, const char *why)
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

	struct ir_decide_input in = { .kind = "rollback" };
	struct ir_decision stop, backup;

	rc = ir_proc_find(cfg->stop_process, pids, IR_LIMIT_PIDS, &n,
			  &cli->ctx);
	if (rc)
		return rc;
	/* The executor's rules, over what is seen now. */
	in.trading = n;
	in.no_backup = o->no_backup;
	if (ir_decide(IR_STEP_STOP, &in, &stop) ||
	    ir_decide(IR_STEP_BACKUP, &in, &backup))
		return -EINVAL;
	s = plan_step(pl, "stop", stop.yes);
	json_object_set_new(s, "processes", json_integer((json_int_t)n));
	json_object_set_new(s, "match", json_string(cfg->stop_process));
	json_object_set_new(s, "command", str_or_null(cfg->stop_command));
	json_object_set_new(s, "escalate", str_or_null(cfg->stop_escalate));
	json_object_set_new(s, "budget_ms",
			    json_integer((json_int_t)cfg->stop_budget_ms));
	if (pl->text) {
		printf("1. stop      %s %s (%zu process%s match \"%s\")\n",
		       ir_question_of(IR_STEP_STOP)->question,
		       stop.yes ? "yes" : "no", n, n == 1 ? "" : "es",
		       cfg->stop_process);
		if (stop.yes)
			printf("             would run: %s (budget %llus), "
			       "escalate: %s\n",
			       cfg->stop_command,
			       (unsigned long long)cfg->stop_budget_ms / 1000,
			       cfg->stop_escalate);
		printf("2. backup    %s %s\n",
		       ir_question_of(IR_STEP_BACKUP)->question,
		       backup.yes ? "yes" : "no (--no-backup)");
	}
	s = plan_step(pl, "backup", backup.yes);
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
	      const struct cli_preflight *p)
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
	struct ir_decide_input in = {
		.kind = "rollback",
		.db_configured = cfg->database_restore != NULL,
		.with_db = o->with_db,
		.db_on_rollback = cfg->database_on_rollback,
	};
	struct ir_decision ans;
	bool db;
	json_t *s;

	db = !ir_decide(IR_STEP_DATABASE, &in, &ans) && ans.yes;

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
		printf("5. database  %s no (%s): skipped\n",
		       ir_question_of(IR_STEP_DATABASE)->question,
		       ans.because);
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
int
cli_dry_run(struct cli *cli, struct run_opts *o, uint64_t open_id)
{
	struct plan pl = { json_object(), json_array(), !cli->json };
	struct cli_preflight p;
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
	memset(&p, 0, sizeof(p));
	rc = plan_stop_backup(cli, o, &pl);
	if (!rc)
		rc = cli_preflight(cli, o, &p);
	if (rc) {
		cli_preflight_clear(&p);
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
		cli_refuse(cli, p.blocked);
		cli_preflight_clear(&p);
		return IR_EXIT_USAGE;
	}
	cli_preflight_clear(&p);
	return rc ? cli_fail(cli, rc) : IR_EXIT_OK;
}

