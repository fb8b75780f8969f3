#include "rec.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir_limits.h"

#define MAX_SUBS 4

struct sub {
	ir_rec_sub_fn fn;
	void *payload;
};

/* The signer thread: the checkpoint after a step, signed and kept while
 * the executor goes on (see checkpoint() below). */
struct signer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool busy; /* a checkpoint handed over and not yet collected */
	bool done; /* ... signed, or failed (rc, local) */
	bool quit;
	const struct ir_effects *fx;
	struct ir_ledger_head head;
	char what[128];
	int rc;
	struct ir_ctx local;
};

struct ir_rec {
	struct ir_evlog *log;
	const struct ir_effects *fx;
	uint64_t id;
	uint64_t mono_base;
	struct sub subs[MAX_SUBS];
	size_t n_subs;
	struct ir_event *pending[IR_LIMIT_OUTPUT_BATCH + 1];
	size_t n_pending;
	uint64_t pending_since;
	struct ir_state state;
	void (*tick_fn)(void *payload, uint64_t mono);
	void *tick_payload;
	bool plan;         /* nothing reaches the log (ir_rec_plan) */
	struct signer *signer; /* started with the first checkpoint */
};

static int collect(struct ir_rec *rec, bool wait, struct ir_ctx *ctx);
static void signer_stop(struct ir_rec *rec);

void
ir_rec_plan(struct ir_rec *rec)
{
	rec->plan = true;
}

void
ir_rec_on_tick(struct ir_rec *rec, void (*fn)(void *payload, uint64_t mono),
	       void *payload)
{
	rec->tick_fn = fn;
	rec->tick_payload = payload;
}

int
ir_rec_new(struct ir_rec **out, struct ir_evlog *log,
	   const struct ir_effects *fx)
{
	struct ir_rec *rec = calloc(1, sizeof(*rec));

	if (!rec)
		return -ENOMEM;
	rec->log = log;
	rec->fx = fx;
	ir_state_init(&rec->state);
	*out = rec;
	return 0;
}

static void
drop_pending(struct ir_rec *rec)
{
	size_t i;

	for (i = 0; i < rec->n_pending; i++) {
		ir_event_clear(rec->pending[i]);
		free(rec->pending[i]);
	}
	rec->n_pending = 0;
}

void
ir_rec_free(struct ir_rec *rec)
{
	if (!rec)
		return;
	if (rec->id) {
		struct ir_ctx ignored = { 0 };

		if (collect(rec, true, &ignored) ||
		    (rec->n_pending && ir_rec_flush(rec, &ignored)))
			ignored.err.code = 0; /* nothing left to tell */
	}
	signer_stop(rec);
	drop_pending(rec);
	free(rec);
}

int
ir_rec_subscribe(struct ir_rec *rec, ir_rec_sub_fn fn, void *payload)
{
	if (rec->n_subs == MAX_SUBS)
		return -ENOSPC;
	rec->subs[rec->n_subs].fn = fn;
	rec->subs[rec->n_subs].payload = payload;
	rec->n_subs++;
	return 0;
}

static void
publish(struct ir_rec *rec, const struct ir_event *ev)
{
	size_t i;

	ir_state_apply(&rec->state, ev);
	for (i = 0; i < rec->n_subs; i++)
		rec->subs[i].fn(rec->subs[i].payload, ev);
}

static struct ir_event *
make_event(struct ir_rec *rec, const char *type, const char *step,
	   struct ir_val *data)
{
	struct ir_event *ev = calloc(1, sizeof(*ev));
	uint64_t now;

	if (!ev) {
		ir_val_free(data);
		return NULL;
	}
	snprintf(ev->type, sizeof(ev->type), "%s", type);
	snprintf(ev->step, sizeof(ev->step), "%s", step ? step : "");
	ev->ts = rec->fx->wall(rec->fx->self);
	now = rec->fx->mono(rec->fx->self);
	ev->mono = now > rec->mono_base ? now - rec->mono_base : 0;
	/* mono never runs backwards within an incident. */
	if (ev->mono < rec->state.last_mono)
		ev->mono = rec->state.last_mono;
	ev->data = data;
	return ev;
}

int
ir_rec_open(struct ir_rec *rec, const char *kind, struct ir_val *data,
	    struct ir_ctx *ctx)
{
	struct ir_event *ev;
	int rc;

	if (!data)
		data = ir_val_map_new();
	if (!data)
		return -ENOMEM;
	ir_val_set_str(data, "kind", kind);
	rec->mono_base = rec->fx->mono(rec->fx->self);
	ev = make_event(rec, "incident.opened", NULL, data);
	if (!ev)
		return -ENOMEM;
	ev->mono = 0;
	if (rec->plan) {
		/* Numbered as the log would number it next. */
		rc = ir_evlog_last_id(rec->log, &rec->id, ctx);
		rec->id++;
		ev->seq = 1;
	} else {
		rc = ir_evlog_create(rec->log, &rec->id, ev, ctx);
	}
	if (!rc)
		publish(rec, ev);
	ir_event_clear(ev);
	free(ev);
	return rc;
}

