/*
 * The fleet's keys in etcd: the plan, the leader's writes, slots and
 * statuses (each node's mirrored log is fleet_mirror.c's).  Values are
 * small JSON objects (jansson); the decisions over them are
 * fleet_rule.c's.
 */
#include "fleet_lib.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "etcd.h"

#define FLEET_PREFIX "/incident/v1/fleet/"

static bool
name_ok(const char *s)
{
	size_t len = strlen(s);

	return len && len < IR_FLEET_NAME &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789._-") == len;
}

int
ir_fleet_open(struct ir_fleet **out, const char *endpoints,
	      uint64_t timeout_ms, const char *fleet, const char *node,
	      struct ir_ctx *ctx)
{
	struct ir_fleet *f;
	int rc;

	if (!fleet || !name_ok(fleet))
		return ir_error_set(ctx, -EINVAL, IR_ORIGIN_USAGE, 0,
				    "\"%s\" is not a fleet name (letters, "
				    "digits, . _ -)",
				    fleet ? fleet : "");
	if (node && !name_ok(node))
		return ir_error_set(ctx, -EINVAL, IR_ORIGIN_CONFIG, 0,
				    "fleet.node \"%s\" is not a node name "
				    "(letters, digits, . _ -)",
				    node);
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	rc = ir_etcd_new(&f->etcd, endpoints, timeout_ms, ctx);
	if (rc) {
		free(f);
		return rc;
	}
	snprintf(f->name, sizeof(f->name), "%s", fleet);
	snprintf(f->node, sizeof(f->node), "%s", node ? node : "");
	snprintf(f->prefix, sizeof(f->prefix), FLEET_PREFIX "%s/", fleet);
	*out = f;
	return 0;
}

/* Give the lease up (its keys go at once); one that cannot be revoked
 * expires on its own. */
static void
lease_drop(struct ir_fleet *f, struct ir_ctx *quiet)
{
	int rc = ir_etcd_lease_revoke(f->etcd, f->lease, quiet);

	(void)rc;
	f->lease = 0;
	f->leader_rev = 0;
}

void
ir_fleet_close(struct ir_fleet *f)
{
	struct ir_ctx quiet = { 0 };

	if (!f)
		return;
	if (f->lease)
		lease_drop(f, &quiet);
	ir_etcd_free(f->etcd);
	free(f);
}

struct ir_etcd *
ir_fleet_etcd(struct ir_fleet *f)
{
	return f->etcd;
}

void
ir_fleet_key(const struct ir_fleet *f, char *out, size_t cap,
	     const char *suffix)
{
	snprintf(out, cap, "%s%s", f->prefix, suffix);
}

/* A key of node: "<prefix><what>/<node>". */
void
ir_fleet_node_key(const struct ir_fleet *f, char *out, size_t cap,
		  const char *what, const char *node)
{
	snprintf(out, cap, "%s%s/%s", f->prefix, what, node);
}

/* ---- JSON values ------------------------------------------------------- */

char *
ir_fleet_dump(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);

	json_decref(j);
	return s;
}

