/*
 * Known-good and known-bad: the verdict on a deploy tag from the log
 * (DESIGN.md, "Known-good and known-bad"), read from each incident's own
 * events (history.c) and the recorded corrections of `incident mark`
 * (cmd_mark.c), which override it without editing the log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "gitops.h"
#include "ir_limits.h"

struct mark_scan {
	const char *tag; /* NULL: any */
	struct cli_mark *out;
	bool found;
};

static const char *
field(const struct ir_event *ev, const char *key)
{
	const char *v = ir_val_get_str(ev->data, key);

	return v ? v : "";
}

static int
mark_one(void *payload, const struct ir_event *ev, const void *raw,
	 size_t len)
{
	struct mark_scan *m = payload;
	const char *tag;

	(void)raw;
	(void)len;
	if (strcmp(ev->type, "tag.marked"))
		return 0;
	tag = ir_val_get_str(ev->data, "tag");
	if (!tag || (m->tag && strcmp(tag, m->tag)))
		return 0;
	snprintf(m->out->tag, sizeof(m->out->tag), "%s", tag);
	snprintf(m->out->as, sizeof(m->out->as), "%s", field(ev, "as"));
	snprintf(m->out->reason, sizeof(m->out->reason), "%s",
		 field(ev, "reason"));
	snprintf(m->out->actor, sizeof(m->out->actor), "%s",
		 field(ev, "actor"));
	m->out->ts = ev->ts;
	m->found = true;
	return 1;
}

/* The tag.marked of mark incident id (for tag, or any when NULL). */
static int
find_mark(struct cli *cli, uint64_t id, const char *tag, struct cli_mark *out,
	  bool *found, struct ir_ctx *ctx)
{
	struct mark_scan m = { tag, out, false };
	int rc;

	memset(out, 0, sizeof(*out));
	out->id = id;
	rc = ir_evlog_scan(cli->log, id, 1, IR_EVLOG_DECODE, mark_one, &m,
			   ctx);
	*found = m.found;
	return rc;
}

int
cli_mark_of(struct cli *cli, uint64_t id, struct cli_mark *out)
{
	struct ir_ctx ignored = { 0 };
	bool found = false;
	int rc = find_mark(cli, id, NULL, out, &found, &ignored);

	return rc ? rc : found ? 0 : -ENOENT;
}

/*
 * Every tag's verdict from one walk of the incidents, newest first: what
 * each incident's events say (its header is a copy anyone could edit:
 * `incident verify` holds it to them) counts for the tags it names, and a
 * tag's newest mark ends its own walk (what came before is what the mark
 * corrects).  `incident tags`, the pre-flight and the target choice read
 * it; it is kept while the log is unchanged (ir_evlog_generation), so a
 * rollback that reads the verdicts of two hundred tags walks a thousand
 * incidents once, not two hundred times.
 */
struct tag_walk {
	const char *tag; /* in tags_names */
	uint64_t bad_id, good_id;
	bool good_deploy; /* good_id is a deploy's */
	int64_t good_ts;  /* when that deploy closed */
	bool marked;      /* the walk for this tag ended there */
	struct cli_mark mark;
};

struct cli_verdicts {
	struct ir_evlog *log;
	uint64_t generation;
	struct tag_walk *v; /* open addressing by name, cap a power of 2 */
	size_t n, cap;
};

static uint64_t
name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static struct tag_walk *
tags_find(const struct cli_verdicts *t, const char *tag)
{
	size_t i;

	if (!t->cap)
		return NULL;
	for (i = name_hash(tag) & (t->cap - 1); t->v[i].tag;
	     i = (i + 1) & (t->cap - 1))
		if (!strcmp(t->v[i].tag, tag))
			return &t->v[i];
	return NULL;
}