static int
attach_one(void *payload, const struct ir_event *ev, const void *raw,
	   size_t len)
{
	publish(payload, ev);
	return 0;
}

int
ir_rec_attach(struct ir_rec *rec, uint64_t id, struct ir_ctx *ctx)
{
	int64_t gap;
	int rc;

	ir_state_init(&rec->state);
	rc = ir_evlog_scan(rec->log, id, 1, IR_EVLOG_DECODE | IR_EVLOG_CHAIN,
			   attach_one, rec, ctx);
	if (rc)
		return rc;
	rec->id = id;
	/* Continue the incident's clock: the last event's mono plus the
	 * wall-clock time since it. */
	gap = rec->fx->wall(rec->fx->self) - rec->state.last_ts;
	if (gap < 0)
		gap = 0;
	rec->mono_base = rec->fx->mono(rec->fx->self) - rec->state.last_mono -
			 (uint64_t)gap;
	return 0;
}

/*
 * A checkpoint after each commit that ends a step or closes the incident:
 * the ledger's size and root then, signed and kept by the world, and a
 * `checkpoint` event that rides with the next commit at the latest (a
 * close's goes in with the close's own commit: flush_close()).  Signing
 * is no step of the runbook: when it fails the event says why and the run
 * goes on.
 */
static const char *
ends_what(struct ir_rec *rec, char *what, size_t cap, bool *close)
{
	size_t i;

	*close = false;
	what[0] = '\0';
	for (i = 0; i < rec->n_pending; i++) {
		const struct ir_event *ev = rec->pending[i];

		if (!strcmp(ev->type, "incident.closed")) {
			*close = true;
			snprintf(what, cap, "INC-%llu closed",
				 (unsigned long long)rec->id);
		} else if (!strcmp(ev->type, "step.completed") ||
			   !strcmp(ev->type, "step.failed") ||
			   !strcmp(ev->type, "step.skipped")) {
			snprintf(what, cap, "INC-%llu after %s",
				 (unsigned long long)rec->id, ev->step);
		}
	}
	return what[0] ? what : NULL;
}

static struct ir_val *
checkpoint_data(const struct ir_ledger_head *head, const char *what,
		int signed_rc, struct ir_ctx *local)
{
	struct ir_val *d = ir_val_map_new();

	if (!signed_rc) {
		ir_val_set_uint(d, "size", head->size);
		ir_val_set_bin(d, "root", head->root, sizeof(head->root));
	} else {
		ir_val_set_str(d, "error", ir_error_msg(local, signed_rc));
	}
	ir_val_set_str(d, "what", what);
	return d;
}

static int
emit_checkpoint(struct ir_rec *rec, const struct ir_ledger_head *head,
		const char *what, int signed_rc, struct ir_ctx *local,
		struct ir_ctx *ctx)
{
	return ir_rec_emit(rec, "checkpoint", NULL,
			   checkpoint_data(head, what, signed_rc, local), ctx);
}