int64_t
ir_fleet_jint(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

void
ir_fleet_jstr(char *out, size_t cap, const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	snprintf(out, cap, "%s", s ? s : "");
}

static char *
plan_json(const struct ir_fleet_plan *p)
{
	json_t *j = json_object(), *nodes = json_array(), *waves = json_array();
	size_t i;

	for (i = 0; i < p->n_nodes; i++) {
		json_array_append_new(nodes, json_string(p->node[i]));
		json_array_append_new(waves, json_integer(p->wave_of[i]));
	}
	json_object_set_new(j, "tag", json_string(p->tag));
	json_object_set_new(j, "commit", json_string(p->commit));
	json_object_set_new(j, "by", json_string(p->by));
	json_object_set_new(j, "ts", json_integer(p->ts));
	json_object_set_new(j, "nodes", nodes);
	json_object_set_new(j, "waves", waves);
	json_object_set_new(j, "n_waves", json_integer(p->n_waves));
	json_object_set_new(j, "max_unavailable",
			    json_integer(p->max_unavailable));
	json_object_set_new(j, "max_failures", json_integer(p->max_failures));
	json_object_set_new(j, "soak_ms", json_integer((json_int_t)p->soak_ms));
	json_object_set_new(j, "stop_budget_ms",
			    json_integer((json_int_t)p->stop_budget_ms));
	json_object_set_new(j, "unanswered",
			    json_string(ir_fleet_unanswered(p)));
	return ir_fleet_dump(j);
}

json_t *
ir_fleet_parse(const struct ir_etcd_kv *kv)
{
	return kv ? json_loadb(kv->value, kv->value_len, 0, NULL) : NULL;
}

static int
plan_parse(const struct ir_etcd_kv *kv, struct ir_fleet_plan *p)
{
	json_t *j = ir_fleet_parse(kv), *nodes, *waves, *x;
	char unanswered[16];
	size_t i;

	memset(p, 0, sizeof(*p));
	if (!j)
		return -EBADMSG;
	p->rev = kv->create_rev;
	ir_fleet_jstr(p->tag, sizeof(p->tag), j, "tag");
	ir_fleet_jstr(p->commit, sizeof(p->commit), j, "commit");
	ir_fleet_jstr(p->by, sizeof(p->by), j, "by");
	p->ts = ir_fleet_jint(j, "ts");
	nodes = json_object_get(j, "nodes");
	waves = json_object_get(j, "waves");
	json_array_foreach (nodes, i, x) {
		if (i >= IR_FLEET_NODES)
			break;
		snprintf(p->node[i], sizeof(p->node[i]), "%s",
			 json_string_value(x) ? json_string_value(x) : "");
		p->wave_of[i] = (unsigned)json_integer_value(
			json_array_get(waves, i));
		p->n_nodes = i + 1;
	}
	p->n_waves = (unsigned)ir_fleet_jint(j, "n_waves");
	p->max_unavailable = (unsigned)ir_fleet_jint(j, "max_unavailable");
	p->max_failures = (unsigned)ir_fleet_jint(j, "max_failures");
	p->soak_ms = (uint64_t)ir_fleet_jint(j, "soak_ms");
	p->stop_budget_ms = (uint64_t)ir_fleet_jint(j, "stop_budget_ms");
	ir_fleet_jstr(unanswered, sizeof(unanswered), j, "unanswered");
	p->unanswered_abort = !strcmp(unanswered, "abort");
	json_decref(j);
	return 0;
}

/* ---- the plan ---------------------------------------------------------- */

/* Clear a finished run's keys (not statuses, digests or heads: those of
 * an old plan stay as history, and stale). */
static int
clear_done(struct ir_fleet *f, const struct ir_etcd_kv *plan,
	   struct ir_ctx *ctx)
{
	static const char *const one[] = { "plan", "wave", "wave_at",
					   "wave_done", "abort", "done" };
	static const char *const many[] = { "slot/", "stopped/", "verdict/" };
	char keys[9][IR_FLEET_NAME + 64], ends[3][IR_FLEET_NAME + 64];
	char done_key[IR_FLEET_NAME + 64];
	struct ir_etcd_op ops[9];
	struct ir_etcd_cmp cmp[2];
	struct ir_etcd_txn_result r;
	size_t i;
	int rc;

	for (i = 0; i < 6; i++) {
		ir_fleet_key(f, keys[i], sizeof(keys[i]), one[i]);
		ops[i] = (struct ir_etcd_op){ IR_ETCD_OP_DELETE, keys[i], NULL,
					      NULL, 0 };
	}
	for (i = 0; i < 3; i++) {
		ir_fleet_key(f, keys[6 + i], sizeof(keys[6 + i]), many[i]);
		ir_etcd_prefix_end(ends[i], sizeof(ends[i]), keys[6 + i]);
		ops[6 + i] = (struct ir_etcd_op){ IR_ETCD_OP_DELETE,
						  keys[6 + i], ends[i], NULL,
						  0 };
	}
	ir_fleet_key(f, done_key, sizeof(done_key), "done");
	cmp[0] = (struct ir_etcd_cmp){ keys[0], IR_ETCD_MOD, IR_ETCD_EQUAL,
				       plan->mod_rev, NULL };
	cmp[1] = (struct ir_etcd_cmp){ done_key, IR_ETCD_VERSION,
				       IR_ETCD_GREATER, 0, NULL };
	rc = ir_etcd_txn(f->etcd, cmp, 2, ops, 9, NULL, 0, &r, ctx);
	ir_etcd_kvs_clear(&r.got);
	return rc;
}

static char *
wave_at_json(unsigned wave, int64_t now)
{
	json_t *j = json_object();

	json_object_set_new(j, "wave", json_integer(wave));
	json_object_set_new(j, "ts", json_integer(now));
	return ir_fleet_dump(j);
}

int
ir_fleet_plan_create(struct ir_fleet *f, struct ir_fleet_plan *p, bool *won,
		     struct ir_fleet_plan *other, struct ir_ctx *ctx)
{
	char plan_key[256], wave_key[256], at_key[256], done_key[256];
	char *text = plan_json(p), *at = wave_at_json(0, p->ts);
	struct ir_etcd_txn_result r = { 0 };
	int rc = -ENOMEM, attempt;

	ir_fleet_key(f, plan_key, sizeof(plan_key), "plan");
	ir_fleet_key(f, wave_key, sizeof(wave_key), "wave");
	ir_fleet_key(f, at_key, sizeof(at_key), "wave_at");
	ir_fleet_key(f, done_key, sizeof(done_key), "done");
	for (attempt = 0; text && at && attempt < 2; attempt++) {
		struct ir_etcd_cmp cmp = { plan_key, IR_ETCD_CREATE,
					   IR_ETCD_EQUAL, 0, NULL };
		struct ir_etcd_op then[] = {
			{ IR_ETCD_OP_PUT, plan_key, NULL, text, 0 },
			{ IR_ETCD_OP_PUT, wave_key, NULL, "0", 0 },
			{ IR_ETCD_OP_PUT, at_key, NULL, at, 0 },
		};
		struct ir_etcd_op els[] = {
			{ IR_ETCD_OP_GET, plan_key, NULL, NULL, 0 },
			{ IR_ETCD_OP_GET, done_key, NULL, NULL, 0 },
		};
		const struct ir_etcd_kv *held, *done;

		ir_etcd_kvs_clear(&r.got);
		rc = ir_etcd_txn(f->etcd, &cmp, 1, then, 3, els, 2, &r, ctx);
		if (rc)
			break;
		*won = r.succeeded;
		if (r.succeeded) {
			p->rev = r.revision;
			break;
		}
		held = ir_etcd_kvs_find(&r.got, plan_key);
		done = ir_etcd_kvs_find(&r.got, done_key);
		if (held)
			rc = plan_parse(held, other);
		if (rc || !held || !done || attempt)
			break;
		/* The plan there is finished: this is a new run. */
		rc = clear_done(f, held, ctx);
		if (rc)
			break;
	}
	ir_etcd_kvs_clear(&r.got);
	free(text);
	free(at);
	return rc;
}

/* ---- the snapshot ------------------------------------------------------ */

const char *
ir_fleet_suffix_of(const struct ir_fleet *f, const char *key, const char *what)
{
	size_t plen = strlen(f->prefix), wlen = strlen(what);

	if (strncmp(key, f->prefix, plen) || strncmp(key + plen, what, wlen))
		return NULL;
	return key + plen + wlen;
}

/* A node's per-plan key: for this plan (and, with commit, this commit),
 * or stale. */
static bool
for_plan(const json_t *j, const struct ir_fleet_plan *p, bool commit)
{
	const char *c = json_string_value(json_object_get(j, "commit"));

	if (ir_fleet_jint(j, "plan") != p->rev)
		return false;
	return !commit || (c && !strcmp(c, p->commit));
}

static void
read_node_key(const struct ir_fleet *f, struct ir_fleet_view *v,
	      const struct ir_etcd_kv *kv)
{
	static const char *const kinds[] = { "hb/", "stopped/", "status/",
					     "verdict/", "decision/" };
	const char *node = NULL;
	struct ir_fleet_node_view *x;
	json_t *j;
	size_t k;
	int i;

	for (k = 0; k < sizeof(kinds) / sizeof(*kinds) && !node; k++)
		node = ir_fleet_suffix_of(f, kv->key, kinds[k]);
	if (!node)
		return;
	k--;
	i = ir_fleet_plan_node(&v->plan, node);
	if (i < 0)
		return;
	x = &v->node[i];
	if (k == 0) {
		x->alive = true;
		return;
	}
	j = ir_fleet_parse(kv);
	if (k == 1 && for_plan(j, &v->plan, false)) {
		x->stopped = true;
		ir_fleet_jstr(x->stop_status, sizeof(x->stop_status), j, "status");
	} else if (k == 2 && for_plan(j, &v->plan, true)) {
		x->reported = true;
		ir_fleet_jstr(x->status, sizeof(x->status), j, "status");
		x->inc = (uint64_t)ir_fleet_jint(j, "inc");
	} else if (k == 2) {
		x->stale = true;
	} else if (k == 3 && for_plan(j, &v->plan, false)) {
		x->unknown = true;
		ir_fleet_jstr(x->unknown_why, sizeof(x->unknown_why), j, "why");
	} else if (k == 4 && for_plan(j, &v->plan, false)) {
		x->decided = true;
		ir_fleet_jstr(x->decision_question,
			      sizeof(x->decision_question), j, "question");
		ir_fleet_jstr(x->decision_answer, sizeof(x->decision_answer),
			      j, "answer");
	}
	json_decref(j);
}

static void
read_fleet_key(const struct ir_fleet *f, struct ir_fleet_view *v,
	       const struct ir_etcd_kv *kv)
{
	const char *slot = ir_fleet_suffix_of(f, kv->key, "slot/");
	const char *rest = ir_fleet_suffix_of(f, kv->key, "");
	json_t *j;
	int i;

	if (slot) {
		v->slots_used++;
		i = ir_fleet_plan_node(&v->plan, kv->value);
		if (i >= 0)
			v->node[i].in_slot = true;
		return;
	}
	if (!strcmp(rest, "wave")) {
		v->have_wave = true;
		v->wave = (unsigned)strtoul(kv->value, NULL, 10);
		return;
	}
	if (!strcmp(rest, "leader")) {
		snprintf(v->leader, sizeof(v->leader), "%s", kv->value);
		return;
	}
	j = ir_fleet_parse(kv);
	if (!strcmp(rest, "wave_at")) {
		v->wave_ts = ir_fleet_jint(j, "ts");
	} else if (!strcmp(rest, "wave_done") &&
		   (unsigned)ir_fleet_jint(j, "wave") == v->wave) {
		v->wave_done = true;
		v->wave_done_ts = ir_fleet_jint(j, "ts");
	} else if (!strcmp(rest, "abort")) {
		v->aborted = true;
		ir_fleet_jstr(v->abort_why, sizeof(v->abort_why), j, "why");
	} else if (!strcmp(rest, "done")) {
		v->done = true;
		ir_fleet_jstr(v->done_status, sizeof(v->done_status), j, "status");
	} else {
		read_node_key(f, v, kv);
	}
	json_decref(j);
}

static bool
is_wave_key(const struct ir_fleet *f, const struct ir_etcd_kv *kv)
{
	const char *rest = ir_fleet_suffix_of(f, kv->key, "");

	return rest && !strcmp(rest, "wave");
}

int
ir_fleet_read(struct ir_fleet *f, struct ir_fleet_view *v, int64_t *rev,
	      struct ir_ctx *ctx)
{
	struct ir_etcd_kvs kvs = { 0 };
	char end[300], plan_key[300];
	const struct ir_etcd_kv *plan;
	size_t i;
	int rc;

	memset(v, 0, sizeof(*v));
	/* Every key but the digests, which sort between "abort" and
	 * "done": two ranges around them. */
	ir_fleet_key(f, end, sizeof(end), "digest/");
	rc = ir_etcd_range(f->etcd, f->prefix, end, &kvs, ctx);
	if (!rc) {
		char from[300];

		ir_fleet_key(f, from, sizeof(from), "digest0");
		ir_etcd_prefix_end(end, sizeof(end), f->prefix);
		rc = ir_etcd_range(f->etcd, from, end, &kvs, ctx);
	}
	if (rc)
		goto out;
	if (rev)
		*rev = kvs.revision;
	ir_fleet_key(f, plan_key, sizeof(plan_key), "plan");
	plan = ir_etcd_kvs_find(&kvs, plan_key);
	if (plan && !plan_parse(plan, &v->plan))
		v->have_plan = true;
	/* The wave first: wave_done is read against it. */
	for (i = 0; i < kvs.n; i++)
		if (is_wave_key(f, &kvs.kv[i]))
			read_fleet_key(f, v, &kvs.kv[i]);
	for (i = 0; i < kvs.n; i++)
		if (&kvs.kv[i] != plan && !is_wave_key(f, &kvs.kv[i]))
			read_fleet_key(f, v, &kvs.kv[i]);
out:
	ir_etcd_kvs_clear(&kvs);
	return rc;
}

int
ir_fleet_wait(struct ir_fleet *f, int64_t rev, uint64_t wait_ms,
	      struct ir_ctx *ctx)
{
	char end[300];

	ir_etcd_prefix_end(end, sizeof(end), f->prefix);
	return ir_etcd_watch(f->etcd, f->prefix, end, rev ? rev + 1 : 0,
			     wait_ms, NULL, ctx);
}

/* ---- lease, heartbeat, leader ------------------------------------------ */

int
ir_fleet_heartbeat(struct ir_fleet *f, int64_t ttl_s, bool *renewed,
		   struct ir_ctx *ctx)
{
	char key[300], value[96];
	int64_t ttl = 0;
	int rc;

	*renewed = false;
	if (f->lease) {
		rc = ir_etcd_lease_keepalive(f->etcd, f->lease, &ttl, ctx);
		if (rc != -ENOENT)
			return rc;
		ir_error_clear(ctx);
		f->lease = 0;
		f->leader_rev = 0;
		*renewed = true;
	}
	rc = ir_etcd_lease_grant(f->etcd, ttl_s, &f->lease, ctx);
	if (rc)
		return rc;
	ir_fleet_node_key(f, key, sizeof(key), "hb", f->node);
	snprintf(value, sizeof(value), "{\"pid\":%ld}", (long)getpid());
	rc = ir_etcd_put(f->etcd, key, value, f->lease, NULL, ctx);
	if (rc) {
		struct ir_ctx quiet = { 0 };

		lease_drop(f, &quiet);
	}
	return rc;
}

int
ir_fleet_campaign(struct ir_fleet *f, bool *leader, struct ir_ctx *ctx)
{
	char key[300];
	struct ir_etcd_cmp cmp;
	struct ir_etcd_op put, get;
	struct ir_etcd_txn_result r;
	const struct ir_etcd_kv *kv;
	int rc;

	*leader = false;
	if (!f->lease)
		return 0;
	ir_fleet_key(f, key, sizeof(key), "leader");
	cmp = (struct ir_etcd_cmp){ key, IR_ETCD_CREATE, IR_ETCD_EQUAL, 0,
				    NULL };
	put = (struct ir_etcd_op){ IR_ETCD_OP_PUT, key, NULL, f->node,
				   f->lease };
	get = (struct ir_etcd_op){ IR_ETCD_OP_GET, key, NULL, NULL, 0 };
	rc = ir_etcd_txn(f->etcd, &cmp, 1, &put, 1, &get, 1, &r, ctx);
	if (rc)
		goto out;
	if (r.succeeded) {
		f->leader_rev = r.revision;
		*leader = true;
		goto out;
	}
	kv = r.got.n ? &r.got.kv[0] : NULL;
	/* Still ours from an earlier campaign on this lease. */
	if (kv && kv->lease == f->lease && !strcmp(kv->value, f->node)) {
		f->leader_rev = kv->mod_rev;
		*leader = true;
	} else {
		f->leader_rev = 0;
	}
out:
	ir_etcd_kvs_clear(&r.got);
	return rc;
}

/* A transaction fenced on v's plan and, for the leader, its election. */
static int
fenced_txn(struct ir_fleet *f, const struct ir_fleet_view *v, bool leader,
	   const struct ir_etcd_cmp *more, size_t nmore,
	   const struct ir_etcd_op *ops, size_t nops, bool *held,
	   struct ir_ctx *ctx)
{
	char plan_key[300], leader_key[300];
	struct ir_etcd_cmp cmp[6];
	struct ir_etcd_txn_result r;
	size_t n = 0, i;
	int rc;

	ir_fleet_key(f, plan_key, sizeof(plan_key), "plan");
	ir_fleet_key(f, leader_key, sizeof(leader_key), "leader");
	cmp[n++] = (struct ir_etcd_cmp){ plan_key, IR_ETCD_CREATE,
					 IR_ETCD_EQUAL, v->plan.rev, NULL };
	if (leader)
		cmp[n++] = (struct ir_etcd_cmp){ leader_key, IR_ETCD_MOD,
						 IR_ETCD_EQUAL, f->leader_rev,
						 NULL };
	for (i = 0; i < nmore && n < 6; i++)
		cmp[n++] = more[i];
	rc = ir_etcd_txn(f->etcd, cmp, n, ops, nops, NULL, 0, &r, ctx);
	ir_etcd_kvs_clear(&r.got);
	*held = !rc && r.succeeded;
	return rc;
}

static char *
note_json(const char *k1, const char *v1, const char *why, int64_t plan,
	  int64_t now)
{
	json_t *j = json_object();

	if (k1)
		json_object_set_new(j, k1, json_string(v1));
	if (why)
		json_object_set_new(j, "why", json_string(why));
	if (plan)
		json_object_set_new(j, "plan", json_integer(plan));
	json_object_set_new(j, "ts", json_integer(now));
	return ir_fleet_dump(j);
}

static char *
decision_json(const struct ir_fleet_view *v, const struct ir_fleet_next *n,
	      int64_t now)
{
	json_t *j = json_object();
	char rule[32];

	snprintf(rule, sizeof(rule), "--unanswered %s",
		 ir_fleet_unanswered(&v->plan));
	json_object_set_new(j, "plan", json_integer(v->plan.rev));
	json_object_set_new(j, "question", json_string(n->question));
	json_object_set_new(j, "answer",
			    json_string(n->act == IR_FLEET_ABORT ? "no"
								 : "yes"));
	json_object_set_new(j, "rule", json_string(rule));
	json_object_set_new(j, "by", json_string(v->plan.by));
	json_object_set_new(j, "why", json_string(n->why));
	json_object_set_new(j, "ts", json_integer(now));
	return ir_fleet_dump(j);
}

int
ir_fleet_lead(struct ir_fleet *f, const struct ir_fleet_view *v,
	      const struct ir_fleet_next *n, int64_t now, struct ir_ctx *ctx)
{
	char k1[300], k2[300], k3[300], wave[16];
	char *val = NULL, *val2 = NULL;
	struct ir_etcd_op ops[3];
	struct ir_etcd_cmp absent;
	size_t nops = 0, nmore = 0;
	bool held = false;
	int rc;

	if (!f->leader_rev)
		return -ESTALE;
	switch (n->act) {
	case IR_FLEET_WAIT:
		return 0;
	case IR_FLEET_START_WAVE:
		snprintf(wave, sizeof(wave), "%u", n->wave);
		ir_fleet_key(f, k1, sizeof(k1), "wave");
		ir_fleet_key(f, k2, sizeof(k2), "wave_at");
		ir_fleet_key(f, k3, sizeof(k3), "wave_done");
		val = wave_at_json(n->wave, now);
		ops[nops++] = (struct ir_etcd_op){ IR_ETCD_OP_PUT, k1, NULL,
						   wave, 0 };
		ops[nops++] = (struct ir_etcd_op){ IR_ETCD_OP_PUT, k2, NULL,
						   val, 0 };
		ops[nops++] = (struct ir_etcd_op){ IR_ETCD_OP_DELETE, k3, NULL,
						   NULL, 0 };
		break;
	case IR_FLEET_WAVE_DONE:
		ir_fleet_key(f, k1, sizeof(k1), "wave_done");
		val = wave_at_json(n->wave, now);
		ops[nops++] = (struct ir_etcd_op){ IR_ETCD_OP_PUT, k1, NULL,
						   val, 0 };
		break;
	case IR_FLEET_MARK_UNKNOWN:
		ir_fleet_node_key(f, k1, sizeof(k1), "verdict", v->plan.node[n->node]);
		val = note_json("verdict", "unknown", n->why, v->plan.rev, now);
		ops[nops++] = (struct ir_etcd_op){ IR_ETCD_OP_PUT, k1, NULL,
						   val, 0 };
		break;
	case IR_FLEET_ABORT:
		ir_fleet_key(f, k1, sizeof(k1), "abort");
		snprintf(k2, sizeof(k2), "leader %s", f->node);
		val = note_json("by", k2, n->why, 0, now);
		ops[nops++] = (struct ir_etcd_op){ IR_ETCD_OP_PUT, k1, NULL,
						   val, 0 };
		absent = (struct ir_etcd_cmp){ k1, IR_ETCD_VERSION,
					       IR_ETCD_EQUAL, 0, NULL };
		nmore = 1;
		break;
	case IR_FLEET_FINISH:
		ir_fleet_key(f, k1, sizeof(k1), "done");
		val = note_json("status", n->status, n->why, 0, now);
		ops[nops++] = (struct ir_etcd_op){ IR_ETCD_OP_PUT, k1, NULL,
						   val, 0 };
		break;
	}
	if (n->decision && n->node >= 0 &&
	    (n->act == IR_FLEET_MARK_UNKNOWN || n->act == IR_FLEET_ABORT)) {
		/* The operator's decision it carries out, beside it. */
		ir_fleet_node_key(f, k3, sizeof(k3), "decision",
				  v->plan.node[n->node]);
		val2 = decision_json(v, n, now);
		ops[nops++] = (struct ir_etcd_op){ IR_ETCD_OP_PUT, k3, NULL,
						   val2, 0 };
	}
	rc = val && (!n->decision || val2)
		     ? fenced_txn(f, v, true, &absent, nmore, ops, nops, &held,
				  ctx)
		     : -ENOMEM;
	free(val);
	free(val2);
	if (!rc && !held && n->act != IR_FLEET_ABORT) {
		f->leader_rev = 0;
		return -ESTALE;
	}
	return rc;
}

/* ---- a node's keys ----------------------------------------------------- */

int
ir_fleet_stopped(struct ir_fleet *f, const struct ir_fleet_view *v,
		 const char *status, uint64_t inc, int64_t now,
		 struct ir_ctx *ctx)
{
	char key[300], *val;
	struct ir_etcd_op op;
	json_t *j = json_object();
	bool held;
	int rc;

	json_object_set_new(j, "plan", json_integer(v->plan.rev));
	json_object_set_new(j, "status", json_string(status));
	json_object_set_new(j, "inc", json_integer((json_int_t)inc));
	json_object_set_new(j, "ts", json_integer(now));
	val = ir_fleet_dump(j);
	if (!val)
		return -ENOMEM;
	ir_fleet_node_key(f, key, sizeof(key), "stopped", f->node);
	op = (struct ir_etcd_op){ IR_ETCD_OP_PUT, key, NULL, val, 0 };
	rc = fenced_txn(f, v, false, NULL, 0, &op, 1, &held, ctx);
	free(val);
	if (!rc && !held)
		rc = ir_error_set(ctx, -ECANCELED, IR_ORIGIN_RUN, 0,
				  "fleet %s: the plan changed meanwhile",
				  f->name);
	return rc;
}

int
ir_fleet_slot_take(struct ir_fleet *f, const struct ir_fleet_view *v,
		   struct ir_fleet_slot *out, struct ir_ctx *ctx)
{
	char abort_key[300], wave_key[300], verdict_key[300], slot_key[300];
	char wave[16];
	unsigned i;
	int rc;

	if (!f->lease)
		return -EAGAIN;
	ir_fleet_key(f, abort_key, sizeof(abort_key), "abort");
	ir_fleet_key(f, wave_key, sizeof(wave_key), "wave");
	ir_fleet_node_key(f, verdict_key, sizeof(verdict_key), "verdict", f->node);
	snprintf(wave, sizeof(wave), "%u", v->wave);
	for (i = 0; i < v->plan.max_unavailable; i++) {
		struct ir_etcd_cmp more[4];
		struct ir_etcd_op op;
		char idx[16];
		bool held;

		snprintf(idx, sizeof(idx), "slot/%u", i);
		ir_fleet_key(f, slot_key, sizeof(slot_key), idx);
		more[0] = (struct ir_etcd_cmp){ abort_key, IR_ETCD_VERSION,
						IR_ETCD_EQUAL, 0, NULL };
		more[1] = (struct ir_etcd_cmp){ wave_key, IR_ETCD_VALUE,
						IR_ETCD_EQUAL, 0, wave };
		more[2] = (struct ir_etcd_cmp){ verdict_key, IR_ETCD_VERSION,
						IR_ETCD_EQUAL, 0, NULL };
		more[3] = (struct ir_etcd_cmp){ slot_key, IR_ETCD_CREATE,
						IR_ETCD_EQUAL, 0, NULL };
		op = (struct ir_etcd_op){ IR_ETCD_OP_PUT, slot_key, NULL,
					  f->node, f->lease };
		rc = fenced_txn(f, v, false, more, 4, &op, 1, &held, ctx);
		if (rc)
			return rc;
		if (held) {
			struct ir_etcd_kvs kvs = { 0 };

			/* The token is the slot key's own mod_revision. */
			rc = ir_etcd_range(f->etcd, slot_key, NULL, &kvs, ctx);
			if (!rc && (!kvs.n || kvs.kv[0].lease != f->lease))
				rc = -EAGAIN;
			if (!rc) {
				out->index = i;
				out->rev = kvs.kv[0].mod_rev;
			}
			ir_etcd_kvs_clear(&kvs);
			return rc;
		}
	}
	/* Every slot refused: in use, or the run moved on. */
	{
		struct ir_fleet_view now;

		rc = ir_fleet_read(f, &now, NULL, ctx);
		if (rc)
			return rc;
		if (now.aborted || now.wave != v->wave ||
		    now.plan.rev != v->plan.rev)
			return ir_error_set(ctx, -ECANCELED, IR_ORIGIN_RUN, 0,
					    "fleet %s: %s", f->name,
					    now.aborted ? "aborted"
							: "the wave moved on");
	}
	return -EAGAIN;
}

int
ir_fleet_status_put(struct ir_fleet *f, const struct ir_fleet_view *v,
		    const struct ir_fleet_slot *slot,
		    const struct ir_fleet_outcome *o, int64_t now,
		    struct ir_ctx *ctx)
{
	char key[300], slot_key[300], idx[16], *val;
	struct ir_etcd_cmp fence;
	struct ir_etcd_op ops[2];
	json_t *j = json_object();
	bool held;
	int rc;

	json_object_set_new(j, "plan", json_integer(v->plan.rev));
	json_object_set_new(j, "commit", json_string(o->commit ? o->commit
							       : ""));
	json_object_set_new(j, "status", json_string(o->status));
	json_object_set_new(j, "inc", json_integer((json_int_t)o->inc));
	json_object_set_new(j, "head", json_string(o->head ? o->head : ""));
	json_object_set_new(j, "events", json_integer((json_int_t)o->events));
	json_object_set_new(j, "ts", json_integer(now));
	val = ir_fleet_dump(j);
	if (!val)
		return -ENOMEM;
	snprintf(idx, sizeof(idx), "slot/%u", slot->index);
	ir_fleet_key(f, slot_key, sizeof(slot_key), idx);
	ir_fleet_node_key(f, key, sizeof(key), "status", f->node);
	fence = (struct ir_etcd_cmp){ slot_key, IR_ETCD_MOD, IR_ETCD_EQUAL,
				      slot->rev, NULL };
	ops[0] = (struct ir_etcd_op){ IR_ETCD_OP_PUT, key, NULL, val, 0 };
	ops[1] = (struct ir_etcd_op){ IR_ETCD_OP_DELETE, slot_key, NULL, NULL,
				      0 };
	rc = fenced_txn(f, v, false, &fence, 1, ops, 2, &held, ctx);
	free(val);
	if (!rc && !held)
		rc = ir_error_set(ctx, -ESTALE, IR_ORIGIN_RUN, 0,
				  "fleet %s: slot %u is no longer this node's "
				  "(its lease expired): the status was not "
				  "written",
				  f->name, slot->index);
	return rc;
}

int
ir_fleet_abort(struct ir_fleet *f, const char *by, const char *why,
	       int64_t now, bool *first, struct ir_ctx *ctx)
{
	char key[300], *val = note_json("by", by, why, 0, now);
	struct ir_etcd_cmp cmp = { key, IR_ETCD_VERSION, IR_ETCD_EQUAL, 0,
				   NULL };
	struct ir_etcd_op op = { IR_ETCD_OP_PUT, key, NULL, val, 0 };
	struct ir_etcd_txn_result r;
	int rc;

	if (!val)
		return -ENOMEM;
	ir_fleet_key(f, key, sizeof(key), "abort");
	rc = ir_etcd_txn(f->etcd, &cmp, 1, &op, 1, NULL, 0, &r, ctx);
	ir_etcd_kvs_clear(&r.got);
	free(val);
	*first = !rc && r.succeeded;
	return rc;
}
