/* Reports from real event logs: incidents are written with the event log
 * API into a temporary LMDB environment, following docs/events.md, then
 * rendered in every format and read back. */
#include "testutil.h"

#include <jansson.h>
#include <locale.h>
#include <time.h>

#include "evlog.h"
#include "evlog_testhooks.h"
#include "hash.h"
#include "ir_limits.h"
#include "report.h"
#include "text.h"

/* 2024-05-01T10:40:00Z */
#define T0 1714560000000000000LL
#define MS 1000000LL

#define HOSTILE_REASON                                                      \
	"<script>alert(1)</script> & \"quotes\" 'single' \x1b[31mred\x1b[0m " \
	"| pipes |"
#define CLEAN_REASON                                                        \
	"<script>alert(1)</script> & \"quotes\" 'single' red | pipes |"
#define HOSTILE_OUTPUT "\x1b[31mwarn: <b>slow</b>\x1b[0m | pipes | \x1b]0;x\x07"
#define HOSTILE_NOTE "saw <script>alert(1)</script> & \x1b[2J `code` *bold*"

#define FROM_TAG "deploy-20240501-100000"
#define TO_TAG "deploy-20240430-090000"
#define FROM_COMMIT "1111111111111111111111111111111111111111"
#define TO_COMMIT "2222222222222222222222222222222222222222"
#define SHA "abababababababababababababababababababababababababababababababab"

struct world {
	char *dir;
	struct ir_evlog *log;
	struct ir_ctx ctx;
	uint64_t ok, failed, resumed, corrected, open;
	uint64_t corrected_seq; /* the event the note corrects */
};

/* One incident being written. */
struct inc {
	struct ir_evlog *log;
	uint64_t id;
	uint64_t seq; /* of the last event appended */
};

static struct ir_event *
ev(const char *type, const char *step, int64_t ms)
{
	struct ir_event *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	snprintf(e->type, sizeof(e->type), "%s", type);
	snprintf(e->step, sizeof(e->step), "%s", step ? step : "");
	e->mono = (uint64_t)(ms * MS);
	e->ts = T0 + ms * MS;
	e->data = ir_val_map_new();
	assert_non_null(e->data);
	return e;
}

static uint64_t
put(struct inc *inc, struct ir_event *e)
{
	struct ir_ctx ctx = { 0 };

	assert_int_equal(ir_evlog_append(inc->log, inc->id, &e, 1, &ctx), 0);
	inc->seq = e->seq;
	ir_event_clear(e);
	free(e);
	return inc->seq;
}

static void
open_incident(struct inc *inc, struct ir_evlog *log, const char *kind,
	      const char *reason, int64_t budget_ms)
{
	struct ir_event *e = ev("incident.opened", NULL, 0);
	struct ir_ctx ctx = { 0 };

	ir_val_set_str(e->data, "kind", kind);
	ir_val_set_str(e->data, "reason", reason);
	ir_val_set_str(e->data, "actor", "alice@ops1");
	ir_val_set_str(e->data, "host", "ops1");
	ir_val_set_int(e->data, "pid", 4242);
	ir_val_set_str(e->data, "version", "0.1.0");
	ir_val_set_str(e->data, "config", SHA);
	if (budget_ms > 0)
		ir_val_set_int(e->data, "budget_ms", budget_ms);
	inc->log = log;
	assert_int_equal(ir_evlog_create(log, &inc->id, e, &ctx), 0);
	inc->seq = e->seq;
	ir_event_clear(e);
	free(e);
}

static uint64_t
decision(struct inc *inc, const char *step, int64_t ms, const char *q,
	 const char *a, const char *because)
{
	struct ir_event *e = ev("decision", step, ms);

	ir_val_set_str(e->data, "question", q);
	ir_val_set_str(e->data, "answer", a);
	ir_val_set_str(e->data, "because", because);
	return put(inc, e);
}

static uint64_t
started(struct inc *inc, const char *step, int64_t ms, int64_t budget_ms,
	int attempt)
{
	struct ir_event *e = ev("step.started", step, ms);

	ir_val_set_int(e->data, "budget_ms", budget_ms);
	ir_val_set_int(e->data, "attempt", attempt);
	if (!strcmp(step, "stop"))
		ir_val_set_str(e->data, "command",
			       "./scripts/emergency_stop.sh");
	return put(inc, e);
}

static uint64_t
completed(struct inc *inc, const char *step, int64_t ms, int64_t dur,
	  int64_t budget)
{
	struct ir_event *e = ev("step.completed", step, ms);

	ir_val_set_int(e->data, "duration_ms", dur);
	ir_val_set_int(e->data, "budget_ms", budget);
	ir_val_set_bool(e->data, "over_budget", dur > budget);
	return put(inc, e);
}

static uint64_t
output(struct inc *inc, const char *step, int64_t ms, const char *stream,
       const char *line)
{
	struct ir_event *e = ev("step.output", step, ms);

	ir_val_set_str(e->data, "stream", stream);
	ir_val_set_str(e->data, "line", line);
	return put(inc, e);
}

static uint64_t
process(struct inc *inc, const char *step, int64_t ms, int count)
{
	struct ir_event *e = ev("observation", step, ms);
	struct ir_val *pids = ir_val_array_new();
	int i;

	for (i = 0; i < count; i++)
		ir_val_push_int(pids, 1234 + i);
	ir_val_set_str(e->data, "what", "process");
	ir_val_set_str(e->data, "pattern", "trading_node");
	ir_val_set_take(e->data, "pids", pids);
	ir_val_set_int(e->data, "count", count);
	return put(inc, e);
}

static uint64_t
http(struct inc *inc, int64_t ms, int status, int64_t latency_us,
     const char *error)
{
	struct ir_event *e = ev("observation", "health", ms);

	ir_val_set_str(e->data, "what", "http");
	ir_val_set_str(e->data, "url", "http://127.0.0.1:9000/status");
	ir_val_set_int(e->data, "status", status);
	if (latency_us >= 0)
		ir_val_set_int(e->data, "latency_us", latency_us);
	if (status == 200)
		ir_val_set_str(e->data, "body", "ok");
	if (error)
		ir_val_set_str(e->data, "error", error);
	return put(inc, e);
}

static uint64_t
backup(struct inc *inc, int64_t ms, const char *path)
{
	struct ir_event *e = ev("backup.created", "backup", ms);

	ir_val_set_str(e->data, "path", path);
	ir_val_set_int(e->data, "bytes", 20480);
	ir_val_set_int(e->data, "files", 12);
	ir_val_set_str(e->data, "sha256", SHA);
	return put(inc, e);
}

static uint64_t
target(struct inc *inc, int64_t ms)
{
	struct ir_event *e = ev("target.chosen", "checkout", ms);
	struct ir_val *skipped = ir_val_array_new(), *s = ir_val_map_new();

	ir_val_set_str(s, "tag", "deploy-20240430-120000");
	ir_val_set_str(s, "why", "rolled back from in INC-0");
	ir_val_push_take(skipped, s);
	ir_val_set_str(e->data, "from", FROM_TAG);
	ir_val_set_str(e->data, "to", TO_TAG);
	ir_val_set_str(e->data, "from_commit", FROM_COMMIT);
	ir_val_set_str(e->data, "to_commit", TO_COMMIT);
	ir_val_set_take(e->data, "skipped", skipped);
	ir_val_set_str(e->data, "why", "newest older tag not known-bad");
	return put(inc, e);
}

static uint64_t
closed(struct inc *inc, int64_t ms, const char *status)
{
	struct ir_event *e = ev("incident.closed", NULL, ms);

	ir_val_set_str(e->data, "status", status);
	ir_val_set_int(e->data, "duration_ms", ms);
	return put(inc, e);
}

static uint64_t
note(struct inc *inc, int64_t ms, const char *author, const char *text,
     uint64_t corrects)
{
	struct ir_event *e = ev("note", NULL, ms);

	ir_val_set_str(e->data, "author", author);
	ir_val_set_str(e->data, "text", text);
	if (corrects)
		ir_val_set_uint(e->data, "corrects", corrects);
	return put(inc, e);
}

/* The runbook followed to the end: every step, one over budget (verify),
 * hostile strings in the reason, output and a note. */
