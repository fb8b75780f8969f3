/* Commands that read the log (and note, which only appends to it). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "gitops.h"
#include "health.h"
#include "hash.h"
#include "ir_limits.h"
#include "jsonval.h"
#include "proc.h"
#include "rec.h"
#include "replay.h"
#include "report.h"
#include "term.h"

/* Open the log and take the incident argument at argv[*i].  0, or the
 * exit code after the message is printed. */
static int
one_incident(struct cli *cli, int *i, uint64_t *id, const char *what)
{
	int rc;

	if (*i >= cli->argc || cli->argv[*i][0] == '-')
		return cli_usage(cli, "%s needs an incident (INC-7, 7 or last)",
				 what);
	rc = cli_open_log(cli);
	if (!rc)
		rc = cli_incident_arg(cli, cli->argv[*i], id);
	if (rc)
		return cli_fail(cli, rc);
	(*i)++;
	return 0;
}

static int
unexpected(struct cli *cli, int i)
{
	return cli_usage(cli, "unexpected argument \"%s\"", cli->argv[i]);
}

/* ---- list -------------------------------------------------------------- */

struct list_walk {
	struct cli *cli;
	json_t *arr;
	unsigned n;
};

static int
list_one(void *payload, const struct ir_incident *inc)
{
	struct list_walk *w = payload;
	char opened[32], dur[32] = "-";
	struct cli_mark mark;
	bool marked = !strcmp(inc->kind, "mark") &&
		      !cli_mark_of(w->cli, inc->id, &mark);

	cli_utc(opened, sizeof(opened), inc->opened);
	if (inc->closed)
		snprintf(dur, sizeof(dur), "%.1fs",
			 (double)(inc->closed - inc->opened) / 1e9);
	if (w->arr) {
		json_t *j = json_object();
		char head[IR_SHA256_HEX];

		ir_hex(head, inc->head, sizeof(inc->head));
		json_object_set_new(j, "id", json_integer((json_int_t)inc->id));
		json_object_set_new(j, "kind", json_string(inc->kind));
		json_object_set_new(j, "status", json_string(inc->status));
		json_object_set_new(j, "opened", json_string(opened));
		if (inc->closed) {
			char closed[32];

			cli_utc(closed, sizeof(closed), inc->closed);
			json_object_set_new(j, "closed", json_string(closed));
			json_object_set_new(
				j, "duration_ms",
				json_integer((inc->closed - inc->opened) /
					     1000000));
		} else {
			json_object_set_new(j, "closed", json_null());
		}
		json_object_set_new(j, "from", json_string(inc->from));
		json_object_set_new(j, "to", json_string(inc->target));
		if (marked) {
			json_t *m = json_object();

			json_object_set_new(m, "tag", json_string(mark.tag));
			json_object_set_new(m, "as", json_string(mark.as));
			json_object_set_new(m, "reason",
					    json_string(mark.reason));
			json_object_set_new(j, "mark", m);
		}
		json_object_set_new(j, "events",
				    json_integer((json_int_t)inc->events));
		json_object_set_new(j, "head", json_string(head));
		json_array_append_new(w->arr, j);
	} else {
		if (!w->n)
			printf("%-8s %-9s %-10s %-21s %8s  %s\n", "ID", "KIND",
			       "STATUS", "OPENED", "DURATION", "FROM -> TO");
		if (marked)
			printf("INC-%-4llu %-9s %-10s %-21s %8s  %s marked "
			       "%s\n",
			       (unsigned long long)inc->id, inc->kind,
			       inc->status, opened, dur, mark.tag, mark.as);
		else
			printf("INC-%-4llu %-9s %-10s %-21s %8s  %s%s%s\n",
			       (unsigned long long)inc->id, inc->kind,
			       inc->status, opened, dur, inc->from,
			       inc->target[0] ? " -> " : "", inc->target);
	}
	w->n++;
	return 0;
}

int
cmd_list(struct cli *cli)
{
	struct list_walk w = { cli, NULL, 0 };
	int rc;

	if (cli->argc > 1)
		return unexpected(cli, 1);
	rc = cli_open_log(cli);
	if (rc)
		return cli_fail(cli, rc);
	if (cli->json)
		w.arr = json_array();
	rc = ir_evlog_incidents(cli->log, list_one, &w, &cli->ctx);
	if (rc) {
		json_decref(w.arr);
		return cli_fail(cli, rc);
	}
	if (w.arr)
		cli_print_json(w.arr);
	else if (!w.n)
		printf("no incidents recorded\n");
	return IR_EXIT_OK;
}

/* ---- show, timeline, report, stats -------------------------------------- */

