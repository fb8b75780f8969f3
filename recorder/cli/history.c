/*
 * What an incident's own events say of it.  The header in db `incidents`
 * repeats a few of those facts for listing; anyone with write access to
 * the data directory can edit it without touching the hash chain, so the
 * rules that read history (known-good, known-bad) and `incident verify`
 * read the events, through the executor's own fold (ir_state_apply).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The event types whose data the history reads; the rest are folded by
 * type and step alone (their data is left undecoded: a long incident is
 * almost all step.output). */
static bool
needs_data(const char *type)
{
	return !strcmp(type, "incident.opened") ||
	       !strcmp(type, "target.chosen") ||
	       !strcmp(type, "incident.closed") || !strcmp(type, "tag.marked");
}

struct history_scan {
	uint64_t id;
	struct cli_history *h;
	struct ir_ctx *ctx;
};

static void
copy_field(char *dst, size_t cap, const struct ir_event *ev, const char *key)
{
	const char *v = ir_val_get_str(ev->data, key);

	snprintf(dst, cap, "%s", v ? v : "");
}

static void
history_apply(struct cli_history *h, const struct ir_event *ev)
{
	ir_state_apply(&h->st, ev);
	h->events = ev->seq;
	if (!strcmp(ev->type, "incident.closed") && !h->closed)
		h->closed = ev->ts;
	else if (!strcmp(ev->type, "step.completed") &&
		 !strcmp(ev->step, "health"))
		h->health_passed = true;
	else if (!strcmp(ev->type, "tag.marked") && !h->marked) {
		h->marked = true;
		copy_field(h->mark.tag, sizeof(h->mark.tag), ev, "tag");
		copy_field(h->mark.as, sizeof(h->mark.as), ev, "as");
		copy_field(h->mark.reason, sizeof(h->mark.reason), ev,
			   "reason");
		copy_field(h->mark.actor, sizeof(h->mark.actor), ev, "actor");
		h->mark.ts = ev->ts;
	}
}

int
cli_event_read(uint64_t id, const struct ir_event *key, const void *raw,
	       size_t len, bool (*want)(const char *type), struct ir_event *ev,
	       struct ir_ctx *ctx)
{
	struct ir_event_head head;
	int rc = ir_codec_peek(&head, raw, len);

	memset(ev, 0, sizeof(*ev));
	rc = ir_evlog_check_raw(id, key, &head, rc, ctx);
	if (rc)
		return rc;
	if (want(head.type)) {
		rc = ir_codec_decode(ev, raw, len);
		return rc ? ir_evlog_check_raw(id, key, &head, rc, ctx) : 0;
	}
	ev->seq = head.seq;
	ev->ts = head.ts;
	ev->mono = head.mono;
	memcpy(ev->type, head.type, sizeof(ev->type));
	memcpy(ev->step, head.step, sizeof(ev->step));
	return 0;
}

static int
history_one(void *payload, const struct ir_event *key, const void *raw,
	    size_t len)
{
	struct history_scan *s = payload;
	struct ir_event ev;
	int rc = cli_event_read(s->id, key, raw, len, needs_data, &ev, s->ctx);

	if (rc)
		return rc;
	history_apply(s->h, &ev);
	ir_event_clear(&ev);
	return 0;
}

int
cli_history_of(struct cli *cli, uint64_t id, bool chain,
	       struct cli_history *out, struct ir_ctx *ctx)
{
	struct history_scan s = { id, NULL, ctx };
	struct cli_history *h = calloc(1, sizeof(*h));
	int rc;

	if (!h)
		return -ENOMEM;
	ir_state_init(&h->st);
	h->mark.id = id;
	s.h = h;
	rc = ir_evlog_scan(cli->log, id, 1,
			   IR_EVLOG_RAW | (chain ? IR_EVLOG_CHAIN : 0),
			   history_one, &s, ctx);
	if (!rc)
		*out = *h;
	free(h);
	return rc;
}