static uint64_t
build_success(struct ir_evlog *log)
{
	struct inc inc;
	struct ir_event *e;

	open_incident(&inc, log, "rollback", HOSTILE_REASON, 300000);
	process(&inc, "stop", 100, 1);                               /* 2 */
	decision(&inc, "stop", 120, "trading active?", "yes",
		 "1 process matched trading_node (pid 1234)");        /* 3 */
	started(&inc, "stop", 150, 30000, 1);                        /* 4 */
	output(&inc, "stop", 200, "out", "closing positions");       /* 5 */
	output(&inc, "stop", 300, "err", HOSTILE_OUTPUT);            /* 6 */
	process(&inc, "stop", 1400, 0);                              /* 7 */
	completed(&inc, "stop", 1400, 1250, 30000);                  /* 8 */
	decision(&inc, "backup", 1500, "data at risk?", "yes",
		 "2 local changes under config/");                    /* 9 */
	started(&inc, "backup", 1510, 60000, 1);                     /* 10 */
	backup(&inc, 2600, "/data/archives/INC-1-backup.tar.zst");   /* 11 */
	completed(&inc, "backup", 2610, 1100, 60000);                /* 12 */
	target(&inc, 2700);                                          /* 13 */
	started(&inc, "checkout", 2710, 60000, 1);                   /* 14 */
	e = ev("observation", "checkout", 4700);
	ir_val_set_str(e->data, "what", "git");
	ir_val_set_str(e->data, "head", TO_COMMIT);
	ir_val_set_str(e->data, "subject", "release 42");
	ir_val_set_str(e->data, "tag", TO_TAG);
	ir_val_set_bool(e->data, "detached", true);
	put(&inc, e);                                                /* 15 */
	completed(&inc, "checkout", 4710, 2000, 60000);              /* 16 */
	started(&inc, "config", 4710, 10000, 1);                     /* 17 */
	completed(&inc, "config", 5010, 300, 10000);                 /* 18 */
	decision(&inc, "database", 5020, "restore database?", "no",
		 "database.on-rollback is false");                    /* 19 */
	e = ev("step.skipped", "database", 5020);
	ir_val_set_str(e->data, "why", "not requested");
	put(&inc, e);                                                /* 20 */
	started(&inc, "start", 5100, 120000, 1);                     /* 21 */
	output(&inc, "start", 5200, "out", "starting node");         /* 22 */
	completed(&inc, "start", 75100, 70000, 120000);              /* 23 */
	started(&inc, "health", 75200, 60000, 1);                    /* 24 */
	http(&inc, 76200, 503, 1500, NULL);                          /* 25 */
	http(&inc, 78200, 200, 2500, NULL);                          /* 26 */
	http(&inc, 80200, 200, 3500, NULL);                          /* 27 */
	completed(&inc, "health", 80200, 5000, 60000);               /* 28 */
	started(&inc, "verify", 80300, 60000, 1);                    /* 29 */
	e = ev("observation", "verify", 82000);
	{
		struct ir_val *lines = ir_val_array_new();

		ir_val_push_str(lines, "INFO node started");
		ir_val_push_str(lines, "WARN <script>x</script>");
		ir_val_set_str(e->data, "what", "log");
		ir_val_set_str(e->data, "path", "logs/trading.log");
		ir_val_set_take(e->data, "lines", lines);
	}
	put(&inc, e);                                                /* 30 */
	completed(&inc, "verify", 145300, 65000, 60000);             /* 31 */
	started(&inc, "report", 145400, 30000, 1);                   /* 32 */
	completed(&inc, "report", 145500, 100, 30000);               /* 33 */
	closed(&inc, 145600, "succeeded");                           /* 34 */
	note(&inc, 600000, "bob", HOSTILE_NOTE, 0);                  /* 35 */
	assert_int_equal(inc.seq, 35);
	return inc.id;
}

/* Trading was idle; the start step ran over budget and health never
 * answered. */
static uint64_t
build_failed_health(struct ir_evlog *log)
{
	struct inc inc;
	struct ir_event *e;

	open_incident(&inc, log, "rollback", "API errors after deploy",
		      240000);
	process(&inc, "stop", 50, 0);                                /* 2 */
	decision(&inc, "stop", 60, "trading active?", "no",
		 "no process matched trading_node");                  /* 3 */
	e = ev("step.skipped", "stop", 70);
	ir_val_set_str(e->data, "why", "trading not active");
	put(&inc, e);                                                /* 4 */
	decision(&inc, "backup", 80, "data at risk?", "yes", "always"); /* 5 */
	started(&inc, "backup", 90, 60000, 1);                       /* 6 */
	backup(&inc, 1000, "/data/archives/INC-2-backup.tar.zst");   /* 7 */
	completed(&inc, "backup", 1000, 910, 60000);                 /* 8 */
	target(&inc, 1100);                                          /* 9 */
	started(&inc, "checkout", 1100, 60000, 1);                   /* 10 */
	completed(&inc, "checkout", 3100, 2000, 60000);              /* 11 */
	started(&inc, "start", 3200, 120000, 1);                     /* 12 */
	completed(&inc, "start", 133200, 130000, 120000);            /* 13 */
	started(&inc, "health", 133300, 60000, 1);                   /* 14 */
	http(&inc, 134300, 0, -1, "connection refused");             /* 15 */
	http(&inc, 163300, 0, -1, "connection refused");             /* 16 */
	e = ev("step.failed", "health", 193300);
	ir_val_set_int(e->data, "duration_ms", 60000);
	ir_val_set_int(e->data, "budget_ms", 60000);
	ir_val_set_bool(e->data, "over_budget", false);
	ir_val_set_str(e->data, "error", "no healthy answer within 1m");
	put(&inc, e);                                                /* 17 */
	closed(&inc, 193400, "failed");                              /* 18 */
	return inc.id;
}

/* The process died during the checkout; `incident rollback` resumed it and
 * started the checkout again (attempt 2). */
static uint64_t
build_resumed(struct ir_evlog *log)
{
	struct inc inc;
	struct ir_event *e;

	open_incident(&inc, log, "rollback", "P&L anomaly", 0);
	decision(&inc, "stop", 10, "trading active?", "yes", "1 process");
	started(&inc, "stop", 20, 30000, 1);
	completed(&inc, "stop", 2020, 2000, 30000);                  /* 4 */
	decision(&inc, "backup", 2030, "data at risk?", "yes", "always");
	started(&inc, "backup", 2040, 60000, 1);
	completed(&inc, "backup", 3040, 1000, 60000);                /* 7 */
	target(&inc, 3050);
	started(&inc, "checkout", 3060, 60000, 1);                   /* 9 */
	e = ev("incident.resumed", NULL, 40000);
	ir_val_set_str(e->data, "interrupted_step", "checkout");
	ir_val_set_str(e->data, "actor", "carol@ops2");
	ir_val_set_int(e->data, "pid", 999);
	put(&inc, e);                                                /* 10 */
	started(&inc, "checkout", 40100, 60000, 2);                  /* 11 */
	completed(&inc, "checkout", 42100, 2000, 60000);             /* 12 */
	started(&inc, "start", 42200, 120000, 1);
	completed(&inc, "start", 52200, 10000, 120000);
	started(&inc, "health", 52300, 60000, 1);
	http(&inc, 53300, 200, 4000, NULL);
	completed(&inc, "health", 53300, 1000, 60000);               /* 17 */
	closed(&inc, 60000, "succeeded");                            /* 18 */
	return inc.id;
}

/* A short rollback with a note that corrects the stop's completion, and an
 * event type this code does not know. */
static uint64_t
build_corrected(struct ir_evlog *log, uint64_t *corrected)
{
	struct inc inc;
	struct ir_event *e;

	open_incident(&inc, log, "rollback", "bad fills", 0);
	decision(&inc, "stop", 10, "trading active?", "yes", "1 process");
	started(&inc, "stop", 20, 30000, 1);
	*corrected = completed(&inc, "stop", 1020, 1000, 30000);     /* 4 */
	e = ev("custom.thing", NULL, 1030);
	ir_val_set_str(e->data, "foo", "bar");
	ir_val_set_int(e->data, "n", 7);
	put(&inc, e);                                                /* 5 */
	decision(&inc, "backup", 1040, "data at risk?", "no", "--no-backup");
	target(&inc, 1050);
	started(&inc, "checkout", 1060, 60000, 1);
	completed(&inc, "checkout", 3060, 2000, 60000);              /* 9 */
	started(&inc, "start", 3100, 120000, 1);
	completed(&inc, "start", 13100, 10000, 120000);
	started(&inc, "health", 13200, 60000, 1);
	http(&inc, 14200, 200, 1000, NULL);
	completed(&inc, "health", 14200, 1000, 60000);               /* 14 */
	closed(&inc, 20000, "succeeded");                            /* 15 */
	note(&inc, 900000, "dave", "the stop really took 40s: the script "
				   "hung", *corrected);              /* 16 */
	return inc.id;
}

/* Still open: the stop step runs (or its process died). */
static uint64_t
build_open(struct ir_evlog *log)
{
	struct inc inc;

	open_incident(&inc, log, "stop", "manual stop", 0);
	decision(&inc, "stop", 10, "trading active?", "yes", "1 process");
	started(&inc, "stop", 20, 30000, 1);
	output(&inc, "stop", 30, "out", "closing positions");
	return inc.id;
}

