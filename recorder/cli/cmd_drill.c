/*
 * drill INC [--key FILE] [--blind] [--speed X] [--max-idle SECONDS]: a
 * recorded incident replayed as a training drill (replay/drill.h).  The
 * source plays on the display (stderr) at its timing; at each decision the
 * trainee answers (the terminal, or one line each on stdin) and the drill
 * records drill.asked, drill.looked, drill.hint and drill.answered in an
 * incident of its own (kind drill), then drill.scored.  The source is only
 * read, no deployment is touched, and the lock is not taken: a drill never
 * stands in a real rollback's way.
 */
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "drill.h"
#include "ir_limits.h"
#include "replay.h"
#include "term.h"

#define DRILL_POLL_MS 100

struct drill_run {
	struct cli *cli;
	struct ir_drill d;
	struct ir_rec *rec;
	struct ir_term *term;
	bool blind;
	double speed, max_idle;
	uint64_t last_mono; /* of the source event last shown */
	struct ir_drill_mark marks[IR_DRILL__COUNT * 2];
	size_t n_marks;
	bool backup_no;     /* the trainee skipped the backup */
	bool interrupted;
	bool eof;
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool
stop_asked(struct drill_run *r)
{
	if (!r->interrupted && cli_interrupted(NULL, NULL))
		r->interrupted = true;
	return r->interrupted;
}

/* Wait out the source's gap before ev (scaled, capped), in slices that
 * notice Ctrl-C. */
static void
wait_for(struct drill_run *r, const struct ir_event *ev)
{
	uint64_t gap = ev->mono > r->last_mono ? ev->mono - r->last_mono : 0;
	uint64_t until = now_ms() + ir_replay_gap_ns(r->speed, r->max_idle,
						     gap) / 1000000;

	while (!stop_asked(r) && now_ms() < until) {
		uint64_t left = until - now_ms();
		struct timespec ts = { 0, (long)(left < 50 ? left : 50) *
						  1000000L };

		nanosleep(&ts, NULL);
	}
	if (ev->mono > r->last_mono)
		r->last_mono = ev->mono;
}

static bool
is_gate(const struct ir_drill_point *p, size_t k)
{
	size_t g;

	for (g = 0; g < p->n_gates; g++)
		if (p->gates[g] == k)
			return true;
	return false;
}

/* Play the source from *k up to (not including) index end; blind: the
 * point's gating observations are held back. */
static void
play_to(struct drill_run *r, size_t *k, size_t end,
	const struct ir_drill_point *p)
{
	for (; *k < end && !stop_asked(r); (*k)++) {
		const struct ir_event *ev = &r->d.ev[*k];

		wait_for(r, ev);
		if (r->blind && p && is_gate(p, *k))
			continue;
		ir_term_event(r->term, ev);
	}
}

static int
emit(struct drill_run *r, const char *type, struct ir_val *d)
{
	return ir_rec_emit(r->rec, type, NULL, d, &r->cli->ctx);
}

static struct ir_val *
asked_data(const struct ir_drill_point *p)
{
	struct ir_val *d = ir_val_map_new();

	ir_val_set_str(d, "question", p->question);
	ir_val_set_str(d, "decision", ir_drill_q_name(p->q));
	ir_val_set_str(d, "step", p->step);
	ir_val_set_uint(d, "source_seq", p->seq);
	return d;
}

/* What the operator had seen by then: the gating observations. */
static void
show_seen(struct drill_run *r, const struct ir_drill_point *p)
{
	const struct ir_val *opts = ir_val_get(r->d.ev[0].data, "options");
	const struct ir_val *g =
		p->n_gates ? r->d.ev[p->gates[0]].data : NULL;
	size_t i;

	switch (p->q) {
	case IR_DRILL_STOP:
	case IR_DRILL_ESCALATE:
		fprintf(stderr, "  seen: %lld process(es) match \"%s\"\n",
			(long long)ir_val_get_int(g, "count", 0),
			ir_val_get_str(g, "pattern") ? ir_val_get_str(g,
								      "pattern")
						     : "?");
		break;
	case IR_DRILL_BACKUP:
		fprintf(stderr, "  seen: --no-backup %s\n",
			ir_val_get_bool(opts, "no_backup", false)
				? "was given"
				: "was not given");
		break;
	case IR_DRILL_DATABASE:
		fprintf(stderr,
			"  seen: database.restore %s, database.on-rollback "
			"%s, --with-db %s\n",
			ir_val_get_bool(g, "database_restore", false)
				? "configured"
				: "not configured",
			ir_val_get_bool(g, "on_rollback", false) ? "on"
								 : "off",
			ir_val_get_bool(opts, "with_db", false) ? "given"
								: "not given");
		break;
	case IR_DRILL_TARGET:
		fprintf(stderr, "  seen: the deploy tags, newest first:\n");
		for (i = 0; i < p->n_candidates; i++)
			fprintf(stderr, "    %zu) %s%s\n", i + 1,
				p->candidates[i],
				!strcmp(p->candidates[i], p->broken)
					? "  (deployed)"
					: "");
		break;
	default:
		break;
	}
}

/* One line of input, or false at the end of input or on Ctrl-C. */
static bool
read_answer(struct drill_run *r, char *line, size_t cap)
{
	struct pollfd pfd = { STDIN_FILENO, POLLIN, 0 };

	for (;;) {
		int n;

		if (stop_asked(r))
			return false;
		n = poll(&pfd, 1, DRILL_POLL_MS);
		if (n < 0 && errno != EINTR)
			return false;
		if (n > 0)
			break;
	}
	if (!fgets(line, (int)cap, stdin)) {
		r->eof = true;
		return false;
	}
	return true;
}

static void
mark(struct drill_run *r, const struct ir_drill_point *p,
     enum ir_drill_verdict v, uint64_t latency, unsigned hints)
{
	struct ir_drill_mark *m = &r->marks[r->n_marks++];