/* A header field and what the events say, as text for the message. */
static bool
differs_str(const char *field, const char *header, const char *events,
	    struct cli_header_fault *f)
{
	if (!strcmp(header, events))
		return false;
	snprintf(f->field, sizeof(f->field), "%s", field);
	snprintf(f->header, sizeof(f->header), "\"%s\"", header);
	snprintf(f->events, sizeof(f->events), "\"%s\"", events);
	return true;
}

static bool
differs_ts(const char *field, int64_t header, int64_t events,
	   struct cli_header_fault *f)
{
	if (header == events)
		return false;
	snprintf(f->field, sizeof(f->field), "%s", field);
	if (header)
		cli_utc(f->header, sizeof(f->header), header);
	if (events)
		cli_utc(f->events, sizeof(f->events), events);
	/* Equal to the second, different to the nanosecond. */
	if (!header || !events || !strcmp(f->header, f->events)) {
		snprintf(f->header, sizeof(f->header), "%lld",
			 (long long)header);
		snprintf(f->events, sizeof(f->events), "%lld",
			 (long long)events);
	}
	return true;
}

bool
cli_header_differs(const struct ir_incident *inc, const struct cli_history *h,
		   struct cli_header_fault *f)
{
	memset(f, 0, sizeof(*f));
	if (differs_str("kind", inc->kind, h->st.kind, f) ||
	    differs_str("status", inc->status, h->st.status, f) ||
	    differs_str("from", inc->from, h->st.from, f) ||
	    differs_str("target", inc->target, h->st.target, f) ||
	    differs_ts("opened", inc->opened, h->st.opened_ts, f) ||
	    differs_ts("closed", inc->closed, h->closed, f))
		return true;
	/* events and head: the scan itself holds them to the header. */
	if (inc->events == h->events)
		return false;
	snprintf(f->field, sizeof(f->field), "events");
	snprintf(f->header, sizeof(f->header), "%llu",
		 (unsigned long long)inc->events);
	snprintf(f->events, sizeof(f->events), "%llu",
		 (unsigned long long)h->events);
	return true;
}

static struct cli_told *
told_slot(struct cli *cli, uint64_t id)
{
	struct cli_told *t;
	size_t i;

	for (i = 0; i < cli->n_told; i++)
		if (cli->told[i].id == id)
			return &cli->told[i];
	if (cli->n_told == cli->cap_told) {
		size_t cap = cli->cap_told ? cli->cap_told * 2 : 32;

		t = realloc(cli->told, cap * sizeof(*t));
		if (!t)
			return NULL;
		cli->told = t;
		cli->cap_told = cap;
	}
	t = &cli->told[cli->n_told++];
	memset(t, 0, sizeof(*t));
	t->id = id;
	return t;
}

int
cli_told_of(struct cli *cli, const struct ir_incident *inc,
	    const struct cli_told **out, struct ir_ctx *ctx)
{
	struct cli_told *t = told_slot(cli, inc->id);
	struct cli_history *h;
	struct ir_ctx mine = { 0 };
	int rc;

	if (!t)
		return -ENOMEM;
	if (t->events && t->events == inc->events &&
	    !memcmp(t->head, inc->head, IR_HASH_LEN)) {
		*out = t;
		return 0;
	}
	h = malloc(sizeof(*h));
	if (!h)
		return -ENOMEM;
	/* The chain is verify's to check; a verdict reads often. */
	rc = cli_history_of(cli, inc->id, false, h, &mine);
	if (rc && rc != -EBADMSG) {
		free(h);
		return ir_error_set(ctx, rc, mine.err.origin, mine.err.native,
				    "%s", ir_error_msg(&mine, rc));
	}
	t->events = inc->events;
	memcpy(t->head, inc->head, IR_HASH_LEN);
	t->readable = !rc;
	if (!rc) {
		snprintf(t->kind, sizeof(t->kind), "%s", h->st.kind);
		snprintf(t->status, sizeof(t->status), "%s", h->st.status);
		snprintf(t->from, sizeof(t->from), "%s", h->st.from);
		snprintf(t->target, sizeof(t->target), "%s", h->st.target);
		t->closed = h->closed;
		t->health_passed = h->health_passed;
		t->marked = h->marked;
		t->mark = h->mark;
	}
	free(h);
	*out = t;
	return 0;
}
