/* A drill's score: pure functions of the marks (see drill.h). */
#include "drill.h"

#include <string.h>

/* The rollback's own budget, for a source that recorded none. */
#define DRILL_DEFAULT_BUDGET_MS (5 * 60 * 1000ULL)
#define DRILL_TIME_POINTS 5
#define DRILL_HINT_COST 3
#define DRILL_PASS 70

unsigned
ir_drill_weight(enum ir_drill_q q)
{
	switch (q) {
	case IR_DRILL_STOP:
	case IR_DRILL_TARGET:
		return 25;
	case IR_DRILL_BACKUP:
	case IR_DRILL_DATABASE:
		return 15;
	case IR_DRILL_ESCALATE:
		return 10;
	default:
		return 0;
	}
}

uint64_t
ir_drill_par_ms(uint64_t budget_ms, size_t n)
{
	if (!budget_ms)
		budget_ms = DRILL_DEFAULT_BUDGET_MS;
	return n ? budget_ms / n : budget_ms;
}

/* 5 at or under par, 0 at 3x par and beyond, linear in between. */
static unsigned
time_points(uint64_t latency, uint64_t par)
{
	if (latency <= par)
		return DRILL_TIME_POINTS;
	if (latency >= 3 * par)
		return 0;
	return (unsigned)((DRILL_TIME_POINTS * (3 * par - latency) +
			   par) / (2 * par));
}

static char
rating(const struct ir_drill_mark *m)
{
	switch (m->verdict) {
	case IR_DRILL_WRONG:
	case IR_DRILL_FORBIDDEN:
	case IR_DRILL_UNANSWERED:
		return 'U';
	default:
		break;
	}
	if (m->hints > 2)
		return 'M';
	if (m->verdict == IR_DRILL_PARTIAL)
		return 'S';
	if (m->latency_ms <= m->par_ms)
		return 'P';
	return m->latency_ms <= 3 * m->par_ms ? 'S' : 'M';
}

void
ir_drill_score(const struct ir_drill_mark *m, size_t n,
	       struct ir_drill_score *out)
{
	unsigned earned = 0, possible = 0;
	long score;
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < n; i++) {
		unsigned w = ir_drill_weight(m[i].q), got = 0;

		possible += w + DRILL_TIME_POINTS;
		if (m[i].verdict == IR_DRILL_CORRECT)
			got = w;
		else if (m[i].verdict == IR_DRILL_PARTIAL)
			got = w / 2;
		if (m[i].verdict == IR_DRILL_CORRECT ||
		    m[i].verdict == IR_DRILL_PARTIAL)
			got += time_points(m[i].latency_ms, m[i].par_ms);
		if (m[i].verdict == IR_DRILL_FORBIDDEN)
			out->forbidden = true;
		out->points[m[i].q] += got;
		out->rating[m[i].q] = rating(&m[i]);
		out->hints += m[i].hints;
		earned += got;
	}
	out->possible = possible;
	score = possible ? (long)((earned * 100 + possible / 2) / possible) : 0;
	score -= (long)out->hints * DRILL_HINT_COST;
	out->score = score < 0 ? 0 : (unsigned)score;
	out->pass = out->score >= DRILL_PASS && !out->forbidden &&
		    out->rating[IR_DRILL_STOP] != 'U' &&
		    out->rating[IR_DRILL_TARGET] != 'U';
}