static int
setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	w->dir = tu_tempdir();
	assert_int_equal(ir_evlog_open(&w->log, w->dir, &w->ctx), 0);
	w->ok = build_success(w->log);
	w->failed = build_failed_health(w->log);
	w->resumed = build_resumed(w->log);
	w->corrected = build_corrected(w->log, &w->corrected_seq);
	w->open = build_open(w->log);
	*state = w;
	return 0;
}

static int
teardown(void **state)
{
	struct world *w = *state;

	ir_evlog_close(w->log);
	tu_rmtree(w->dir);
	free(w);
	return 0;
}

/* Output of a renderer, NUL-terminated. */
struct out {
	char *buf;
	size_t len;
};

static void
out_free(struct out *o)
{
	free(o->buf);
	o->buf = NULL;
}

static struct out
report(struct world *w, uint64_t id, enum ir_report_format fmt)
{
	struct out o = { NULL, 0 };
	FILE *f = open_memstream(&o.buf, &o.len);
	struct ir_ctx ctx = { 0 };

	assert_non_null(f);
	assert_int_equal(ir_report_write(f, w->log, id, fmt, &ctx), 0);
	assert_int_equal(fclose(f), 0);
	return o;
}

static struct out
show(struct world *w, uint64_t id, int64_t at_ms, bool json)
{
	struct out o = { NULL, 0 };
	FILE *f = open_memstream(&o.buf, &o.len);
	struct ir_ctx ctx = { 0 };

	assert_non_null(f);
	assert_int_equal(ir_report_show(f, w->log, id, at_ms, json, &ctx), 0);
	assert_int_equal(fclose(f), 0);
	return o;
}

static struct out
stats(struct world *w, bool json)
{
	struct out o = { NULL, 0 };
	FILE *f = open_memstream(&o.buf, &o.len);
	struct ir_ctx ctx = { 0 };

	assert_non_null(f);
	assert_int_equal(ir_report_stats(f, w->log, json, &ctx), 0);
	assert_int_equal(fclose(f), 0);
	return o;
}

static void
has(const struct out *o, const char *needle)
{
	if (!strstr(o->buf, needle))
		fail_msg("missing \"%s\"", needle);
}

static void
lacks(const struct out *o, const char *needle)
{
	if (strstr(o->buf, needle))
		fail_msg("unexpected \"%s\"", needle);
}

/* No terminal control byte at all, whatever the format. */
static void
terminal_safe(const struct out *o)
{
	size_t i;

	assert_int_equal(strlen(o->buf), o->len);
	for (i = 0; i < o->len; i++) {
		unsigned char c = (unsigned char)o->buf[i];

		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			fail_msg("control byte 0x%02x at %zu", c, i);
	}
}

static void
head_hex(struct world *w, uint64_t id, char hex[IR_SHA256_HEX])
{
	struct ir_incident inc;

	assert_int_equal(ir_evlog_incident(w->log, id, &inc, &w->ctx), 0);
	ir_hex(hex, inc.head, IR_HASH_LEN);
}

static json_t *
parse(const struct out *o)
{
	json_error_t err;
	json_t *j = json_loadb(o->buf, o->len, 0, &err);

	if (!j)
		fail_msg("JSON does not parse: %s (line %d)", err.text,
			 err.line);
	return j;
}

static json_t *
get(json_t *o, const char *key, json_type type)
{
	json_t *v = json_object_get(o, key);

	if (!v)
		fail_msg("no key \"%s\"", key);
	if (json_typeof(v) != type)
		fail_msg("key \"%s\" has type %d, not %d", key, json_typeof(v),
			 type);
	return v;
}

static json_int_t
get_int(json_t *o, const char *key)
{
	return json_integer_value(get(o, key, JSON_INTEGER));
}

static const char *
get_str(json_t *o, const char *key)
{
	return json_string_value(get(o, key, JSON_STRING));
}

/* The step runs in a JSON report whose name is step, in order. */
static json_t *
step_run(json_t *report, const char *step, int nth)
{
	json_t *steps = get(report, "steps", JSON_ARRAY), *s;
	size_t i;

	json_array_foreach(steps, i, s)
		if (!strcmp(get_str(s, "step"), step) && !nth--)
			return s;
	fail_msg("no run %d of step %s", nth, step);
	return NULL;
}

static void
test_markdown(void **state)
{
	struct world *w = *state;
	struct out o = report(w, w->ok, IR_REPORT_MD);
	char hex[IR_SHA256_HEX];

	has(&o, "# INC-1: rollback incident report");
	has(&o, "| Status | succeeded |");
	has(&o, "| Actor | alice@ops1 |");
	has(&o, "| Host | ops1 |");
	has(&o, "| Opened (UTC) | 2024-05-01T10:40:00.000Z |");
	has(&o, "| Closed (UTC) | 2024-05-01T10:42:25.600Z |");
	has(&o, "| From | " FROM_TAG " at commit <code>" FROM_COMMIT
		"</code> (seq 13) |");
	has(&o, "| To | " TO_TAG " at commit <code>" TO_COMMIT);
	has(&o, "| Duration | 2m25.600s of the 5m target (48%): within target");
	has(&o, "| Post-mortem due (UTC) | 2024-05-02T10:40:00.000Z |");
	/* key times, each with the event it comes from */
	has(&o, "| Trading stopped | +00:01.400 | 2024-05-01T10:40:01.400Z | "
		"seq 8 (stop completed) |");
	has(&o, "| Rolled back | +00:04.710 | 2024-05-01T10:40:04.710Z | "
		"seq 16 (checkout completed) |");
	has(&o, "| Healthy | +01:20.200 | 2024-05-01T10:41:20.200Z | "
		"seq 28 (health completed) |");
	has(&o, "| Closed | +02:25.600 | 2024-05-01T10:42:25.600Z | "
		"seq 34 (incident.closed) |");
	/* the decision path */
	has(&o, "1. **Is trading active?** **yes** (seq 3), because: 1 "
		"process matched trading\\_node (pid 1234) \u2192 Emergency "
		"stop "
		"first: stop completed in 1.250s (seq 8)");
	has(&o, "1. **Is data at risk?** **yes** (seq 9), because: 2 local "
		"changes under config/ \u2192 Backup current state: backup "
		"completed in 1.100s (seq 12); archived to "
		"/data/archives/INC-1-backup.tar.zst (seq 11)");
	has(&o, "1. **Rollback to previous version**: " FROM_TAG " \u2192 "
		TO_TAG
		" chosen (seq 13); checkout completed in 2s (seq 16)");
	has(&o, "restore database? no (seq 19); database skipped: not "
		"requested (seq 20)");
	has(&o, "1. **Verify system health**: health completed in 5s (seq "
		"28); last probe status 200 (seq 27)");
	has(&o, "| 19 | +00:05.020 | database | restore database? | no | "
		"database.on-rollback is false |");
	/* the step table */
	has(&o, "| stop | 1 | +00:00.150 | 1.250s | 30s | completed | no | "
		"seq 4-8; 2 output lines; <code>./scripts/emergency\\_stop.sh"
		"</code> |");
	has(&o, "| verify | 1 | +01:20.300 | 1m05s | 1m | completed | "
		"**OVER BUDGET** |");
	has(&o, "| database | 1 | +00:05.020 | 0ms | - | skipped | - |");
	/* observations, backups */
	has(&o, "3 probes of <code>http://127.0.0.1:9000/status</code>: first "
		"status 503 at +01:16.200 (seq 25), last status 200 at "
		"+01:20.200 (seq 27); 1 failed. Latency median 2.500ms, max "
		"3.500ms (3 samples).");
	has(&o, "| 15 | +00:04.700 | checkout | git | git HEAD 222222222222 "
		"\"release 42\", tag " TO_TAG ", detached |");
	has(&o, "- <code>WARN &lt;script&gt;x&lt;/script&gt;</code>");
	has(&o, "| 11 | <code>/data/archives/INC-1-backup.tar.zst</code> | "
		"20.0 KiB (20480 bytes) | 12 | <code>" SHA "</code> |");
	/* checklist and post-mortem */
	has(&o, "- [ ] **Document**: create the incident report");
	has(&o, "- [ ] **Redeploy**: follow the normal deploy process");
	has(&o, "Post-mortem due by **2024-05-02T10:40:00.000Z**");
	/* the post-mortem's fields, pre-filled from the log */
	has(&o, "### Detection\n");
	has(&o, "- Incident opened at 2024-05-01T10:40:00.000Z (seq 1) by "
		"alice@ops1, reason: ");
	has(&o, "### Severity\n");
	has(&o, "- Severity: to be decided by the incident lead (suggested "
		"from the log: SEV-2, trading stopped and was restored within "
		"the rollback target).");
	has(&o, "### Impact\n");
	has(&o, "- Trading stopped from 2024-05-01T10:40:01.400Z (seq 8) to "
		"2024-05-01T10:41:20.200Z (healthy again, seq 28): 1m18.800s "
		"without trading.");
	has(&o, "### Responders\n");
	has(&o, "- alice@ops1: opened the incident (seq 1).");
	has(&o, "- bob: note (seq 35).");
	has(&o, "- Step verify took 1m05s against a budget of 1m (seq 31).");
	has(&o, "- Bring step verify back under its 1m budget");
	has(&o, "### Root cause");
	/* integrity */
	head_hex(w, w->ok, hex);
	has(&o, "| Events | 35 (3 lines of step output) |");
	has(&o, "| Hash chain | verified");
	{
		char row[128];

		snprintf(row, sizeof(row),
			 "| Head (SHA-256) | <code>%s</code> |", hex);
		has(&o, row);
	}
	/* the timeline */
	has(&o, "| 5-6 | 2024-05-01T10:40:00.200Z | +00:00.200 | step.output "
		"x2 | stop | 2 lines (1 on stderr): <code>closing "
		"positions</code><br><code>warn: &lt;b&gt;slow&lt;/b&gt; "
		"\\| pipes \\| \\\\x1b\\]0;x\\\\x07</code> |");
	has(&o, "| 35 | 2024-05-01T10:50:00.000Z | +10:00.000 | note | - | "
		"bob: "
		"saw &lt;script&gt;alert(1)&lt;/script&gt; &amp;  \\`code\\` "
		"\\*bold\\* |");
	/* hostile strings are escaped */
	has(&o, "| Reason | &lt;script&gt;alert(1)&lt;/script&gt; &amp; "
		"\"quotes\" 'single' red \\| pipes \\| |");
	lacks(&o, "<script");
	lacks(&o, "<b>");
	terminal_safe(&o);
	out_free(&o);
}