	m->q = p->q;
	m->verdict = v;
	m->latency_ms = latency;
	m->par_ms = ir_drill_par_ms(r->d.budget_ms, r->d.n_pts);
	m->hints = hints;
}

static void
say_key(const struct ir_drill_point *p)
{
	size_t i;

	fprintf(stderr, "  the key (%s): ", ir_drill_key_name(p->key_from));
	for (i = 0; i < p->n_accept; i++)
		fprintf(stderr, "%s%s", i ? " or " : "", p->accept[i]);
	fprintf(stderr, "\n");
}

/* Ask one decision.  0, or a log error. */
static int
ask(struct drill_run *r, const struct ir_drill_point *p)
{
	char line[IR_DRILL_ANSWER_LEN + 2], answer[IR_DRILL_ANSWER_LEN];
	enum ir_drill_verdict v;
	struct ir_val *d;
	uint64_t clock;
	unsigned hints = 0;
	bool got = false;
	int rc;

	rc = emit(r, "drill.asked", asked_data(p));
	if (rc)
		return rc;
	fprintf(stderr, "\n? %s  (%s; look, hint)\n", p->question,
		p->q == IR_DRILL_TARGET ? "a tag or its number" : "yes or no");
	if (!r->blind)
		show_seen(r, p);
	/* The clock starts once the last gating observation is shown. */
	clock = now_ms();
	while (!got && read_answer(r, line, sizeof(line))) {
		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(line, "look") || !strcmp(line, "l")) {
			show_seen(r, p);
			d = asked_data(p);
			ir_val_set_str(d, "what", "the gating observations");
			rc = emit(r, "drill.looked", d);
			clock = now_ms();
		} else if (!strcmp(line, "hint") || !strcmp(line, "h")) {
			fprintf(stderr, "  hint: %s\n", ir_drill_hint(p));
			d = asked_data(p);
			ir_val_set_str(d, "hint", ir_drill_hint(p));
			rc = emit(r, "drill.hint", d);
			hints++;
		} else if (ir_drill_parse(p, line, answer, sizeof(answer))) {
			got = true;
		} else {
			fprintf(stderr, "  answer %s, or look, or hint\n",
				p->q == IR_DRILL_TARGET
					? "with a tag or its number"
					: "yes or no");
		}
		if (rc)
			return rc;
	}
	if (!got) {
		mark(r, p, IR_DRILL_UNANSWERED, 0, hints);
		return 0;
	}
	v = ir_drill_judge(p, answer, r->backup_no);
	if (p->q == IR_DRILL_BACKUP)
		r->backup_no = !strcmp(answer, "no");
	mark(r, p, v, now_ms() - clock, hints);
	d = asked_data(p);
	ir_val_set_str(d, "answer", answer);
	ir_val_set_uint(d, "latency_ms", r->marks[r->n_marks - 1].latency_ms);
	ir_val_set_str(d, "verdict", ir_drill_verdict_name(v));
	ir_val_set_str(d, "recorded", p->recorded);
	ir_val_set_str(d, "key", ir_drill_key_name(p->key_from));
	ir_val_set_bool(d, "off_script", strcmp(answer, p->recorded) != 0);
	if (v != IR_DRILL_CORRECT)
		ir_val_set_str(d, "study", ir_drill_hint(p));
	rc = emit(r, "drill.answered", d);
	fprintf(stderr, "  %s: %s\n", answer, ir_drill_verdict_name(v));
	if (v != IR_DRILL_CORRECT)
		say_key(p);
	/* The recording cannot say what the world would have done: the
	 * drill goes on along the recorded path. */
	if (strcmp(answer, p->recorded))
		fprintf(stderr,
			"  off-script: the original chose %s; what really "
			"happened follows\n",
			p->recorded);
	return rc;
}