/* --at +DURATION: the config's durations; a bare number is seconds. */
static int
at_parse(const char *v, uint64_t *ms)
{
	char buf[64];

	if (*v == '+')
		v++;
	if (*v && strspn(v, "0123456789.") == strlen(v)) {
		if (snprintf(buf, sizeof(buf), "%ss", v) >= (int)sizeof(buf))
			return -ERANGE;
		v = buf;
	}
	return ir_duration_parse(v, ms);
}

int
cmd_show(struct cli *cli)
{
	int64_t at = -1;
	uint64_t id, ms;
	int i = 1, rc, code;

	code = one_incident(cli, &i, &id, "show");
	if (code)
		return code;
	for (; i < cli->argc; i++) {
		const char *v;
		int r = cli_value(cli, &i, "--at", &v);

		if (r < 0)
			return IR_EXIT_USAGE;
		if (!r)
			return unexpected(cli, i);
		r = at_parse(v, &ms);
		if (r == -ERANGE)
			return cli_usage(cli, "--at \"%s\" is too far: at most "
					      "%lluh", v,
					 (unsigned long long)(IR_DURATION_MAX_MS /
							      3600000));
		if (r)
			return cli_usage(cli, "--at takes a duration like "
					      "+90s, +0.2s, +1.5m, +250ms or "
					      "+2m30s, not \"%s\"", v);
		at = (int64_t)ms;
	}
	rc = ir_report_show(stdout, cli->log, id, at, cli->json, &cli->ctx);
	return cli_read_done(cli, rc);
}

int
cmd_timeline(struct cli *cli)
{
	uint64_t id;
	int i = 1, code;

	code = one_incident(cli, &i, &id, "timeline");
	if (code)
		return code;
	if (i < cli->argc)
		return unexpected(cli, i);
	if (cli->json)
		return cli_read_done(cli, ir_report_timeline_json(
					     stdout, cli->log, id, &cli->ctx));
	return cli_read_done(cli, ir_term_timeline(stdout, cli->log, id,
						   cli->color, &cli->ctx));
}

int
cmd_report(struct cli *cli)
{
	enum ir_report_format fmt = IR_REPORT_MD;
	const char *out_path = NULL;
	struct cli_output o;
	FILE *out = stdout;
	uint64_t id;
	int i = 1, rc, code;

	code = one_incident(cli, &i, &id, "report");
	if (code)
		return code;
	if (cli->json)
		fmt = IR_REPORT_JSON;
	for (; i < cli->argc; i++) {
		const char *v;
		int r = cli_value(cli, &i, "--format", &v);

		if (r < 0)
			return IR_EXIT_USAGE;
		if (r) {
			if (!strcmp(v, "md") || !strcmp(v, "markdown"))
				fmt = IR_REPORT_MD;
			else if (!strcmp(v, "html"))
				fmt = IR_REPORT_HTML;
			else if (!strcmp(v, "json"))
				fmt = IR_REPORT_JSON;
			else
				return cli_usage(cli, "--format is md, html or "
						      "json, not \"%s\"",
						 v);
			continue;
		}
		r = cli_value(cli, &i, "-o", &v);
		if (r < 0)
			return IR_EXIT_USAGE;
		if (!r)
			return unexpected(cli, i);
		out_path = v;
	}
	if (out_path) {
		rc = cli_output_open(cli, &o, out_path);
		if (rc)
			return cli_fail(cli, rc);
		out = o.f;
	}
	rc = ir_report_write(out, cli->log, id, fmt, &cli->ctx);
	if (out_path) {
		rc = cli_output_close(cli, &o, rc);
		if (!rc && strcmp(out_path, "-"))
			fprintf(stderr, "report written to %s\n", out_path);
	}
	return out_path && strcmp(out_path, "-") ? cli_fail(cli, rc)
						 : cli_read_done(cli, rc);
}

int
cmd_stats(struct cli *cli)
{
	int rc;

	if (cli->argc > 1)
		return unexpected(cli, 1);
	rc = cli_open_log(cli);
	if (!rc)
		rc = ir_report_stats(stdout, cli->log, cli->json, &cli->ctx);
	return cli_read_done(cli, rc);
}

/* ---- replay ------------------------------------------------------------ */

static void
replay_event(void *payload, const struct ir_event *ev)
{
	ir_term_event(payload, ev);
}

static void
replay_tick(void *payload, uint64_t mono)
{
	ir_term_tick(payload, mono);
}