static void *
signer_main(void *arg)
{
	struct signer *s = arg;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		int rc;

		while (!s->quit && !(s->busy && !s->done))
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->quit)
			break;
		pthread_mutex_unlock(&s->mu);
		rc = s->fx->checkpoint(s->fx->self, &s->head, s->what,
				       IR_CHECKPOINT_SIGN | IR_CHECKPOINT_KEEP,
				       &s->local);
		pthread_mutex_lock(&s->mu);
		s->rc = rc;
		s->done = true;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Hand the checkpoint to the signer thread (started the first time, with
 * every signal blocked: they are the executor's).  false when no thread
 * could be started: the caller signs it itself. */
static bool
hand_over(struct ir_rec *rec, const struct ir_ledger_head *head,
	  const char *what)
{
	struct signer *s = rec->signer;

	if (!s) {
		sigset_t all, old;
		int rc;

		s = calloc(1, sizeof(*s));
		if (!s)
			return false;
		pthread_mutex_init(&s->mu, NULL);
		pthread_cond_init(&s->cv, NULL);
		s->fx = rec->fx;
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		rc = pthread_create(&s->thread, NULL, signer_main, s);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (rc) {
			pthread_cond_destroy(&s->cv);
			pthread_mutex_destroy(&s->mu);
			free(s);
			return false;
		}
		rec->signer = s;
	}
	pthread_mutex_lock(&s->mu);
	s->head = *head;
	snprintf(s->what, sizeof(s->what), "%s", what);
	memset(&s->local, 0, sizeof(s->local));
	s->busy = true;
	s->done = false;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return true;
}

/* The checkpoint the signer thread was given, as an event, once it is
 * signed: at once when wait (before a commit, so that it rides with it),
 * otherwise only if it is done already. */
static int
collect(struct ir_rec *rec, bool wait, struct ir_ctx *ctx)
{
	struct signer *s = rec->signer;
	struct ir_ledger_head head;
	struct ir_ctx local;
	char what[128];
	int rc;

	if (!s || !s->busy)
		return 0;
	pthread_mutex_lock(&s->mu);
	if (!s->done && !wait) {
		pthread_mutex_unlock(&s->mu);
		return 0;
	}
	while (!s->done)
		pthread_cond_wait(&s->cv, &s->mu);
	head = s->head;
	local = s->local;
	memcpy(what, s->what, sizeof(what));
	rc = s->rc;
	s->busy = false;
	pthread_mutex_unlock(&s->mu);
	return emit_checkpoint(rec, &head, what, rc, &local, ctx);
}

static void
signer_stop(struct ir_rec *rec)
{
	struct signer *s = rec->signer;

	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	while (s->busy && !s->done)
		pthread_cond_wait(&s->cv, &s->mu);
	s->quit = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
	rec->signer = NULL;
}

/* After a step, the note is signed and kept on the signer thread while
 * the next step begins (its command starts, its probe waits): a rollback
 * makes eight of them, each a signature and a file written and renamed.
 * The event comes once it is done, at the latest with the next commit. */
static int
checkpoint(struct ir_rec *rec, const char *what, struct ir_ctx *ctx)
{
	struct ir_ctx local = { 0 };
	struct ir_ledger_head head;
	int rc;

	if (rec->fx->crash_point)
		rec->fx->crash_point(rec->fx->self, "checkpoint", 1);
	rc = ir_evlog_ledger_head(rec->log, &head, &local);
	if (!rc && hand_over(rec, &head, what))
		return 0;
	if (!rc)
		rc = rec->fx->checkpoint(rec->fx->self, &head, what,
					 IR_CHECKPOINT_SIGN |
						 IR_CHECKPOINT_KEEP,
					 &local);
	return emit_checkpoint(rec, &head, what, rc, &local, ctx);
}

/*
 * The close's checkpoint is signed inside the transaction that commits
 * the close and goes in with it (one flush to disk, not two), then kept
 * once that is durable, so that no anchor names events a crash could
 * take back.  It is signed on this thread: the webhooks carry its root.
 */
struct seal {
	struct ir_rec *rec;
	const char *what;
	struct ir_event *ev;
	int signed_rc;
};

static int
seal_close(void *payload, const struct ir_ledger_head *head,
	   struct ir_event **extra)
{
	struct seal *s = payload;
	struct ir_rec *rec = s->rec;
	struct ir_ctx local = { 0 };
	int rc;

	/* Again when the map grew: sign the new head. */
	if (s->ev) {
		ir_event_clear(s->ev);
		free(s->ev);
	}
	rc = rec->fx->checkpoint(rec->fx->self, head, s->what,
				 IR_CHECKPOINT_SIGN | IR_CHECKPOINT_CLOSE,
				 &local);
	s->signed_rc = rc;
	s->ev = make_event(rec, "checkpoint", NULL,
			   checkpoint_data(head, s->what, rc, &local));
	*extra = s->ev;
	return s->ev ? 0 : -ENOMEM;
}

static int
flush_close(struct ir_rec *rec, const char *what, struct ir_ctx *ctx)
{
	struct seal s = { rec, what, NULL, 0 };
	struct ir_ctx local = { 0 };
	int rc;

	if (rec->fx->crash_point)
		rec->fx->crash_point(rec->fx->self, "checkpoint", 1);
	rc = ir_evlog_append_sealed(rec->log, rec->id, rec->pending,
				    rec->n_pending, seal_close, &s, ctx);
	if (rc) {
		if (s.ev) {
			ir_event_clear(s.ev);
			free(s.ev);
		}
		return rc;
	}
	rec->state.last_seq = s.ev->seq;
	drop_pending(rec);
	publish(rec, s.ev);
	ir_event_clear(s.ev);
	free(s.ev);
	if (s.signed_rc)
		return 0; /* not signed: the event says why */
	rc = rec->fx->checkpoint(rec->fx->self, NULL, what,
				 IR_CHECKPOINT_KEEP | IR_CHECKPOINT_CLOSE,
				 &local);
	if (rc) {
		struct ir_val *d = ir_val_map_new();

		ir_val_set_str(d, "what", "checkpoint");
		ir_val_set_str(d, "name", what);
		ir_val_set_bool(d, "ok", false);
		ir_val_set_str(d, "error", ir_error_msg(&local, rc));
		return ir_rec_emit(rec, "observation", NULL, d, ctx);
	}
	return 0;
}

int
ir_rec_flush(struct ir_rec *rec, struct ir_ctx *ctx)
{
	const char *what;
	char buf[128];
	bool close;
	int rc;

	/* The last step's checkpoint rides with this commit. */
	rc = collect(rec, true, ctx);
	if (rc)
		return rc;
	if (!rec->n_pending)
		return 0;
	what = rec->fx->checkpoint ? ends_what(rec, buf, sizeof(buf), &close)
				   : NULL;
	if (what && close)
		return flush_close(rec, what, ctx);
	rc = ir_evlog_append(rec->log, rec->id, rec->pending, rec->n_pending,
			     ctx);
	if (rc)
		return rc;
	/* The log numbers events as they land; a note added by another
	 * process in between shifts ours. */
	rec->state.last_seq = rec->pending[rec->n_pending - 1]->seq;
	drop_pending(rec);
	return what ? checkpoint(rec, what, ctx) : 0;
}

int
ir_rec_tick(struct ir_rec *rec, struct ir_ctx *ctx)
{
	uint64_t now = rec->fx->mono(rec->fx->self);
	int rc;

	if (rec->tick_fn && rec->id)
		rec->tick_fn(rec->tick_payload,
			     now > rec->mono_base ? now - rec->mono_base : 0);
	rc = collect(rec, false, ctx);
	if (rc)
		return rc;
	if (!rec->n_pending)
		return 0;
	if (now - rec->pending_since < IR_LIMIT_OUTPUT_BATCH_MS * 1000000ULL)
		return 0;
	return ir_rec_flush(rec, ctx);
}

/*
 * Which events are committed before ir_rec_emit() returns.  The rule is
 * that everything recorded is durable before any effect begins: a command
 * starts only after its step.started (ir_attempt_command flushes before it
 * opens the gate), and a step that acts without a command flushes first.
 * The events in between (decisions, observations, outcomes, output) ride
 * along with the next durable one, or the next tick, in one commit: a
 * commit costs a flush to disk, and a rollback would otherwise pay some
 * twenty of them.  A crash loses at most that unflushed tail, which the
 * resume re-establishes by looking again.
 *
 * Every event is folded into the state, and handed to the subscribers,
 * as it is emitted: the executor decides on what it has just recorded,
 * and the live display shows it at once.
 */
static bool
durable_now(const char *type)
{
	/* backup.created rides with the next step's step.started: the
	 * archive it names is already whole and in place, and a crash
	 * before that commit only makes the resumed backup write it
	 * again. */
	static const char *const types[] = {
		"incident.opened",  "incident.resumed", "incident.closed",
		"step.started",     "note",             "restore.completed",
		"step.escalated",   "incident.interrupted",
	};
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(*types); i++)
		if (!strcmp(type, types[i]))
			return true;
	return false;
}

