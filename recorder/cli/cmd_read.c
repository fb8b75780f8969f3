/* Commands that read the log (and note, which only appends to it). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cast.h"
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

/* ---- list -------------------------------------------------------------- */

struct list_walk {
	struct cli *cli;
	json_t *arr;
	unsigned n;
};

static int
first_source(void *payload, const struct ir_event *ev, const void *raw,
	     size_t len)
{
	*(uint64_t *)payload = (uint64_t)ir_val_get_int(ev->data, "source", 0);
	return 1; /* incident.opened is all it needs */
}

/* The incident a drill was made from (0: not a drill). */
static uint64_t
drill_source(struct cli *cli, const struct ir_incident *inc)
{
	struct ir_ctx ignored = { 0 };
	uint64_t source = 0;

	if (strcmp(inc->kind, "drill") ||
	    ir_evlog_scan(cli->log, inc->id, 1, IR_EVLOG_DECODE, first_source,
			  &source, &ignored))
		return 0;
	return source;
}

static int
list_one(void *payload, const struct ir_incident *inc)
{
	struct list_walk *w = payload;
	char opened[32], dur[32] = "-";
	struct cli_mark mark;
	bool marked = !strcmp(inc->kind, "mark") &&
		      !cli_mark_of(w->cli, inc->id, &mark);
	uint64_t source = drill_source(w->cli, inc);

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
		if (source)
			json_object_set_new(j, "drill_of",
					    json_integer((json_int_t)source));
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
		else if (source)
			printf("INC-%-4llu %-9s %-10s %-21s %8s  drill of "
			       "INC-%llu\n",
			       (unsigned long long)inc->id, inc->kind,
			       inc->status, opened, dur,
			       (unsigned long long)source);
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
		return cli_unexpected(cli, 1);
	rc = cli_open_log_readonly(cli);
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

	code = cli_one_incident(cli, &i, &id, "show", true);
	if (code)
		return code;
	for (; i < cli->argc; i++) {
		const char *v;
		int r = cli_value(cli, &i, "--at", &v);

		if (r < 0)
			return IR_EXIT_USAGE;
		if (!r)
			return cli_unexpected(cli, i);
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

	code = cli_one_incident(cli, &i, &id, "timeline", true);
	if (code)
		return code;
	if (i < cli->argc)
		return cli_unexpected(cli, i);
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
	unsigned flags = 0;
	uint64_t id;
	int i = 1, rc, code;

	code = cli_one_incident(cli, &i, &id, "report", true);
	if (code)
		return code;
	if (cli->json)
		fmt = IR_REPORT_JSON;
	for (; i < cli->argc; i++) {
		const char *v;
		int r;

		if (!strcmp(cli->argv[i], "--full")) {
			flags |= IR_REPORT_FULL;
			continue;
		}
		r = cli_value(cli, &i, "--format", &v);
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
			return cli_unexpected(cli, i);
		out_path = v;
	}
	if (out_path) {
		rc = cli_output_open(cli, &o, out_path);
		if (rc)
			return cli_fail(cli, rc);
		out = o.f;
	}
	rc = ir_report_write_flags(out, cli->log, id, fmt, flags, &cli->ctx);
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
		return cli_unexpected(cli, 1);
	rc = cli_open_log_readonly(cli);
	if (!rc)
		rc = ir_report_stats(stdout, cli->log, cli->json, &cli->ctx);
	return cli_read_done(cli, rc);
}

/* ---- replay ------------------------------------------------------------ */

/* The live display, and whether to wait for the space bar at a marker. */
struct replay_view {
	struct ir_term *term;
	bool redraw; /* the display redraws in place */
	bool pause;
	const char *label; /* the marker paused at */
};

static void
replay_event(void *payload, const struct ir_event *ev)
{
	struct replay_view *v = payload;

	ir_term_event(v->term, ev);
}

static void
replay_tick(void *payload, uint64_t mono)
{
	struct replay_view *v = payload;

	ir_term_tick(v->term, mono);
}

static void
replay_prompt(void *payload)
{
	struct replay_view *v = payload;

	ir_term_marker(v->term, v->label, true);
}

/* The display shows the marker; with --pause-at-markers on a terminal it
 * says it waits and waits (a terminal gone ends the pauses). */
static void
replay_marker(void *payload, uint64_t mono, const char *label)
{
	struct replay_view *v = payload;

	(void)mono;
	if (!v->pause) {
		ir_term_marker(v->term, label, false);
		return;
	}
	v->label = label;
	if (cli_pause_wait(replay_prompt, v))
		v->pause = false;
	/* A redrawn display takes the note back; a plain line stands. */
	if (v->redraw)
		ir_term_marker(v->term, label, false);
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

int
cmd_replay(struct cli *cli)
{
	struct ir_replay_opts opts = IR_REPLAY_OPTS_INIT;
	struct ir_term_opts topts = { stdout, cli->tty_out, cli->color };
	struct replay_view view = { NULL, cli->tty_out, false, NULL };
	bool pause = false;
	uint64_t id;
	int i = 1, rc, code;

	code = cli_one_incident(cli, &i, &id, "replay", true);
	if (code)
		return code;
	for (; i < cli->argc; i++) {
		int r;

		if (cli_flag(cli, &i, "--pause-at-markers")) {
			pause = true;
			continue;
		}
		r = cli_pace(cli, &i, &opts.speed, &opts.max_idle);
		if (r < 0)
			return IR_EXIT_USAGE;
		if (!r)
			return cli_unexpected(cli, i);
	}
	view.term = ir_term_new(&topts);
	if (!view.term)
		return cli_fail(cli, -ENOMEM);
	/* Without a terminal to show the pause and take the key, the
	 * replay runs through (TERM=dumb pauses, on plain lines). */
	view.pause = pause && !cli->json && isatty(STDOUT_FILENO) &&
		     cli_pause_open();
	opts.on_event = cli->json ? replay_json : replay_event;
	opts.on_tick = cli->json ? replay_no_tick : replay_tick;
	opts.on_marker = cli->json ? NULL : replay_marker;
	opts.payload = &view;
	rc = ir_replay_run(cli->log, id, &opts, &cli->ctx);
	if (!cli->json)
		ir_term_finish(view.term);
	cli_pause_close();
	ir_term_free(view.term);
	return cli_fail(cli, rc);
}

/* ---- note -------------------------------------------------------------- */

int
cmd_note(struct cli *cli)
{
	struct ir_incident inc;
	const char *text = NULL;
	struct ir_val *d;
	char actor[300];
	uint64_t id, corrects = 0, seq = 0;
	int i = 1, rc, code;

	code = cli_one_incident(cli, &i, &id, "note", false);
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
			return cli_unexpected(cli, i);
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
	rc = cli_append(cli, id, "note", d, &seq);
	if (!rc && cli->json) {
		json_t *j = json_object();

		json_object_set_new(j, "id", json_integer((json_int_t)id));
		json_object_set_new(j, "seq", json_integer((json_int_t)seq));
		cli_print_json(j);
	} else if (!rc) {
		fprintf(stderr, "note added to INC-%llu\n",
			(unsigned long long)id);
	}
	return cli_fail(cli, rc);
}

/* ---- export ------------------------------------------------------------ */

/* An integer option within [min, max]. */
static int
parse_int(const char *s, long min, long max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

/* An integer option: 1 when argv[*i] is name (its value in *out), 0 when
 * it is not, -EINVAL after a usage message. */
static int
int_option(struct cli *cli, int *i, const char *name, int min, int max,
	   const char *unit, int *out)
{
	const char *v;
	int r = cli_value(cli, i, name, &v);

	if (r > 0 && parse_int(v, min, max, out)) {
		cli_usage(cli, "%s takes %d to %d %s", name, min, max, unit);
		return -EINVAL;
	}
	return r;
}

/* export's asciicast options, as int_option(). */
static int
cast_option(struct cli *cli, int *i, struct ir_cast_opts *c)
{
	const char *v;
	int r = int_option(cli, i, "--cols", IR_CAST_MIN_COLS,
			   IR_CAST_MAX_COLS, "columns", &c->cols);

	if (!r)
		r = int_option(cli, i, "--rows", IR_CAST_MIN_ROWS,
			       IR_CAST_MAX_ROWS, "rows", &c->rows);
	if (r)
		return r;
	r = cli_value(cli, i, "--max-idle", &v);
	if (r > 0 && (cli_number(v, &c->max_idle) || !(c->max_idle > 0) ||
		      c->max_idle > IR_CAST_MAX_IDLE)) {
		cli_usage(cli, "--max-idle takes seconds above 0 (at most "
			       "%.0f), like 2 or 0.5",
			  IR_CAST_MAX_IDLE);
		return -EINVAL;
	}
	return r;
}

int
cmd_export(struct cli *cli)
{
	const char *format = NULL, *out_path = "-", *cast_arg = NULL;
	struct ir_cast_opts cast = IR_CAST_OPTS_INIT;
	struct cli_output o;
	uint64_t id;
	int i = 1, rc, code;

	code = cli_one_incident(cli, &i, &id, "export", true);
	if (code)
		return code;
	for (; i < cli->argc; i++) {
		const char *arg = cli->argv[i];
		int r = cli_value(cli, &i, "--format", &format);

		if (!r)
			r = cli_value(cli, &i, "-o", &out_path);
		if (!r) {
			r = cast_option(cli, &i, &cast);
			if (r > 0)
				cast_arg = arg;
		}
		if (r < 0)
			return IR_EXIT_USAGE;
		if (!r)
			return cli_unexpected(cli, i);
	}
	if (!format)
		return cli_usage(cli, "export needs --format jsonl or "
				      "asciicast");
	if (strcmp(format, "jsonl") && strcmp(format, "asciicast"))
		return cli_usage(cli, "unknown export format \"%s\" (jsonl, "
				      "asciicast)",
				 format);
	if (cast_arg && !strcmp(format, "jsonl"))
		return cli_usage(cli, "%.*s is an option of --format asciicast",
				 (int)strcspn(cast_arg, "="), cast_arg);
	rc = cli_output_open(cli, &o, out_path);
	if (rc)
		return cli_fail(cli, rc);
	if (!strcmp(format, "jsonl"))
		rc = ir_export_jsonl(o.f, cli->log, id, &cli->ctx);
	else
		rc = ir_export_asciicast(o.f, cli->log, id, &cast, &cli->ctx);
	return cli_read_done(cli, cli_output_close(cli, &o, rc));
}