/* replay --json: each event as one JSON line, when the replay reaches it. */
static void
replay_json(void *payload, const struct ir_event *ev)
{
	json_t *j = ir_jsonval_event(ev);

	(void)payload;
	if (!j)
		return;
	json_dumpf(j, stdout, JSON_SORT_KEYS | JSON_COMPACT);
	fputc('\n', stdout);
	fflush(stdout);
	json_decref(j);
}

static void
replay_no_tick(void *payload, uint64_t mono)
{
	(void)payload;
	(void)mono;
}

static int
parse_number(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

int
cmd_replay(struct cli *cli)
{
	struct ir_replay_opts opts = IR_REPLAY_OPTS_INIT;
	struct ir_term_opts topts = { stdout, cli->tty_out, cli->color };
	struct ir_term *term;
	uint64_t id;
	int i = 1, rc, code;

	code = one_incident(cli, &i, &id, "replay");
	if (code)
		return code;
	for (; i < cli->argc; i++) {
		const char *v;
		int r = cli_value(cli, &i, "--speed", &v);

		if (r < 0)
			return IR_EXIT_USAGE;
		if (r) {
			if (parse_number(v, &opts.speed) || opts.speed <= 0 ||
			    opts.speed > 1e6)
				return cli_usage(cli, "--speed takes a number "
						      "above 0, like 10");
			continue;
		}
		r = cli_value(cli, &i, "--max-idle", &v);
		if (r < 0)
			return IR_EXIT_USAGE;
		if (!r)
			return unexpected(cli, i);
		if (parse_number(v, &opts.max_idle) || opts.max_idle < 0)
			return cli_usage(cli, "--max-idle takes seconds, like "
					      "2 or 0.5");
	}
	term = ir_term_new(&topts);
	if (!term)
		return cli_fail(cli, -ENOMEM);
	opts.on_event = cli->json ? replay_json : replay_event;
	opts.on_tick = cli->json ? replay_no_tick : replay_tick;
	opts.payload = term;
	rc = ir_replay_run(cli->log, id, &opts, &cli->ctx);
	if (!cli->json)
		ir_term_finish(term);
	ir_term_free(term);
	return cli_fail(cli, rc);
}

/* ---- note -------------------------------------------------------------- */

int
cmd_note(struct cli *cli)
{
	struct ir_incident inc;
	struct ir_rec *rec = NULL;
	const char *text = NULL;
	struct ir_val *d;
	char actor[300];
	uint64_t id, corrects = 0;
	int i = 1, rc, code;

	code = one_incident(cli, &i, &id, "note");
	if (code)
		return code;
	for (; i < cli->argc; i++) {
		const char *v;
		int r = cli_value(cli, &i, "--corrects", &v);

		if (r < 0)
			return IR_EXIT_USAGE;
		if (r) {
			char *end;

			corrects = strtoull(v, &end, 10);
			if (!*v || *end || !corrects)
				return cli_usage(cli, "--corrects takes the "
						      "seq of an event");
		} else if (!text) {
			text = cli->argv[i];
		} else {
			return unexpected(cli, i);
		}
	}
	if (!text || !*text)
		return cli_usage(cli, "note needs a text");
	if (strlen(text) > IR_LIMIT_STRING)
		return cli_usage(cli, "the note is longer than %d bytes",
				 IR_LIMIT_STRING);
	rc = ir_evlog_incident(cli->log, id, &inc, &cli->ctx);
	if (rc)
		return cli_fail(cli, rc);
	if (corrects > inc.events)
		return cli_usage(cli, "INC-%llu has no event %llu",
				 (unsigned long long)id,
				 (unsigned long long)corrects);
	cli_actor(actor, sizeof(actor));
	d = ir_val_map_new();
	ir_val_set_str(d, "author", actor);
	ir_val_set_str(d, "text", text);
	if (corrects)
		ir_val_set_uint(d, "corrects", corrects);
	/* No lock: a note may be added while the incident runs; LMDB
	 * serialises the writers and each append reads the current head. */
	rc = ir_rec_new(&rec, cli->log, &ir_effects_real);
	if (!rc)
		rc = ir_rec_attach(rec, id, &cli->ctx);
	if (!rc) {
		rc = ir_rec_emit(rec, "note", NULL, d, &cli->ctx);
		d = NULL;
	}
	ir_val_free(d);
	if (!rc && cli->json) {
		json_t *j = json_object();

		json_object_set_new(j, "id", json_integer((json_int_t)id));
		json_object_set_new(
			j, "seq",
			json_integer((json_int_t)ir_rec_state(rec)->last_seq));
		cli_print_json(j);
	} else if (!rc) {
		fprintf(stderr, "note added to INC-%llu\n",
			(unsigned long long)id);
	}
	ir_rec_free(rec);
	return cli_fail(cli, rc);
}

/* ---- verify ------------------------------------------------------------ */

static int
count_event(void *payload, const struct ir_event *ev, const void *raw,
	    size_t len)
{
	(*(uint64_t *)payload)++;
	return 0;
}

struct verify_walk {
	struct cli *cli;
	json_t *arr;
	unsigned ok, bad;
	uint64_t first_bad;
	char first_msg[256];
};

static int
verify_one(struct verify_walk *w, uint64_t id)
{
	struct ir_ctx ctx = { 0 };
	struct ir_incident inc;
	uint64_t n = 0;
	char head[IR_SHA256_HEX];
	int rc;

	rc = ir_evlog_incident(w->cli->log, id, &inc, &ctx);
	if (!rc)
		rc = ir_evlog_scan(w->cli->log, id, 1, IR_EVLOG_CHAIN,
				   count_event, &n, &ctx);
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
		json_object_set_new(j, "events", json_integer((json_int_t)n));
		json_object_set_new(j, "head", json_string(head));
		if (rc)
			json_object_set_new(j, "error",
					    json_string(ir_error_msg(&ctx, rc)));
		json_array_append_new(w->arr, j);
	} else if (rc) {
		printf("INC-%llu  BAD  %s\n", (unsigned long long)id,
		       ir_error_msg(&ctx, rc));
	} else {
		printf("INC-%llu  ok   %llu events, head %.16s\n",
		       (unsigned long long)id, (unsigned long long)n, head);
	}
	return 0;
}