int
ir_rec_emit(struct ir_rec *rec, const char *type, const char *step,
	    struct ir_val *data, struct ir_ctx *ctx)
{
	bool durable = durable_now(type);
	struct ir_event *ev;
	int rc;

	if (!rec->id) {
		ir_val_free(data);
		return -EINVAL;
	}
	/* A checkpoint signed meanwhile comes first; before an event that
	 * is committed at once, it is waited for, to ride with it. */
	rc = collect(rec, durable, ctx);
	if (rc) {
		ir_val_free(data);
		return rc;
	}
	ev = make_event(rec, type, step, data);
	if (!ev)
		return -ENOMEM;
	/* Its seq as the log will number it (ir_evlog_append() sets it). */
	ev->seq = rec->state.last_seq + 1;
	publish(rec, ev);
	if (rec->plan) {
		ir_event_clear(ev);
		free(ev);
		return 0;
	}
	if (!rec->n_pending)
		rec->pending_since = rec->fx->mono(rec->fx->self);
	rec->pending[rec->n_pending++] = ev;
	if (!durable && rec->n_pending < IR_LIMIT_OUTPUT_BATCH)
		return 0;
	rc = ir_rec_flush(rec, ctx);
	if (rc) {
		/* Keep the order intact: drop only the event we could not
		 * write, never reorder the ones before it.  (The state has
		 * folded it: the caller ends the run on this error.) */
		rec->n_pending--;
		ir_event_clear(ev);
		free(ev);
	}
	return rc;
}

uint64_t
ir_rec_id(const struct ir_rec *rec)
{
	return rec->id;
}

const struct ir_state *
ir_rec_state(const struct ir_rec *rec)
{
	return &rec->state;
}

uint64_t
ir_rec_mono(const struct ir_rec *rec)
{
	uint64_t now = rec->fx->mono(rec->fx->self);

	return now > rec->mono_base ? now - rec->mono_base : 0;
}

struct ir_evlog *
ir_rec_log(const struct ir_rec *rec)
{
	return rec->log;
}