static int
tags_grow(struct cli_verdicts *t)
{
	size_t cap = t->cap ? t->cap * 2 : 64, i, j;
	struct tag_walk *v = calloc(cap, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (i = 0; i < t->cap; i++) {
		if (!t->v[i].tag)
			continue;
		for (j = name_hash(t->v[i].tag) & (cap - 1); v[j].tag;
		     j = (j + 1) & (cap - 1))
			;
		v[j] = t->v[i];
	}
	free(t->v);
	t->v = v;
	t->cap = cap;
	return 0;
}

/* The walk of tag (named by an incident: not ""), added when new. */
static struct tag_walk *
tags_get(struct cli_verdicts *t, const char *tag)
{
	struct tag_walk *w = tags_find(t, tag);
	char *copy;
	size_t i;

	if (w)
		return w;
	if ((t->n + 1) * 2 > t->cap && tags_grow(t))
		return NULL;
	copy = strdup(tag);
	if (!copy)
		return NULL;
	for (i = name_hash(tag) & (t->cap - 1); t->v[i].tag;
	     i = (i + 1) & (t->cap - 1))
		;
	memset(&t->v[i], 0, sizeof(t->v[i]));
	t->v[i].tag = copy;
	t->n++;
	return &t->v[i];
}

static void
tags_clear(struct cli_verdicts *t)
{
	size_t i;

	for (i = 0; i < t->cap; i++)
		free((char *)t->v[i].tag);
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}

struct verdicts_walk {
	struct cli *cli;
	struct cli_verdicts *t;
	struct ir_ctx *ctx;
};

/* What one incident's events say, for each tag it names whose walk has
 * not ended. */
static int
verdicts_one(void *payload, const struct ir_incident *inc)
{
	struct verdicts_walk *vw = payload;
	const struct cli_told *t;
	struct tag_walk *w;
	int rc = cli_told_of(vw->cli, inc, &t, vw->ctx);

	if (rc)
		return rc;
	/* A damaged incident says nothing (`incident verify` names it);
	 * the rest still count. */
	if (!t->readable)
		return 0;
	if (!strcmp(t->kind, "mark") && !strcmp(t->status, "succeeded")) {
		if (!t->marked || !t->mark.tag[0])
			return 0;
		w = tags_get(vw->t, t->mark.tag);
		if (!w)
			return -ENOMEM;
		if (!w->marked) {
			w->mark = t->mark;
			w->marked = true;
		}
		return 0;
	}
	/* A deploy closes succeeded only once its health and soak passed. */
	if (!strcmp(t->kind, "deploy")) {
		if (!t->target[0] || strcmp(t->status, "succeeded"))
			return 0;
		w = tags_get(vw->t, t->target);
		if (!w)
			return -ENOMEM;
		if (!w->marked && !w->good_id) {
			w->good_id = inc->id;
			w->good_deploy = true;
			w->good_ts = t->closed;
		}
		return 0;
	}
	if (strcmp(t->kind, "rollback"))
		return 0;
	if (t->from[0] && t->target[0] && strcmp(t->status, "aborted")) {
		w = tags_get(vw->t, t->from);
		if (!w)
			return -ENOMEM;
		if (!w->marked && !w->bad_id)
			w->bad_id = inc->id;
	}
	if (t->target[0] && t->health_passed) {
		w = tags_get(vw->t, t->target);
		if (!w)
			return -ENOMEM;
		if (!w->marked && !w->good_id)
			w->good_id = inc->id;
	}
	return 0;
}

/* The table, walked again only when the log has changed since. */
static int
verdicts_get(struct cli *cli, const struct cli_verdicts **out)
{
	struct cli_verdicts *t = cli->verdicts;
	struct verdicts_walk vw = { cli, NULL, &cli->ctx };
	uint64_t gen = ir_evlog_generation(cli->log);
	int rc;

	if (t && gen && t->log == cli->log && t->generation == gen) {
		*out = t;
		return 0;
	}
	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t)
			return -ENOMEM;
		cli->verdicts = t;
	}
	tags_clear(t);
	t->log = NULL;
	vw.t = t;
	rc = ir_evlog_incidents(cli->log, verdicts_one, &vw, &cli->ctx);
	if (rc) {
		tags_clear(t);
		return rc == -ENOMEM ? ir_error_set(&cli->ctx, rc,
						    IR_ORIGIN_OS, 0,
						    "out of memory for the "
						    "verdicts")
				     : rc;
	}
	t->log = cli->log;
	t->generation = gen;
	*out = t;
	return 0;
}

void
cli_verdicts_free(struct cli *cli)
{
	if (!cli->verdicts)
		return;
	tags_clear(cli->verdicts);
	free(cli->verdicts);
	cli->verdicts = NULL;
}

int
cli_tag_verdict(struct cli *cli, const char *tag, struct cli_verdict *v)
{
	const struct cli_verdicts *t = NULL;
	const struct tag_walk *w;
	char when[32];
	int rc;

	memset(v, 0, sizeof(*v));
	rc = verdicts_get(cli, &t);
	if (rc)
		return rc;
	w = tags_find(t, tag);
	if (!w)
		return 0;
	if (w->marked) {
		v->marked = true;
		v->mark = w->mark;
	}
	if (w->bad_id) {
		v->bad = true;
		snprintf(v->why, sizeof(v->why),
			 "INC-%llu rolled back from it",
			 (unsigned long long)w->bad_id);
	} else if (w->good_id) {
		v->good = true;
		if (w->good_deploy) {
			cli_utc(when, sizeof(when), w->good_ts);
			snprintf(v->why, sizeof(v->why),
				 "passed health and soak in deploy INC-%llu, "
				 "%s",
				 (unsigned long long)w->good_id, when);
		} else {
			snprintf(v->why, sizeof(v->why),
				 "passed health in INC-%llu",
				 (unsigned long long)w->good_id);
		}
	} else if (w->marked) {
		cli_utc(when, sizeof(when), w->mark.ts);
		v->bad = !strcmp(w->mark.as, "bad");
		v->good = !strcmp(w->mark.as, "good");
		snprintf(v->why, sizeof(v->why), "%s by %s %s: %s",
			 v->bad || v->good ? "marked" : "cleared",
			 w->mark.actor, when, w->mark.reason);
	}
	return 0;
}

void
cli_verdict_text(const struct cli_verdict *v, char *out, size_t cap)
{
	if (v->bad)
		snprintf(out, cap, "known-bad (%s)", v->why);
	else if (v->good)
		snprintf(out, cap, "known-good (%s)", v->why);
	else if (v->marked)
		snprintf(out, cap, "neither (%s)", v->why);
	else
		snprintf(out, cap, "%s", "");
}

/* ---- mark -------------------------------------------------------------- */

void
cli_world_verdict(void *payload, const char *tag, bool *bad, bool *good,
		  char *why, size_t cap)
{
	struct cli *cli = payload;
	struct cli_verdict v;
	struct ir_ctx saved = cli->ctx;

	*bad = *good = false;
	if (cli_tag_verdict(cli, tag, &v)) {
		cli->ctx = saved;
		return;
	}
	*bad = v.bad;
	*good = v.good;
	if (v.bad || v.good)
		snprintf(why, cap, "%s", v.why);
}

bool
cli_known_bad(void *payload, const char *tag, char *why, size_t cap)
{
	struct cli *cli = payload;
	struct cli_verdict v;
	struct ir_ctx saved = cli->ctx;

	if (cli_tag_verdict(cli, tag, &v)) {
		cli->ctx = saved;
		return false;
	}
	if (v.bad)
		snprintf(why, cap, "%s", v.why);
	return v.bad;
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