/* Every class a bar or marker of the chart is drawn with has exactly one
 * fill rule, and the legend shows a swatch of that same class. */
static void
legend_matches(const struct out *o)
{
	static const char *const classes[] = {
		"completed", "failed", "skipped", "running", "interrupted",
		"overrun", "decision", "note",
	};
	const char *legend = strstr(o->buf, "<g class=\"legend\">");
	const char *end = legend ? strstr(legend, "</g>") : NULL;
	size_t i;

	assert_non_null(legend);
	assert_non_null(end);
	for (i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		char rule[64], shape[64];
		const char *r, *sw;

		snprintf(rule, sizeof(rule), ".%s{fill:", classes[i]);
		r = strstr(o->buf, rule);
		assert_non_null(r);
		assert_null(strstr(r + 1, rule)); /* one colour only */
		snprintf(shape, sizeof(shape), " class=\"%s\"", classes[i]);
		sw = strstr(legend, shape);
		assert_true(sw && sw < end);
	}
	/* The words of the old legend named colours the chart did not use. */
	lacks(o, "orange interrupted");
}

static void
test_html(void **state)
{
	struct world *w = *state;
	struct out o = report(w, w->ok, IR_REPORT_HTML);
	char hex[IR_SHA256_HEX];

	has(&o, "<!DOCTYPE html>");
	has(&o, "<svg");
	has(&o, "</svg>");
	has(&o, "<style>");
	has(&o, "Content-Security-Policy");
	/* nothing fetched, nothing run */
	lacks(&o, "http://");
	lacks(&o, "https://");
	lacks(&o, "src=");
	lacks(&o, "<script");
	lacks(&o, "<link");
	lacks(&o, "<img");
	lacks(&o, "url(");
	lacks(&o, "@import");
	/* every string from the log escaped */
	has(&o, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; "
		"&quot;quotes&quot; &#39;single&#39; red | pipes |");
	has(&o, "warn: &lt;b&gt;slow&lt;/b&gt; | pipes | \\x1b]0;x\\x07");
	has(&o, "http&#58;//127.0.0.1:9000/status");
	lacks(&o, "<b>");
	terminal_safe(&o);
	/* sections */
	has(&o, "<td>Trading stopped</td><td>+00:01.400</td>"
		"<td>2024-05-01T10:40:01.400Z</td>"
		"<td>seq 8 (stop completed)</td>");
	has(&o, "<td>verify</td><td>1</td><td>+01:20.300</td><td>1m05s</td>"
		"<td>1m</td><td>completed</td>"
		"<td><strong class=\"alert\">OVER BUDGET</strong></td>");
	has(&o, "<rect class=\"overrun\"");
	has(&o, "<path class=\"decision\"");
	has(&o, "<circle class=\"note\"");
	has(&o, "5m target</text>");
	legend_matches(&o);
	/* Table cells break between words; only code (hashes, paths) may
	 * break inside a token. */
	lacks(&o, "break-all");
	has(&o, "td code{overflow-wrap:anywhere}");
	{
		const char *td = strstr(o.buf, "th,td{");

		assert_non_null(td);
		assert_true(strstr(td, "anywhere") > strchr(td, '}'));
	}
	/* the post-mortem's fields */
	has(&o, "id=\"pm-detection\"");
	has(&o, "id=\"pm-severity\"");
	has(&o, "id=\"pm-impact\"");
	has(&o, "id=\"pm-responders\"");
	has(&o, "<li>alice@ops1: opened the incident (seq 1).</li>");
	has(&o, "<details><summary>show the output</summary><pre>"
		"<span>closing positions</span>\n<span class=\"err\">warn: ");
	head_hex(w, w->ok, hex);
	has(&o, hex);
	out_free(&o);

	/* the failed incident marks the failure in the chart */
	o = report(w, w->failed, IR_REPORT_HTML);
	has(&o, "<path class=\"failure\"");
	has(&o, "<rect class=\"failed\"");
	lacks(&o, "http://");
	terminal_safe(&o);
	out_free(&o);
}