static json_t *
score_json(const struct ir_drill_score *s)
{
	json_t *j = json_object(), *ratings = json_object();
	int q;

	for (q = 0; q < IR_DRILL__COUNT; q++)
		if (s->rating[q])
			json_object_set_new(ratings,
					    ir_drill_q_name((enum ir_drill_q)q),
					    json_stringn(&s->rating[q], 1));
	json_object_set_new(j, "score", json_integer(s->score));
	json_object_set_new(j, "pass", json_boolean(s->pass));
	json_object_set_new(j, "forbidden", json_boolean(s->forbidden));
	json_object_set_new(j, "hints", json_integer(s->hints));
	json_object_set_new(j, "ratings", ratings);
	return j;
}

static int
finish(struct drill_run *r, struct ir_drill_score *s)
{
	struct ir_val *d = ir_val_map_new(), *ratings = ir_val_map_new();
	struct ir_val *points = ir_val_map_new();
	char one[2] = { 0, 0 };
	int q, rc;

	ir_drill_score(r->marks, r->n_marks, s);
	for (q = 0; q < IR_DRILL__COUNT; q++) {
		if (!s->rating[q])
			continue;
		one[0] = s->rating[q];
		ir_val_set_str(ratings, ir_drill_q_name((enum ir_drill_q)q), one);
		ir_val_set_uint(points, ir_drill_q_name((enum ir_drill_q)q),
				s->points[q]);
	}
	ir_val_set_uint(d, "score", s->score);
	ir_val_set_bool(d, "pass", s->pass);
	ir_val_set_bool(d, "forbidden", s->forbidden);
	ir_val_set_uint(d, "hints", s->hints);
	ir_val_set_take(d, "ratings", ratings);
	ir_val_set_take(d, "points", points);
	ir_val_set_uint(d, "possible", s->possible);
	ir_val_set_bool(d, "interrupted", r->interrupted || r->eof);
	rc = emit(r, "drill.scored", d);
	if (rc)
		return rc;
	d = ir_val_map_new();
	ir_val_set_str(d, "status", s->pass ? "succeeded" : "failed");
	ir_val_set_uint(d, "duration_ms", ir_rec_mono(r->rec) / 1000000);
	return emit(r, "incident.closed", d);
}

static void
print_score(struct drill_run *r, const struct ir_drill_score *s)
{
	size_t i;

	if (r->cli->json) {
		json_t *j = score_json(s);

		json_object_set_new(j, "incident",
				    json_integer((json_int_t)ir_rec_id(r->rec)));
		json_object_set_new(j, "source",
				    json_integer((json_int_t)r->d.source));
		cli_print_json(j);
		return;
	}
	printf("drill INC-%llu of INC-%llu: %u/100, %s%s\n",
	       (unsigned long long)ir_rec_id(r->rec),
	       (unsigned long long)r->d.source, s->score,
	       s->pass ? "passed" : "not passed",
	       s->forbidden ? " (a forbidden answer)" : "");
	for (i = 0; i < r->n_marks; i++) {
		const struct ir_drill_mark *m = &r->marks[i];

		printf("  %-9s %c  %-10s %6.1fs (par %.0fs)",
		       ir_drill_q_name(m->q), s->rating[m->q],
		       ir_drill_verdict_name(m->verdict),
		       (double)m->latency_ms / 1000,
		       (double)m->par_ms / 1000);
		if (m->hints)
			printf("  %u hint%s", m->hints, m->hints == 1 ? "" : "s");
		printf("\n");
	}
	if (s->hints)
		printf("  hints: %u (-%u)\n", s->hints, s->hints * 3);
}

