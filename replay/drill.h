/*
 * Drills: a recorded incident turned into a scored exercise.  The source's
 * events are walked in order; at each of the runbook's decisions (the
 * gating questions of the question table, the stop's escalation where the
 * source escalated, and the rollback target) the trainee answers instead
 * of the rule, and the answer is scored against a key.  The source is
 * only read: a drill touches no deployment.
 *
 * The key, per decision: a key file's (git-config syntax, one section
 * per decision: `[stop]`, `[escalate]`, `[backup]`, `[target]`,
 * `[database]`, each with `accept`, `partial` and `forbid`, repeatable);
 * else the recorded answer, when the source succeeded and no note
 * corrects that decision; else today's rule over the recorded inputs.
 */
#ifndef IR_DRILL_H
#define IR_DRILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "error.h"
#include "evlog.h"

enum ir_drill_q {
	IR_DRILL_STOP,
	IR_DRILL_ESCALATE,
	IR_DRILL_BACKUP,
	IR_DRILL_TARGET,
	IR_DRILL_DATABASE,
	IR_DRILL__COUNT,
};

/* "stop", "escalate", "backup", "target", "database". */
const char *ir_drill_q_name(enum ir_drill_q q);

#define IR_DRILL_ANSWERS 8
#define IR_DRILL_GATES 4
#define IR_DRILL_ANSWER_LEN 256

enum ir_drill_key_from {
	IR_DRILL_KEY_FILE,
	IR_DRILL_KEY_RECORDED,
	IR_DRILL_KEY_PLANNER,
};

const char *ir_drill_key_name(enum ir_drill_key_from k);

/* One decision of the source, as the drill asks it. */
struct ir_drill_point {
	enum ir_drill_q q;
	const char *question; /* "trading active?", ..., "which target?" */
	const char *step;     /* the step it gates */
	size_t at;            /* index of the decision (or target.chosen) */
	uint64_t seq;         /* its seq in the source */
	size_t gates[IR_DRILL_GATES]; /* indexes of what the operator saw */
	size_t n_gates;
	char recorded[IR_DRILL_ANSWER_LEN]; /* the source's answer */
	/* target: the recorded candidate tags, newest first */
	char (*candidates)[IR_DRILL_ANSWER_LEN];
	size_t n_candidates;
	/* The key. */
	enum ir_drill_key_from key_from;
	char accept[IR_DRILL_ANSWERS][IR_DRILL_ANSWER_LEN];
	size_t n_accept;
	char partial[IR_DRILL_ANSWERS][IR_DRILL_ANSWER_LEN];
	size_t n_partial;
	char forbid[IR_DRILL_ANSWERS][IR_DRILL_ANSWER_LEN];
	size_t n_forbid;
	/* The standing rules' forbidden answers (see ir_drill_judge): "no"
	 * to the stop while processes were seen running; the broken
	 * (deployed) tag and the known-bad ones as target. */
	char standing[IR_DRILL_ANSWERS][IR_DRILL_ANSWER_LEN];
	size_t n_standing;
	size_t trading;
	char broken[IR_DRILL_ANSWER_LEN];
};

struct ir_drill {
	uint64_t source;
	char kind[16];
	char status[16];
	uint64_t budget_ms;     /* the source's budget (0: none) */
	char head[65];          /* the source's chain head (hex) */
	uint64_t head_seq;
	struct ir_event *ev;    /* the source's events */
	size_t n, cap;
	struct ir_drill_point *pts;
	size_t n_pts;
};

/* Read incident id as a drill: its events (the chain checked: -EBADMSG,
 * ctx naming the seq, for a tampered one), its decisions and their key.
 * key_path may be NULL.  -ENOENT when the incident has no decision to
 * ask (ctx says so); -EINVAL for a bad key file (ctx names the line). */
int ir_drill_load(struct ir_evlog *log, uint64_t id, const char *key_path,
		  struct ir_drill *d, struct ir_ctx *ctx) IR_WUR;
void ir_drill_clear(struct ir_drill *d);

/* A hint for the point's question (no answer given away). */
const char *ir_drill_hint(const struct ir_drill_point *p);

/* An answer as typed ("y", "Yes", a candidate's number or name) in the
 * point's words ("yes", "no", a tag); false when it is no answer. */
bool ir_drill_parse(const struct ir_drill_point *p, const char *typed,
		    char *out, size_t cap);

enum ir_drill_verdict {
	IR_DRILL_CORRECT,
	IR_DRILL_PARTIAL,
	IR_DRILL_WRONG,
	IR_DRILL_FORBIDDEN,
	IR_DRILL_UNANSWERED, /* the drill ended first */
};

const char *ir_drill_verdict_name(enum ir_drill_verdict v);

/* The answer against the key and the standing rules.  The key's
 * forbidden answers first, then its accepted ones; then the standing
 * rules forbid no stop while a trading process was seen, the broken or a
 * known-bad tag as target, and a database restore when the trainee
 * skipped the backup (backup_no), unless the key accepts the answer (a
 * source that took a known-bad tag on purpose, with --force); then the
 * key's partial answers; anything else is wrong. */
enum ir_drill_verdict ir_drill_judge(const struct ir_drill_point *p,
				     const char *answer, bool backup_no);

/* ---- the score (pure) --------------------------------------------------- */

struct ir_drill_mark {
	enum ir_drill_q q;
	enum ir_drill_verdict verdict;
	uint64_t latency_ms;
	uint64_t par_ms;
	unsigned hints;
};

struct ir_drill_score {
	unsigned score;               /* 0..100 */
	bool pass;
	bool forbidden;
	char rating[IR_DRILL__COUNT]; /* P, S, M, U; 0 where not asked */
	unsigned points[IR_DRILL__COUNT]; /* earned, answer and time */
	unsigned possible;            /* before scaling to 100 */
	unsigned hints;
};

/* The points a decision's answer is worth (a rollback's four add up to
 * 80, with 5 more each for timeliness). */
unsigned ir_drill_weight(enum ir_drill_q q);

/* Par for each of n decisions: its share of the budget (the rollback's
 * five minutes when the source had none). */
uint64_t ir_drill_par_ms(uint64_t budget_ms, size_t n);

/* Score marks: each answer's weight (partial: half), 5 for timeliness
 * (full at or under par, falling linearly to 0 at three times par; for a
 * correct or partial answer), scaled to 100 over what the decisions asked
 * were worth, minus 3 per hint.  Ratings, HSEEP style: U wrong, forbidden
 * or unanswered; M more than 2 hints, or correct but slower than 3x par;
 * S partial, or correct within 3x par; P correct within par.  Pass: at
 * least 70, nothing forbidden, no U on the stop or the target. */
void ir_drill_score(const struct ir_drill_mark *m, size_t n,
		    struct ir_drill_score *out);

#endif