static void
test_json(void **state)
{
	struct world *w = *state;
	struct out o = report(w, w->ok, IR_REPORT_JSON);
	json_t *j = parse(&o), *s, *x, *m, *a;
	char hex[IR_SHA256_HEX];
	size_t i;

	terminal_safe(&o);
	assert_int_equal(get_int(j, "id"), (json_int_t)w->ok);
	assert_string_equal(get_str(j, "kind"), "rollback");
	assert_string_equal(get_str(j, "status"), "succeeded");
	assert_string_equal(get_str(j, "reason"), CLEAN_REASON);
	assert_string_equal(get_str(j, "from"), FROM_TAG);
	assert_string_equal(get_str(j, "to"), TO_TAG);
	assert_string_equal(get_str(j, "from_commit"), FROM_COMMIT);
	assert_string_equal(get_str(j, "opened"), "2024-05-01T10:40:00.000Z");
	assert_string_equal(get_str(j, "closed"), "2024-05-01T10:42:25.600Z");
	assert_int_equal(get_int(j, "duration_ms"), 145600);
	assert_int_equal(get_int(j, "budget_ms"), 300000);
	assert_false(json_is_true(get(j, "over_budget", JSON_FALSE)));
	assert_false(json_is_true(get(j, "open", JSON_FALSE)));

	/* steps */
	assert_int_equal(json_array_size(get(j, "steps", JSON_ARRAY)), 9);
	json_array_foreach(get(j, "steps", JSON_ARRAY), i, s) {
		get(s, "step", JSON_STRING);
		get(s, "status", JSON_STRING);
		get(s, "start_ms", JSON_INTEGER);
		get(s, "duration_ms", JSON_INTEGER);
		assert_true(json_is_boolean(json_object_get(s, "over_budget")));
		x = json_object_get(s, "budget_ms");
		assert_true(json_is_integer(x) || json_is_null(x));
	}
	s = step_run(j, "verify", 0);
	assert_string_equal(get_str(s, "status"), "completed");
	assert_int_equal(get_int(s, "start_ms"), 80300);
	assert_int_equal(get_int(s, "duration_ms"), 65000);
	assert_int_equal(get_int(s, "budget_ms"), 60000);
	assert_true(json_is_true(json_object_get(s, "over_budget")));
	s = step_run(j, "stop", 0);
	assert_false(json_is_true(json_object_get(s, "over_budget")));
	assert_int_equal(get_int(s, "output_lines"), 2);
	s = step_run(j, "database", 0);
	assert_string_equal(get_str(s, "status"), "skipped");
	assert_string_equal(get_str(s, "why"), "not requested");

	/* decisions, metrics */
	a = get(j, "decisions", JSON_ARRAY);
	assert_int_equal(json_array_size(a), 3);
	x = json_array_get(a, 0);
	assert_int_equal(get_int(x, "seq"), 3);
	assert_string_equal(get_str(x, "question"), "trading active?");
	assert_string_equal(get_str(x, "answer"), "yes");
	get(x, "because", JSON_STRING);
	a = get(j, "decision_path", JSON_ARRAY);
	assert_int_equal(json_array_size(a), 5);
	assert_string_equal(get_str(json_array_get(a, 1), "answer"), "yes");
	assert_string_equal(get_str(json_array_get(a, 4), "status"),
			    "completed");
	m = get(j, "metrics", JSON_OBJECT);
	assert_int_equal(get_int(m, "time_to_stopped_ms"), 1400);
	assert_int_equal(get_int(m, "time_to_stopped_seq"), 8);
	assert_int_equal(get_int(m, "time_to_rolled_back_ms"), 4710);
	assert_int_equal(get_int(m, "time_to_rolled_back_seq"), 16);
	assert_int_equal(get_int(m, "time_to_healthy_ms"), 80200);
	assert_int_equal(get_int(m, "time_to_healthy_seq"), 28);
	assert_int_equal(get_int(m, "time_to_closed_ms"), 145600);

	/* observations */
	x = get(j, "health", JSON_OBJECT);
	assert_int_equal(get_int(x, "probes"), 3);
	assert_int_equal(get_int(x, "first_status"), 503);
	assert_int_equal(get_int(x, "last_status"), 200);
	assert_int_equal(get_int(x, "latency_median_us"), 2500);
	assert_int_equal(get_int(x, "latency_max_us"), 3500);
	assert_int_equal(get_int(x, "failures"), 1);
	x = get(j, "log_tail", JSON_OBJECT);
	assert_string_equal(
		json_string_value(
			json_array_get(get(x, "lines", JSON_ARRAY), 1)),
		"WARN <script>x</script>");

	/* backups, notes */
	a = get(j, "backups", JSON_ARRAY);
	assert_int_equal(json_array_size(a), 1);
	x = json_array_get(a, 0);
	assert_string_equal(get_str(x, "path"),
			    "/data/archives/INC-1-backup.tar.zst");
	assert_int_equal(get_int(x, "bytes"), 20480);
	assert_int_equal(get_int(x, "files"), 12);
	assert_string_equal(get_str(x, "sha256"), SHA);
	a = get(j, "notes", JSON_ARRAY);
	assert_int_equal(json_array_size(a), 1);
	x = json_array_get(a, 0);
	assert_string_equal(get_str(x, "text"),
			    "saw <script>alert(1)</script> &  `code` *bold*");
	assert_true(json_is_null(json_object_get(x, "corrects")));

	/* integrity */
	x = get(j, "integrity", JSON_OBJECT);
	assert_int_equal(get_int(x, "events"), 35);
	head_hex(w, w->ok, hex);
	assert_string_equal(get_str(x, "head"), hex);
	assert_true(json_is_true(get(x, "verified", JSON_TRUE)));

	/* the post-mortem draft */
	x = get(j, "postmortem", JSON_OBJECT);
	get(x, "impact", JSON_ARRAY);
	assert_true(json_array_size(get(x, "detection", JSON_ARRAY)) > 0);
	assert_true(json_array_size(get(x, "severity", JSON_ARRAY)) > 0);
	assert_true(json_array_size(get(x, "responders", JSON_ARRAY)) > 0);
	assert_true(json_array_size(get(x, "went_badly", JSON_ARRAY)) > 0);
	assert_true(json_array_size(get(x, "action_items", JSON_ARRAY)) > 0);
	assert_string_equal(get_str(j, "postmortem_due"),
			    "2024-05-02T10:40:00.000Z");
	json_decref(j);
	out_free(&o);
}

static void
test_failed_health(void **state)
{
	struct world *w = *state;
	struct out o = report(w, w->failed, IR_REPORT_JSON);
	json_t *j = parse(&o), *s, *m;

	assert_string_equal(get_str(j, "status"), "failed");
	assert_int_equal(get_int(j, "budget_ms"), 240000);
	assert_int_equal(get_int(j, "duration_ms"), 193400);
	assert_false(json_is_true(json_object_get(j, "over_budget")));
	m = get(j, "metrics", JSON_OBJECT);
	/* trading was idle: stopped means the stop step was skipped */
	assert_int_equal(get_int(m, "time_to_stopped_seq"), 4);
	assert_int_equal(get_int(m, "time_to_stopped_ms"), 70);
	assert_int_equal(get_int(m, "time_to_rolled_back_seq"), 11);
	assert_true(json_is_null(json_object_get(m, "time_to_healthy_ms")));
	assert_true(json_is_null(json_object_get(m, "time_to_healthy_seq")));
	s = step_run(j, "stop", 0);
	assert_string_equal(get_str(s, "status"), "skipped");
	s = step_run(j, "start", 0);
	assert_true(json_is_true(json_object_get(s, "over_budget")));
	s = step_run(j, "health", 0);
	assert_string_equal(get_str(s, "status"), "failed");
	assert_string_equal(get_str(s, "error"), "no healthy answer within 1m");
	assert_false(json_is_true(json_object_get(s, "over_budget")));
	json_decref(j);
	out_free(&o);

	o = report(w, w->failed, IR_REPORT_MD);
	has(&o, "| Status | **failed** |");
	has(&o, "| Healthy | not reached | - | - |");
	has(&o, "| Trading stopped | +00:00.070 | 2024-05-01T10:40:00.070Z | "
		"seq 4 (stop skipped) |");
	has(&o, "1. **Is trading active?** **no** (seq 3), because: no "
		"process matched trading\\_node \u2192 No emergency stop "
		"needed: "
		"stop "
		"skipped: trading not active (seq 4)");
	has(&o, "| start | 1 | +00:03.200 | 2m10s | 2m | completed | **OVER "
		"BUDGET** |");
	has(&o, "| health | 1 | +02:13.300 | 1m | 1m | **failed** | no | seq "
		"14-17; error: no healthy answer within 1m |");
	has(&o, "2 probes of <code>http://127.0.0.1:9000/status</code>: first "
		"status 0");
	has(&o, "2 failed.");
	has(&o, "Last error: connection refused");
	/* Quick enough, but failed: never "within target". */
	has(&o, "| Duration | 3m13.400s of the 4m target (80%): **failed** "
		"after 3m13.400s |");
	lacks(&o, "within target");
	has(&o, "- The incident closed failed after 3m13.400s, without a "
		"completed rollback (target 4m).");
	has(&o, "(suggested from the log: SEV-2, trading was not active; the "
		"rollback did not succeed).");
	has(&o, "- Trading was not active when the incident began (decision "
		"seq 3).");
	has(&o, "- Step health failed: no healthy answer within 1m (seq 17).");
	has(&o, "- Step start took 2m10s against a budget of 2m (seq 13).");
	has(&o, "- 2 of 2 health probes failed.");
	has(&o, "- Find out why step health failed (seq 17)");
	terminal_safe(&o);
	out_free(&o);
}

static void
test_resumed(void **state)
{
	struct world *w = *state;
	struct out o = report(w, w->resumed, IR_REPORT_JSON);
	json_t *j = parse(&o), *s, *r;

	s = step_run(j, "checkout", 0);
	assert_int_equal(get_int(s, "attempt"), 1);
	assert_string_equal(get_str(s, "status"), "interrupted");
	assert_true(json_is_null(json_object_get(s, "duration_ms")));
	assert_int_equal(get_int(s, "seq"), 9);
	s = step_run(j, "checkout", 1);
	assert_int_equal(get_int(s, "attempt"), 2);
	assert_string_equal(get_str(s, "status"), "completed");
	assert_int_equal(get_int(s, "duration_ms"), 2000);
	assert_int_equal(get_int(s, "end_seq"), 12);
	r = get(j, "resumes", JSON_ARRAY);
	assert_int_equal(json_array_size(r), 1);
	assert_string_equal(get_str(json_array_get(r, 0), "interrupted_step"),
			    "checkout");
	assert_string_equal(get_str(json_array_get(r, 0), "actor"),
			    "carol@ops2");
	assert_int_equal(get_int(get(j, "metrics", JSON_OBJECT),
				 "time_to_rolled_back_seq"),
			 12);
	assert_string_equal(get_str(j, "status"), "succeeded");
	json_decref(j);
	out_free(&o);

	o = report(w, w->resumed, IR_REPORT_MD);
	has(&o, "## Interruptions and resumes");
	has(&o, "- carol@ops2: resumed it (seq 10).");
	has(&o, "- seq 10 at +00:40.000: resumed by carol@ops2 (pid 999); "
		"interrupted in step checkout");
	has(&o, "| checkout | 1 | +00:03.060 | - | 1m | **interrupted** | "
		"no |");
	has(&o, "| checkout | 2 | +00:40.100 | 2s | 1m | completed | no |");
	has(&o, "- Step checkout (attempt 1) was interrupted (started seq 9).");
	has(&o, "| Status | succeeded; resumed 1 time |");
	out_free(&o);
}