static int
verify_walk_one(void *payload, const struct ir_incident *inc)
{
	return verify_one(payload, inc->id);
}

int
cmd_verify(struct cli *cli)
{
	struct verify_walk w = { cli, NULL, 0, 0, 0, "" };
	uint64_t id = 0;
	int i = 1, rc;

	if (cli->argc > 2)
		return unexpected(cli, 2);
	if (cli->argc == 2) {
		int code = one_incident(cli, &i, &id, "verify");

		if (code)
			return code;
	} else {
		rc = cli_open_log(cli);
		if (rc)
			return cli_fail(cli, rc);
	}
	if (cli->json)
		w.arr = json_array();
	if (id)
		rc = verify_one(&w, id);
	else
		rc = ir_evlog_incidents(cli->log, verify_walk_one, &w,
					&cli->ctx);
	if (w.arr) {
		json_t *j = json_object();

		json_object_set_new(j, "ok", json_boolean(!w.bad && !rc));
		json_object_set_new(j, "incidents", w.arr);
		cli_print_json(j);
	}
	if (rc)
		return cli_fail(cli, rc);
	if (w.bad) {
		fprintf(stderr, "incident verify: INC-%llu: %s\n",
			(unsigned long long)w.first_bad, w.first_msg);
		return IR_EXIT_FAILED;
	}
	if (!cli->json)
		printf("%u incident%s verified\n", w.ok, w.ok == 1 ? "" : "s");
	return IR_EXIT_OK;
}

/* ---- export ------------------------------------------------------------ */

int
cmd_export(struct cli *cli)
{
	const char *format = NULL, *out_path = "-";
	struct cli_output o;
	uint64_t id;
	int i = 1, rc, code;

	code = one_incident(cli, &i, &id, "export");
	if (code)
		return code;
	for (; i < cli->argc; i++) {
		int r = cli_value(cli, &i, "--format", &format);

		if (!r)
			r = cli_value(cli, &i, "-o", &out_path);
		if (r < 0)
			return IR_EXIT_USAGE;
		if (!r)
			return unexpected(cli, i);
	}
	if (!format)
		return cli_usage(cli, "export needs --format jsonl");
	if (strcmp(format, "jsonl"))
		return cli_usage(cli, "unknown export format \"%s\" (jsonl)",
				 format);
	rc = cli_output_open(cli, &o, out_path);
	if (rc)
		return cli_fail(cli, rc);
	rc = ir_export_jsonl(o.f, cli->log, id, &cli->ctx);
	return cli_read_done(cli, cli_output_close(cli, &o, rc));
}

/* ---- status and tags ----------------------------------------------------- */

struct open_any {
	uint64_t id;
	char kind[16];
};

static int
find_open_any(void *payload, const struct ir_incident *inc)
{
	struct open_any *o = payload;

	if (strcmp(inc->status, "open"))
		return 0;
	o->id = inc->id;
	snprintf(o->kind, sizeof(o->kind), "%s", inc->kind);
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
	struct open_any open = { 0, "" };
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
		return unexpected(cli, 1);
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
		return unexpected(cli, 1);
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
