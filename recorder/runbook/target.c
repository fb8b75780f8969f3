/* The rollback target: a pure function of the tags, HEAD and TAG. */
#include "target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ir_limits.h"

size_t
ir_target_deployed(const struct ir_tag_input *tags, size_t n,
		   const char *head)
{
	size_t i;

	for (i = n; i-- > 0;)
		if (!strcmp(tags[i].commit, head))
			return i;
	return n;
}

/* A tag's verdict, asked for the first time it is read. */
static void
consult(const struct ir_target_input *in, struct ir_tag_input *tag)
{
	if (!tag->consulted && in->consult)
		in->consult(in->payload, tag);
	tag->consulted = true;
}

static bool
is_bad(const struct ir_target_input *in, struct ir_tag_input *tag)
{
	consult(in, tag);
	return tag->known_bad;
}

static bool
is_good(const struct ir_target_input *in, struct ir_tag_input *tag)
{
	consult(in, tag);
	return tag->known_good && !tag->known_bad;
}

static void
take(struct ir_target *t, const struct ir_tag_input *c, const char *rule)
{
	snprintf(t->to, sizeof(t->to), "%s", c->name);
	snprintf(t->to_commit, sizeof(t->to_commit), "%s", c->commit);
	t->rule = rule;
}

/* What an explicit TAG is next to the deployed one: known-bad, the
 * deployed code itself, or newer (a roll-forward). */
static void
classify(const struct ir_target_input *in, size_t cur, struct ir_target *t)
{
	struct ir_tag_input *asked = in->asked;
	const char *deployed = cur < in->n ? in->tags[cur].name : "HEAD";
	size_t cap = sizeof(t->note), i;

	if (is_bad(in, asked)) {
		t->known_bad = true;
		ir_str_addf(t->note, cap, "%s is known-bad (%s)", t->to,
			    asked->why ? asked->why : "");
	}
	if (cur < in->n && !strcmp(deployed, t->to)) {
		ir_str_addf(t->note, cap, "%s is the deployed tag: the "
			    "rollback would only restart it", t->to);
		return;
	}
	if (!strcmp(t->to_commit, in->head)) {
		ir_str_addf(t->note, cap, "%s is the deployed commit (%s): "
			    "the rollback would only restart it", t->to,
			    deployed);
		return;
	}
	for (i = cur + 1; cur < in->n && i < in->n; i++)
		if (!strcmp(in->tags[i].name, t->to))
			ir_str_addf(t->note, cap, "%s is newer than the "
				    "deployed %s: a roll-forward, not a "
				    "rollback", t->to, deployed);
}

int
ir_target_choose(const struct ir_target_input *in, struct ir_target *t,
		 struct ir_ctx *ctx)
{
	size_t cur = ir_target_deployed(in->tags, in->n, in->head), i;
	const char *from = cur < in->n ? in->tags[cur].name : "";

	memset(t, 0, sizeof(*t));
	snprintf(t->from, sizeof(t->from), "%s", from);
	snprintf(t->from_commit, sizeof(t->from_commit), "%s", in->head);
	t->skipped = ir_val_array_new();
	if (in->asked) {
		take(t, in->asked, "asked");
		snprintf(t->why, sizeof(t->why), "asked for explicitly");
		classify(in, cur, t);
		return 0;
	}
	/* The newest known-good first: a tag a deploy's soak or a rollback's
	 * health passed on is worth more than one never tried. */
	for (i = cur; i-- > 0;) {
		struct ir_tag_input *c = &in->tags[i];

		if (strcmp(c->commit, in->head) && is_good(in, c)) {
			take(t, c, "known-good");
			snprintf(t->why, sizeof(t->why),
				 "the newest known-good deploy tag older than "
				 "%s (%s)",
				 from[0] ? from : "HEAD", c->why ? c->why : "");
			break;
		}
	}
	for (i = cur; i-- > 0;) {
		struct ir_tag_input *c = &in->tags[i];
		struct ir_val *m;

		if (!strcmp(c->commit, in->head))
			continue; /* the same code under another name */
		if (t->to[0] && !strcmp(c->name, t->to))
			return 0;
		if (!t->to[0] && !is_bad(in, c)) {
			take(t, c, "not known-bad");
			snprintf(t->why, sizeof(t->why),
				 "the newest deploy tag older than %s that "
				 "is not known-bad",
				 from[0] ? from : "HEAD");
			return 0;
		}
		if (!is_bad(in, c))
			continue; /* passed over for the known-good one */
		m = ir_val_map_new();
		ir_val_set_str(m, "tag", c->name);
		ir_val_set_str(m, "why", c->why ? c->why : "");
		ir_val_push_take(t->skipped, m);
	}
	ir_val_free(t->skipped);
	t->skipped = NULL;
	return ir_error_set(ctx, -ENOENT, IR_ORIGIN_GIT, 0,
			    "no rollback target: no deploy tag matching "
			    "\"%s\" older than %s that is not known-bad",
			    in->pattern ? in->pattern : "", from[0] ? from
								: "HEAD");
}