static void
test_correction(void **state)
{
	struct world *w = *state;
	struct out o = report(w, w->corrected, IR_REPORT_MD);
	json_t *j, *n;
	char row[256];

	/* the note, with what it corrects beside it */
	has(&o, "**dave**: the stop really took 40s: the script hung");
	has(&o, "    - **Corrects** seq 4: step.completed stop: after 1s of "
		"30s");
	/* and the corrected event, with its correction */
	snprintf(row, sizeof(row),
		 "| %llu | 2024-05-01T10:40:01.020Z | +00:01.020 | "
		 "step.completed | stop | after 1s of 30s **Corrected** by "
		 "note seq 16 (dave): the stop really took 40s",
		 (unsigned long long)w->corrected_seq);
	has(&o, row);
	/* in the step table too */
	has(&o, "seq 3-4; <code>./scripts/emergency\\_stop.sh</code> "
		"**Corrected** by note seq 16");
	/* the unknown event type is in the timeline */
	has(&o, "| 5 | 2024-05-01T10:40:01.030Z | +00:01.030 | custom.thing | "
		"- | foo=bar, n=7 |");
	out_free(&o);

	o = report(w, w->corrected, IR_REPORT_JSON);
	j = parse(&o);
	n = json_array_get(get(j, "notes", JSON_ARRAY), 0);
	assert_int_equal(get_int(n, "corrects"), (json_int_t)w->corrected_seq);
	assert_string_equal(get_str(n, "corrected"),
			    "step.completed stop: after 1s of 30s");
	assert_int_equal(get_int(get(get(j, "integrity", JSON_OBJECT),
				     "by_type", JSON_OBJECT),
				 "custom.thing"),
			 1);
	json_decref(j);
	out_free(&o);

	o = report(w, w->corrected, IR_REPORT_HTML);
	has(&o, "<td>custom.thing</td>");
	has(&o, "<strong class=\"alert\">Corrected</strong> by note seq 16");
	out_free(&o);
}

static void
test_open(void **state)
{
	struct world *w = *state;
	struct out o = report(w, w->open, IR_REPORT_JSON);
	json_t *j = parse(&o), *s;

	assert_string_equal(get_str(j, "status"), "open");
	assert_true(json_is_true(json_object_get(j, "open")));
	assert_true(json_is_null(json_object_get(j, "closed")));
	assert_string_equal(get_str(j, "kind"), "stop");
	s = step_run(j, "stop", 0);
	assert_string_equal(get_str(s, "status"), "running");
	assert_true(json_is_null(json_object_get(s, "duration_ms")));
	assert_true(json_is_null(get(get(j, "metrics", JSON_OBJECT),
				     "time_to_closed_ms", JSON_NULL)));
	json_decref(j);
	out_free(&o);

	o = report(w, w->open, IR_REPORT_MD);
	has(&o, "| Status | **open** (not closed: still running, or "
		"interrupted and not resumed) |");
	has(&o, "| Closed (UTC) | not closed |");
	has(&o, "| stop | 1 | +00:00.020 | - | 30s | running | no |");
	has(&o, "The incident is still open (running or interrupted)");
	out_free(&o);

	o = report(w, w->open, IR_REPORT_HTML);
	has(&o, "<rect class=\"running\"");
	out_free(&o);
}

/* Everything the renderers write, in one buffer. */
static struct out
everything(struct world *w)
{
	static const enum ir_report_format fmts[] = {
		IR_REPORT_MD, IR_REPORT_HTML, IR_REPORT_JSON
	};
	uint64_t ids[] = { w->ok, w->failed, w->resumed, w->corrected,
			   w->open };
	struct out all = { NULL, 0 };
	FILE *f = open_memstream(&all.buf, &all.len);
	size_t i, k;

	assert_non_null(f);
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		for (k = 0; k < 3; k++)
			assert_int_equal(ir_report_write(f, w->log, ids[i],
							 fmts[k], &w->ctx),
					 0);
		assert_int_equal(ir_report_show(f, w->log, ids[i], 4000, false,
						&w->ctx),
				 0);
		assert_int_equal(ir_report_show(f, w->log, ids[i], -1, true,
						&w->ctx),
				 0);
	}
	assert_int_equal(ir_report_stats(f, w->log, false, &w->ctx), 0);
	assert_int_equal(ir_report_stats(f, w->log, true, &w->ctx), 0);
	assert_int_equal(fclose(f), 0);
	return all;
}

static void
test_tz_locale(void **state)
{
	static const char *const locales[] = { "de_DE.UTF-8", "fr_FR.UTF-8",
					       "C.UTF-8" };
	struct world *w = *state;
	struct out a, b;
	size_t i;
	bool other = false;

	setenv("TZ", "UTC", 1);
	tzset();
	assert_non_null(setlocale(LC_ALL, "C"));
	a = everything(w);

	setenv("TZ", "Asia/Kolkata", 1);
	tzset();
	for (i = 0; i < 3 && !other; i++)
		other = setlocale(LC_ALL, locales[i]) != NULL;
	assert_true(other);
	b = everything(w);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.buf, b.buf, a.len);
	out_free(&b);

	/* A zone without tzdata, half an hour off, west of Greenwich. */
	setenv("TZ", "XST+9:30", 1);
	tzset();
	b = everything(w);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.buf, b.buf, a.len);
	out_free(&b);

	setlocale(LC_ALL, "C");
	setenv("TZ", "UTC", 1);
	tzset();
	terminal_safe(&a);
	out_free(&a);
}

static void
test_show_at(void **state)
{
	struct world *w = *state;
	struct out o = show(w, w->ok, 4000, false);
	json_t *j, *st, *ev, *s;
	size_t i;

	/* before the checkout completed (+4.710): the target is chosen,
	 * rolled back is not yet */
	has(&o, "INC-1 rollback as known at +00:04.000 "
		"(2024-05-01T10:40:04.000Z)");
	has(&o, "  status       open at that moment (closed later)\n");
	has(&o, "  target       " FROM_TAG " (111111111111) \u2192 " TO_TAG
		" (222222222222) (seq 13)\n");
	has(&o, "  stopped      +00:01.400 (seq 8, stop completed)\n");
	has(&o, "  rolled back  not yet\n");
	has(&o, "  healthy      not yet\n");
	has(&o, "  last health  no probe yet\n");
	has(&o, "  checkout  #1 running     +00:02.710  1.290s so far of 1m\n");
	has(&o, "events up to +00:04.000:\n");
	has(&o, "     14  2024-05-01T10:40:02.710Z  +00:02.710  step.started");
	lacks(&o, "     15  ");
	lacks(&o, "\x1b");
	has(&o, "step.output      stop     2 lines (seq 5-6); last: warn: "
		"<b>slow</b> | pipes | \\x1b]0;x\\x07\n");
	terminal_safe(&o);
	out_free(&o);

	o = show(w, w->ok, 4000, true);
	j = parse(&o);
	st = get(j, "state", JSON_OBJECT);
	assert_true(json_is_true(get(st, "open", JSON_TRUE)));
	assert_true(json_is_true(get(st, "closed_later", JSON_TRUE)));
	assert_int_equal(get_int(st, "at_ms"), 4000);
	assert_string_equal(get_str(get(st, "target", JSON_OBJECT), "to"),
			    TO_TAG);
	assert_true(json_is_null(get(get(st, "metrics", JSON_OBJECT),
				     "time_to_rolled_back_ms", JSON_NULL)));
	assert_int_equal(get_int(get(st, "metrics", JSON_OBJECT),
				 "time_to_stopped_ms"),
			 1400);
	s = step_run(st, "checkout", 0);
	assert_string_equal(get_str(s, "status"), "running");
	assert_true(json_is_null(get(st, "last_health", JSON_NULL)));
	ev = get(j, "events", JSON_ARRAY);
	assert_int_equal(json_array_size(ev), 14);
	json_array_foreach(ev, i, s) {
		assert_int_equal(get_int(s, "seq"), (json_int_t)i + 1);
		assert_true(get_int(s, "mono") <= 4000 * MS);
	}
	/* hostile output is cleaned in the events too */
	assert_string_equal(get_str(get(json_array_get(ev, 5), "data",
					 JSON_OBJECT),
				     "line"),
			    "warn: <b>slow</b> | pipes | \\x1b]0;x\\x07");
	json_decref(j);
	out_free(&o);

	/* all of it */
	o = show(w, w->ok, -1, false);
	has(&o, "  status       succeeded (seq 34)\n");
	has(&o, "  rolled back  +00:04.710 (seq 16, checkout completed)\n");
	has(&o, "  last health  status 200 at +01:20.200 (seq 27)\n");
	has(&o, "     35  2024-05-01T10:50:00.000Z  +10:00.000  note");
	out_free(&o);

	/* a moment after the health probe */
	o = show(w, w->ok, 79000, true);
	j = parse(&o);
	st = get(j, "state", JSON_OBJECT);
	assert_int_equal(get_int(get(st, "last_health", JSON_OBJECT), "status"),
			 200);
	assert_int_equal(get_int(get(st, "last_health", JSON_OBJECT), "seq"),
			 26);
	s = step_run(st, "health", 0);
	assert_string_equal(get_str(s, "status"), "running");
	json_decref(j);
	out_free(&o);
}