static int
open_drill(struct drill_run *r, const char *key_path)
{
	struct cli *cli = r->cli;
	struct ir_val *d = cli_opened_data(cli, "drill");
	int rc;

	ir_val_set_uint(d, "source", r->d.source);
	ir_val_set_str(d, "source_kind", r->d.kind);
	ir_val_set_str(d, "source_status", r->d.status);
	ir_val_set_str(d, "source_head", r->d.head);
	ir_val_set_uint(d, "source_seq", r->d.head_seq);
	ir_val_set_str(d, "key", key_path ? key_path : "");
	ir_val_set_bool(d, "blind", r->blind);
	rc = ir_rec_new(&r->rec, cli->log, cli_world(cli));
	if (!rc)
		rc = ir_rec_open(r->rec, "drill", d, &cli->ctx);
	else
		ir_val_free(d);
	return rc;
}

static int
parse_args(struct cli *cli, struct drill_run *r, int i, const char **key)
{
	for (; i < cli->argc; i++) {
		const char *v;
		int got;

		if (!strcmp(cli->argv[i], "--blind")) {
			r->blind = true;
			continue;
		}
		got = cli_value(cli, &i, "--key", &v);
		if (got < 0)
			return IR_EXIT_USAGE;
		if (got) {
			*key = v;
			continue;
		}
		got = cli_pace(cli, &i, &r->speed, &r->max_idle);
		if (got < 0)
			return IR_EXIT_USAGE;
		if (!got)
			return cli_unexpected(cli, i);
	}
	return 0;
}

int
cmd_drill(struct cli *cli)
{
	struct ir_term_opts topts = { stderr, false, cli->color_err };
	struct drill_run r = { .cli = cli, .speed = 1, .max_idle = 2 };
	struct ir_drill_score s;
	const char *key = NULL;
	size_t k = 0, i;
	uint64_t id;
	int rc, code;

	if (cli->argc < 2 || cli->argv[1][0] == '-')
		return cli_usage(cli, "drill needs an incident (INC-7, 7 or "
				      "last)");
	code = parse_args(cli, &r, 2, &key);
	if (code)
		return code;
	rc = cli_open_log(cli);
	if (!rc)
		rc = cli_incident_arg(cli, cli->argv[1], &id);
	if (!rc)
		rc = ir_drill_load(cli->log, id, key, &r.d, &cli->ctx);
	if (rc) {
		ir_drill_clear(&r.d);
		return cli_fail(cli, rc);
	}
	r.term = ir_term_new(&topts);
	rc = r.term ? open_drill(&r, key) : -ENOMEM;
	if (!rc)
		fprintf(stderr,
			"drill INC-%llu: INC-%llu (%s, %s) replayed; %zu "
			"decision%s to take. Answer at each question; "
			"'look' shows what the operator saw, 'hint' costs 3 "
			"points.\n",
			(unsigned long long)ir_rec_id(r.rec),
			(unsigned long long)id, r.d.kind, r.d.status,
			r.d.n_pts, r.d.n_pts == 1 ? "" : "s");
	cli_interrupt_arm(false);
	for (i = 0; !rc && i < r.d.n_pts; i++) {
		const struct ir_drill_point *p = &r.d.pts[i];

		if (r.interrupted || r.eof) {
			mark(&r, p, IR_DRILL_UNANSWERED, 0, 0);
			continue;
		}
		play_to(&r, &k, p->at, p);
		if (r.interrupted) {
			mark(&r, p, IR_DRILL_UNANSWERED, 0, 0);
			continue;
		}
		rc = ask(&r, p);
		/* What really happened: the recorded decision, and what was
		 * held back. */
		if (!rc && r.blind)
			for (size_t g = 0; g < p->n_gates; g++)
				ir_term_event(r.term, &r.d.ev[p->gates[g]]);
	}
	if (!rc && !r.interrupted && !r.eof)
		play_to(&r, &k, r.d.n, NULL);
	ir_term_finish(r.term);
	cli_interrupt_disarm();
	if (!rc)
		rc = finish(&r, &s);
	if (!rc) {
		if (r.interrupted || r.eof)
			fprintf(stderr, "incident: the drill ended early; "
					"scored as far as it got\n");
		print_score(&r, &s);
	}
	ir_rec_free(r.rec);
	ir_term_free(r.term);
	ir_drill_clear(&r.d);
	if (rc)
		return cli_fail(cli, rc);
	if (r.interrupted)
		return IR_EXIT_INTERRUPTED;
	return s.pass ? IR_EXIT_OK : IR_EXIT_FAILED;
}