static struct ir_val *
tag_map(const struct ir_tag_input *tag)
{
	struct ir_val *m = ir_val_map_new();

	ir_val_set_str(m, "tag", tag->name);
	ir_val_set_str(m, "commit", tag->commit);
	if (!tag->consulted)
		return m;
	ir_val_set_bool(m, "known_bad", tag->known_bad);
	ir_val_set_bool(m, "known_good", tag->known_good);
	if ((tag->known_bad || tag->known_good) && tag->why)
		ir_val_set_str(m, "why", tag->why);
	return m;
}

struct ir_val *
ir_target_record(const struct ir_target_input *in, const struct ir_target *t)
{
	struct ir_val *d = ir_val_map_new(), *arr = ir_val_array_new();
	size_t cur = ir_target_deployed(in->tags, in->n, in->head);
	size_t lo = 0, hi, i;

	ir_val_set_str(d, "head", in->head);
	ir_val_set_str(d, "pattern", in->pattern ? in->pattern : "");
	/* The window the choice read: from the chosen tag (or the oldest)
	 * up to the deployed one (or the newest); for an asked tag, the
	 * deployed one and every tag newer (what the notes compare). */
	if (in->asked) {
		ir_val_set_take(d, "asked", tag_map(in->asked));
		lo = cur < in->n ? cur : in->n;
		hi = in->n;
	} else {
		hi = cur < in->n ? cur + 1 : in->n;
		for (i = hi; t && t->to[0] && i-- > 0;)
			if (!strcmp(in->tags[i].name, t->to)) {
				lo = i;
				break;
			}
		/* The search for a known-good tag may have read further. */
		for (i = 0; i < lo; i++)
			if (in->tags[i].consulted) {
				lo = i;
				break;
			}
	}
	if (hi - lo > IR_LIMIT_TARGET_TAGS) {
		ir_val_set_uint(d, "omitted", hi - lo - IR_LIMIT_TARGET_TAGS);
		lo = hi - IR_LIMIT_TARGET_TAGS;
	}
	for (i = lo; i < hi; i++)
		ir_val_push_take(arr, tag_map(&in->tags[i]));
	ir_val_set_take(d, "tags", arr);
	return d;
}

static int
read_tag(const struct ir_val *m, struct ir_tag_input *out)
{
	if (!m || m->type != IR_VAL_MAP)
		return -EINVAL;
	out->name = ir_val_get_str(m, "tag");
	out->commit = ir_val_get_str(m, "commit");
	out->known_bad = ir_val_get_bool(m, "known_bad", false);
	/* Recorded before known-good counted: not known-good. */
	out->known_good = ir_val_get_bool(m, "known_good", false);
	out->consulted = ir_val_get(m, "known_bad") != NULL;
	out->why = ir_val_get_str(m, "why");
	return out->name && out->commit ? 0 : -EINVAL;
}

int
ir_target_read(const struct ir_val *obs, struct ir_target_input *in,
	       struct ir_tag_input **tags, struct ir_tag_input *asked)
{
	const struct ir_val *arr = ir_val_get(obs, "tags");
	const struct ir_val *a = ir_val_get(obs, "asked");
	struct ir_tag_input *out;
	size_t i;

	memset(in, 0, sizeof(*in));
	*tags = NULL;
	in->head = ir_val_get_str(obs, "head");
	in->pattern = ir_val_get_str(obs, "pattern");
	if (!in->head || !arr || arr->type != IR_VAL_ARRAY ||
	    ir_val_get_int(obs, "omitted", 0))
		return -EINVAL;
	if (a) {
		if (read_tag(a, asked))
			return -EINVAL;
		in->asked = asked;
	}
	out = calloc(arr->as.arr.len ? arr->as.arr.len : 1, sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (i = 0; i < arr->as.arr.len; i++)
		if (read_tag(&arr->as.arr.items[i], &out[i])) {
			free(out);
			return -EINVAL;
		}
	in->tags = out;
	in->n = arr->as.arr.len;
	*tags = out;
	return 0;
}