static void
test_stats(void **state)
{
	struct world *w = *state;
	struct out o = stats(w, true);
	json_t *j = parse(&o), *x, *s;
	size_t i;
	bool seen_verify = false;

	assert_int_equal(get_int(j, "incidents"), 5);
	assert_int_equal(get_int(j, "unreadable"), 0);
	x = get(j, "by_kind", JSON_OBJECT);
	assert_int_equal(get_int(x, "rollback"), 4);
	assert_int_equal(get_int(x, "stop"), 1);
	x = get(j, "by_status", JSON_OBJECT);
	assert_int_equal(get_int(x, "succeeded"), 3);
	assert_int_equal(get_int(x, "failed"), 1);
	assert_int_equal(get_int(x, "open"), 1);
	/* succeeded rollbacks: 145600, 60000, 20000 */
	x = get(j, "rollback", JSON_OBJECT);
	assert_int_equal(get_int(x, "count"), 3);
	assert_int_equal(get_int(x, "median_ms"), 60000);
	assert_int_equal(get_int(x, "p95_ms"), 145600);
	assert_int_equal(get_int(x, "over_budget"), 0);
	/* stopped: 1400, 70, 2020, 1020 -> (1020 + 1400) / 2 */
	x = get(j, "key_times", JSON_OBJECT);
	assert_int_equal(get_int(x, "time_to_stopped_median_ms"), 1210);
	assert_int_equal(get_int(x, "time_to_stopped_count"), 4);
	/* rolled back: 4710, 3100, 42100, 3060 -> (3100 + 4710) / 2 */
	assert_int_equal(get_int(x, "time_to_rolled_back_median_ms"), 3905);
	/* healthy: 80200, 53300, 14200 */
	assert_int_equal(get_int(x, "time_to_healthy_median_ms"), 53300);
	assert_int_equal(get_int(x, "time_to_healthy_count"), 3);
	json_array_foreach(get(j, "steps", JSON_ARRAY), i, s) {
		if (!strcmp(get_str(s, "step"), "checkout")) {
			/* 2000 x4 and one interrupted run */
			assert_int_equal(get_int(s, "runs"), 5);
			assert_int_equal(get_int(s, "median_ms"), 2000);
			assert_int_equal(get_int(s, "budget_ms"), 60000);
		}
		if (!strcmp(get_str(s, "step"), "start")) {
			/* 70000, 130000, 10000, 10000 */
			assert_int_equal(get_int(s, "median_ms"), 40000);
			assert_int_equal(get_int(s, "over_budget"), 1);
		}
		if (!strcmp(get_str(s, "step"), "health"))
			assert_int_equal(get_int(s, "failed"), 1);
		if (!strcmp(get_str(s, "step"), "verify"))
			seen_verify = true;
	}
	assert_true(seen_verify);
	x = get(j, "most_over_budget", JSON_ARRAY);
	assert_int_equal(json_array_size(x), 2);
	assert_string_equal(get_str(json_array_get(x, 0), "step"), "start");
	assert_string_equal(get_str(json_array_get(x, 1), "step"), "verify");
	json_decref(j);
	out_free(&o);

	o = stats(w, false);
	has(&o, "incidents    5\n");
	has(&o, "by kind      rollback 4, stop 1\n");
	has(&o, "rollback     3 succeeded: median 1m, p95 2m25.600s; 0 over "
		"the "
		"target\n");
	has(&o, "most often over budget: start 1 of 4, verify 1 of 1\n");
	out_free(&o);
}

static void
test_errors(void **state)
{
	struct world *w = *state;
	struct ir_ctx ctx = { 0 };
	FILE *ro;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_int_equal(ir_report_write(f, w->log, 99, IR_REPORT_MD, &ctx),
			 -ENOENT);
	assert_non_null(strstr(ir_error_msg(&ctx, -ENOENT), "INC-99"));
	ir_error_clear(&ctx);
	assert_int_equal(ir_report_show(f, w->log, 99, -1, false, &ctx),
			 -ENOENT);
	ir_error_clear(&ctx);
	fclose(f);
	free(buf);

	/* an output that refuses writes */
	ro = fopen("/dev/null", "r");
	assert_non_null(ro);
	assert_int_equal(ir_report_write(ro, w->log, w->ok, IR_REPORT_HTML,
					 &ctx),
			 -EIO);
	fclose(ro);
}

/* A tampered event: the report refuses, naming the incident and seq. */
static void
test_tampered(void **state)
{
	struct ir_ctx ctx = { 0 };
	struct ir_evlog *log = NULL;
	char *dir = tu_tempdir();
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	uint64_t id;
	struct inc inc;

	(void)state;
	assert_int_equal(ir_evlog_open(&log, dir, &ctx), 0);
	open_incident(&inc, log, "stop", "x", 0);
	output(&inc, "stop", 10, "out", "one");
	output(&inc, "stop", 20, "out", "two");
	id = inc.id;
	{
		/* the same event re-encoded with another line */
		struct ir_event *e = ev("step.output", "stop", 10);
		struct ir_buf b = IR_BUF_INIT(0);

		e->seq = 2;
		ir_val_set_str(e->data, "stream", "out");
		ir_val_set_str(e->data, "line", "ONE");
		memset(e->prev, 0, sizeof(e->prev));
		assert_int_equal(ir_codec_encode(&b, e), 0);
		assert_int_equal(ir_evlog_poke(log, id, 2, b.data, b.len, &ctx),
				 0);
		ir_buf_clear(&b);
		ir_event_clear(e);
		free(e);
	}
	f = open_memstream(&buf, &len);
	assert_int_equal(ir_report_write(f, log, id, IR_REPORT_JSON, &ctx),
			 -EBADMSG);
	assert_non_null(strstr(ctx.err.msg, "seq 2"));
	fclose(f);
	free(buf);
	ir_evlog_close(log);
	tu_rmtree(dir);
}

static void
test_clean(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		enum ir_rpt_esc esc;
		const char *out;
	} cases[] = {
		{ "a\x1b[1;31mb\x1b[0m", 0, IR_RPT_TEXT, "ab" },
		{ "lone \x1b escape", 0, IR_RPT_TEXT, "lone \\x1b escape" },
		{ "bell\x07 del\x7f cr\r", 0, IR_RPT_TEXT,
		  "bell\\x07 del\\x7f cr\\x0d" },
		{ "tab\tnl\n", 0, IR_RPT_TEXT, "tab nl " },
		{ "tab\tnl\n", 0, IR_RPT_HTML, "tab\tnl\n" },
		{ "bad \xff\xfe utf8 \xc3", 0, IR_RPT_TEXT,
		  "bad \\xff\\xfe utf8 \\xc3" },
		{ "overlong \xc0\xaf", 0, IR_RPT_TEXT, "overlong \\xc0\\xaf" },
		{ "c1 csi \xc2\x9b"
		  "31m",
		  0, IR_RPT_TEXT, "c1 csi \\u009b31m" },
		{ "bidi \xe2\x80\xae" "cba", 0, IR_RPT_TEXT,
		  "bidi \\u202ecba" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\x80", 0, IR_RPT_TEXT,
		  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\x80" },
		{ "nul\0byte", 8, IR_RPT_TEXT, "nul\\x00byte" },
		{ "<a href='x'>&\"", 0, IR_RPT_HTML,
		  "&lt;a href=&#39;x&#39;&gt;&amp;&quot;" },
		{ "see https://x.test/a:b", 0, IR_RPT_HTML,
		  "see https&#58;//x.test/a:b" },
		{ "a|b`c*d_e[f]g\\h~i<j>&", 0, IR_RPT_MD,
		  "a\\|b\\`c\\*d\\_e\\[f\\]g\\\\h\\~i&lt;j&gt;&amp;" },
		{ "esc\x1b" "x", 0, IR_RPT_MD, "esc\\\\x1bx" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		ir_rpt_put(f, cases[i].esc, cases[i].in,
			   cases[i].len ? cases[i].len : strlen(cases[i].in));
		fclose(f);
		if (strcmp(buf, cases[i].out))
			fail_msg("case %zu: \"%s\" != \"%s\"", i, buf,
				 cases[i].out);
		free(buf);
	}
}

static void
test_formats(void **state)
{
	char s[IR_RPT_TIME_LEN];

	(void)state;
	ir_rpt_time(s, 0);
	assert_string_equal(s, "1970-01-01T00:00:00.000Z");
	ir_rpt_time(s, -1);
	assert_string_equal(s, "1969-12-31T23:59:59.999Z");
	ir_rpt_time(s, T0 + 123456789);
	assert_string_equal(s, "2024-05-01T10:40:00.123Z");
	ir_rpt_dur(s, 850);
	assert_string_equal(s, "850ms");
	ir_rpt_dur(s, 12345);
	assert_string_equal(s, "12.345s");
	ir_rpt_dur(s, 30000);
	assert_string_equal(s, "30s");
	ir_rpt_dur(s, 300000);
	assert_string_equal(s, "5m");
	ir_rpt_dur(s, 245123);
	assert_string_equal(s, "4m05.123s");
	ir_rpt_dur(s, 3723000);
	assert_string_equal(s, "1h02m03s");
	ir_rpt_offset(s, 83456);
	assert_string_equal(s, "+01:23.456");
	ir_rpt_offset(s, 3723456);
	assert_string_equal(s, "+1:02:03.456");
	ir_rpt_bytes(s, 1536);
	assert_string_equal(s, "1.5 KiB");
	ir_rpt_us(s, 2500);
	assert_string_equal(s, "2.500ms");
}

#define LARGE_LINES 200000
#define BATCH 256

/* 200,000 output lines of one step, appended in batches of 256 as the
 * recorder group-commits them: one collapsed row, the right count. */
static void
test_large(void **state)
{
	struct ir_ctx ctx = { 0 };
	struct ir_evlog *log = NULL;
	struct ir_event *batch[BATCH];
	char *dir = tu_tempdir();
	struct world w = { 0 };
	struct inc inc;
	struct out o;
	json_t *j;
	int i, k;

	(void)state;
	assert_int_equal(ir_evlog_open(&log, dir, &ctx), 0);
	open_incident(&inc, log, "rollback", "flood", 0);
	decision(&inc, "stop", 10, "trading active?", "yes", "1 process");
	started(&inc, "stop", 20, 30000, 1);
	for (i = 0; i < LARGE_LINES; i += BATCH) {
		int n = LARGE_LINES - i < BATCH ? LARGE_LINES - i : BATCH;

		for (k = 0; k < n; k++) {
			char line[64];

			snprintf(line, sizeof(line), "line %d <x>", i + k);
			batch[k] = ev("step.output", "stop",
				      30 + (i + k) / 100);
			ir_val_set_str(batch[k]->data, "stream",
				       (i + k) % 10 ? "out" : "err");
			ir_val_set_str(batch[k]->data, "line", line);
		}
		assert_int_equal(ir_evlog_append(log, inc.id, batch,
						 (size_t)n, &ctx),
				 0);
		for (k = 0; k < n; k++) {
			ir_event_clear(batch[k]);
			free(batch[k]);
		}
	}
	completed(&inc, "stop", 3000, 2980, 30000);
	output(&inc, "backup", 3100, "out", "after");
	closed(&inc, 3200, "succeeded");
	w.log = log;

	o = report(&w, inc.id, IR_REPORT_MD);
	has(&o, "| 4-200003 | 2024-05-01T10:40:00.030Z | +00:00.030 | "
		"step.output x200000 | stop | 200000 lines (20000 on stderr): "
		"<code>line 0 &lt;x&gt;</code><br><code>line 1 "
		"&lt;x&gt;</code>");
	/* folded: the first and last 10 lines and where the rest is */
	has(&o, "<code>line 9 &lt;x&gt;</code><br>\u2026 199980 more lines "
		"folded (seq 14-199993): <code>incident export INC-1</code> "
		"shows them all<br><code>line 199990 &lt;x&gt;</code>");
	has(&o, "<code>line 199999 &lt;x&gt;</code> |");
	lacks(&o, "line 10 &lt;x&gt;");
	lacks(&o, "line 199989 &lt;x&gt;");
	has(&o, "| 200005 | 2024-05-01T10:40:03.100Z | +00:03.100 | "
		"step.output x1 | backup | 1 line (0 on stderr): "
		"<code>after</code> |");
	has(&o, "| Events | 200006 (200001 lines of step output) |");
	has(&o, "seq 3-200004; 200000 output lines");
	assert_true(o.len < 64 * 1024);
	out_free(&o);

	o = report(&w, inc.id, IR_REPORT_HTML);
	has(&o, "<details><summary>show the output (first and last 10 lines)"
		"</summary>");
	has(&o, "<span>line 9 &lt;x&gt;</span>\n<span class=\"fold\">"
		"\u2026 199980 more lines folded (seq 14-199993): "
		"<code>incident export INC-1</code> shows them all</span>\n"
		"<span class=\"err\">"
		"line 199990 "
		"&lt;x&gt;</span>");
	has(&o, "<span>line 199999 &lt;x&gt;</span>\n</pre></details>");
	lacks(&o, "line 10 &lt;x&gt;");
	lacks(&o, "line 200 &lt;x&gt;");
	assert_true(o.len < 256 * 1024);
	out_free(&o);

	o = report(&w, inc.id, IR_REPORT_JSON);
	j = parse(&o);
	assert_int_equal(get_int(step_run(j, "stop", 0), "output_lines"),
			 LARGE_LINES);
	assert_int_equal(get_int(get(j, "integrity", JSON_OBJECT), "events"),
			 LARGE_LINES + 6);
	json_decref(j);
	out_free(&o);

	ir_evlog_close(log);
	tu_rmtree(dir);
}

/* Beyond IR_LIMIT_REPORT_KINDS kinds the rest fold as one; a note that
 * folding leaves out still shows under the event it corrects. */
static void
test_fold_kinds(void **state)
{
	struct ir_ctx ctx = { 0 };
	struct ir_evlog *log = NULL;
	char *dir = tu_tempdir(), step[16], text[32];
	struct world w = { 0 };
	struct inc inc;
	struct out o;
	json_t *j, *tl, *other = NULL;
	size_t i, k;

	(void)state;
	assert_int_equal(ir_evlog_open(&log, dir, &ctx), 0);
	open_incident(&inc, log, "rollback", "kinds", 0);
	/* notes at seq 2..31; the one at seq 17 corrects the opening */
	for (i = 0; i < 30; i++) {
		snprintf(text, sizeof(text), "note %zu", i);
		note(&inc, 10 + (int64_t)i, "bob", text, i == 15 ? 1 : 0);
	}
	/* 80 kinds of 25 rows each: process scans of 80 steps */
	for (i = 0; i < 80; i++)
		for (k = 0; k < 25; k++) {
			snprintf(step, sizeof(step), "s%zu", i);
			process(&inc, step, 1000 + (int64_t)(i * 25 + k), 1);
		}
	w.log = log;

	o = report(&w, inc.id, IR_REPORT_MD);
	has(&o, "\u2026 10 more notes folded (seq 12-21): <code>incident "
		"timeline INC-1</code> shows them all");
	has(&o, "| \u2026 | - | - | (others) | - | \u2026 ");
	has(&o, "more events of other kinds folded");
	/* seq 17 is folded, its correction shows on the opening's row */
	has(&o, "**Corrected** by note seq 17 (bob): note 15");
	lacks(&o, "| 17 |");
	assert_true(o.len < 256 * 1024);
	out_free(&o);

	o = report(&w, inc.id, IR_REPORT_JSON);
	j = parse(&o);
	tl = get(get(j, "folded", JSON_OBJECT), "timeline", JSON_ARRAY);
	/* 82 kinds: the opening, the notes, 80 steps; 64 told apart */
	for (i = 0; i < json_array_size(tl); i++)
		if (json_is_null(json_object_get(json_array_get(tl, i),
						 "type")))
			other = json_array_get(tl, i);
	assert_non_null(other);
	assert_int_equal(get_int(other, "count"),
			 18 * 25 - IR_LIMIT_REPORT_FOLD);
	assert_int_equal(json_array_size(get(j, "notes", JSON_ARRAY)), 20);
	json_decref(j);
	out_free(&o);

	ir_evlog_close(log);
	tu_rmtree(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_markdown),
		cmocka_unit_test(test_html),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_failed_health),
		cmocka_unit_test(test_resumed),
		cmocka_unit_test(test_correction),
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_tz_locale),
		cmocka_unit_test(test_show_at),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_errors),
	};
	const struct CMUnitTest alone[] = {
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_fold_kinds),
	};
	int rc;

	rc = cmocka_run_group_tests_name("report", tests, setup, teardown);
	rc |= cmocka_run_group_tests_name("report_alone", alone, NULL, NULL);
	return rc;
}
