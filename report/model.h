/*
 * Internal to report/: what a report knows about one incident, folded from
 * its events in one scan (decoded, hash chain checked).  Only aggregates
 * are kept, each list capped at IR_LIMIT_REPORT_ITEMS and each string at
 * IR_LIMIT_REPORT_TEXT bytes, so an incident of a million events costs the
 * same memory as one of a hundred.  The full timeline is a second scan
 * (ir_rpt_timeline) that writes as it goes.
 */
#ifndef IR_RPT_MODEL_H
#define IR_RPT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "ir_limits.h"
#include "codec.h"
#include "error.h"
#include "evlog.h"
#include "text.h"

/* The runbook's target: decision to rollback complete in 5 minutes. */
#define IR_RPT_BUDGET_MS 300000
/* Post-mortem within 24 hours of the opening. */
#define IR_RPT_POSTMORTEM_NS (24LL * 3600 * 1000000000)
/* Lines of the last log tail observation kept. */
#define IR_RPT_LOG_LINES 100

enum ir_rpt_status {
	IR_RPT_RUNNING = 0,
	IR_RPT_COMPLETED,
	IR_RPT_FAILED,
	IR_RPT_SKIPPED,
	IR_RPT_INTERRUPTED,
};

const char *ir_rpt_status_name(enum ir_rpt_status s);

/* One run of a step: step.started .. its closing event, or a lone
 * step.skipped.  A step started again after a resume is a second run. */
struct ir_rpt_step {
	char name[16];
	int64_t attempt;
	enum ir_rpt_status status;
	bool closed;       /* completed, failed or skipped */
	bool superseded;   /* a resume or a new start came while it ran */
	uint64_t seq;      /* step.started (or step.skipped) */
	uint64_t end_seq;  /* the closing event; 0 while none */
	int64_t start_ms;  /* from the opening */
	int64_t end_ms;    /* -1 while none */
	int64_t duration_ms; /* -1 unknown (still running, interrupted) */
	int64_t budget_ms;   /* -1 unknown */
	bool over_budget;
	bool has_exit;
	int64_t exit_code;
	char *command;
	char *error;
	char *why; /* step.skipped */
	uint64_t output_lines;
	uint64_t dropped; /* lines the recorder counted but did not store */
	uint64_t observations;
};

struct ir_rpt_decision {
	uint64_t seq;
	int64_t at_ms;
	char step[16];
	char *question;
	char *answer;
	char *because;
};

struct ir_rpt_note {
	uint64_t seq;
	int64_t at_ms;
	int64_t ts;
	char *author;
	char *text;
	uint64_t corrects;  /* 0: none */
	char *corrected;    /* one-line summary of the corrected event */
};

struct ir_rpt_backup {
	uint64_t seq;
	int64_t at_ms;
	char *path;
	char *sha256;
	int64_t bytes;
	int64_t files;
};

struct ir_rpt_resume {
	uint64_t seq;
	int64_t at_ms;
	char *step;
	char *actor;
	int64_t pid;
};

/* Other observations (process, git, file, archives, restores, unknown
 * kinds) and events worth listing: a one-line summary each. */
struct ir_rpt_item {
	uint64_t seq;
	int64_t at_ms;
	char step[16];
	char what[32];
	char *summary;
};

struct ir_rpt_list {
	void *items;
	size_t n, cap;
	uint64_t dropped; /* beyond IR_LIMIT_REPORT_ITEMS */
};

/* A run of consecutive step.output events of one step. */
struct ir_rpt_runidx {
	bool is_run; /* as a series entry: else one event at first_seq */
	char step[16];
	uint64_t first_seq, last_seq;
	uint64_t count, err_lines, dropped;
	int64_t first_ts, first_ms, last_ms;
};

/* What folding left out of a series: count, and the first and last seq of
 * those left out (ir_limits.h, IR_LIMIT_REPORT_FOLD). */
struct ir_rpt_fold {
	uint64_t count; /* 0: nothing folded */
	uint64_t first_seq, last_seq;
};

/* A series of one kind as the folded report keeps it: its first and its
 * last IR_LIMIT_REPORT_FOLD_KEEP entries (an event: first_seq == last_seq,
 * count 1; or a run of step output), the rest folded. */
struct ir_rpt_series {
	uint64_t n; /* entries seen */
	struct ir_rpt_runidx head[IR_LIMIT_REPORT_FOLD_KEEP];
	struct ir_rpt_runidx tail[IR_LIMIT_REPORT_FOLD_KEEP]; /* a ring */
	struct ir_rpt_fold fold;
};

/* Entries of s kept at its head and in its tail ring. */
size_t ir_rpt_series_head(const struct ir_rpt_series *s);
size_t ir_rpt_series_tail(const struct ir_rpt_series *s);
/* The i-th kept entry of the tail, oldest first. */
const struct ir_rpt_runidx *ir_rpt_series_tail_at(const struct ir_rpt_series *s,
						  size_t i);

/* A kind: an event type, its step and an observation's what ("" where it
 * does not apply; type "" for the kinds beyond IR_LIMIT_REPORT_KINDS,
 * counted as one). */
struct ir_rpt_kind {
	bool other;   /* the kinds beyond IR_LIMIT_REPORT_KINDS */
	bool is_item; /* of the observations section: what alone */
	char type[32];
	char step[16];
	char what[32];
	struct ir_rpt_series s;
};

struct ir_rpt_kinds {
	struct ir_rpt_kind *v; /* IR_LIMIT_REPORT_KINDS + 1 slots */
	size_t n;
	size_t hint;
};

struct ir_rpt_key {
	uint64_t seq; /* 0: not reached */
	int64_t ms;   /* from the opening */
	int64_t ts;   /* wall clock */
	const char *what; /* "stop completed", "incident.closed" ... */
};

struct ir_rpt_health {
	uint64_t probes;
	uint64_t failures; /* no answer, an error, or a status >= 400 */
	uint64_t first_seq, last_seq;
	int64_t first_ms, last_ms;
	int64_t first_status, last_status;
	char *url;
	char *last_error;
	int64_t *latency_us; /* the first IR_LIMIT_REPORT_SAMPLES */
	size_t nlatency;
	int64_t max_latency_us;
};

struct ir_rpt_logtail {
	uint64_t seq; /* 0: none observed */
	int64_t at_ms;
	char *path;
	char *lines[IR_RPT_LOG_LINES]; /* the last lines */
	size_t n;
	uint64_t total;
};

struct ir_rpt_type_count {
	char type[32];
	uint64_t n;
};

#define IR_RPT_TYPES 32

struct ir_rpt_model {
	struct ir_ctx *ctx; /* during the build only */
	uint64_t id;
	int64_t at_ns; /* events with a later mono are left out; -1: none */

	/* incident.opened */
	uint64_t opened_seq;
	int64_t opened_ts;
	char kind[16];
	char *reason, *actor, *host, *version, *config;
	/* A deploy and the rollback it caused, each naming the other (0:
	 * none). */
	uint64_t caused_by, rolled_back_by;
	int64_t pid;
	int64_t budget_ms;

	/* target.chosen (the last one) */
	uint64_t target_seq;
	int64_t target_ms;
	char *from, *to, *from_commit, *to_commit, *target_why, *skipped;

	/* incident.closed */
	uint64_t closed_seq;
	int64_t closed_ts, closed_ms, closed_duration_ms;
	char status[16]; /* "open" until closed */
	bool closed_later; /* closed after the moment at_ns */

	/* everything seen */
	uint64_t events, last_seq;
	int64_t last_ts, last_ms;
	uint64_t outputs, observations;
	struct ir_rpt_type_count types[IR_RPT_TYPES];
	size_t ntypes;
	uint64_t types_other;
	bool verified; /* the hash chain was checked up to the header's head */
	uint8_t head[IR_HASH_LEN];
	/* The last signed checkpoint event: the ledger's size and root (the
	 * close's, once closed), a copy of the root off the machine. */
	uint64_t checkpoint_seq, checkpoint_size;
	uint8_t checkpoint_root[IR_HASH_LEN];
	char checkpoint_what[128];

	struct ir_rpt_key stopped, rolled_back, healthy, closed;
	/* A deploy's soak that failed: how long the failure took to see. */
	struct ir_rpt_key soak_failed;

	struct ir_rpt_list steps;     /* struct ir_rpt_step */
	struct ir_rpt_list decisions; /* struct ir_rpt_decision */
	struct ir_rpt_list notes;     /* struct ir_rpt_note */
	struct ir_rpt_list backups;   /* struct ir_rpt_backup */
	struct ir_rpt_list resumes;   /* struct ir_rpt_resume */
	struct ir_rpt_list items;     /* struct ir_rpt_item, by seq */
	/* Notes that correct an event, wherever they are (not folded). */
	struct ir_rpt_list corrections; /* struct ir_rpt_note */
	struct ir_rpt_health health;
	struct ir_rpt_logtail logtail;

	/* Where the runs of step output are, so that the timeline pass reads
	 * only their first lines and the events between them. */
	struct ir_rpt_runidx *runs;
	size_t nruns, caprun;
	bool runs_overflow; /* more than IR_LIMIT_REPORT_RUNS: scan all */

	/* Folding (not with full): the notes, the observations by what, the
	 * timeline rows by kind (a run of step output is one row). */
	bool full;
	/* Figures only (stats): no folding and no second look, the lists
	 * capped as ever. */
	bool summary;
	struct ir_rpt_series note_series;
	struct ir_rpt_kinds item_kinds;
	struct ir_rpt_kinds kinds;
	struct ir_rpt_runidx cur_run; /* the run of output being read */

	/* fold state */
	size_t hint;          /* index of the step run seen last */
	struct ir_buf last_raw; /* stored bytes of the last event */
	bool oom;
};

/* Typed views of the lists. */
#define IR_RPT_AT(list, type, i) (&((type *)(list).items)[i])

/* Fold incident id into *m (zeroed here): header, one scan with
 * IR_EVLOG_DECODE | IR_EVLOG_CHAIN, then a look-up of each event a note
 * corrects.  at_ns >= 0 leaves out events with a later mono.  Errors as
 * ir_evlog_scan, -ENOMEM.  Clear m with ir_rpt_model_clear() either way. */
int ir_rpt_model_build(struct ir_rpt_model *m, struct ir_evlog *log,
		       uint64_t id, int64_t at_ns, struct ir_ctx *ctx) IR_WUR;
/* The same; full keeps every note, observation and list entry (memory
 * grows with the incident) and folds nothing. */
int ir_rpt_model_build_full(struct ir_rpt_model *m, struct ir_evlog *log,
			    uint64_t id, int64_t at_ns, bool full,
			    struct ir_ctx *ctx) IR_WUR;
/* The same for figures only (stats): nothing is kept for folding, so a
 * thousand small incidents cost no more than their events. */
int ir_rpt_model_build_summary(struct ir_rpt_model *m, struct ir_evlog *log,
			       uint64_t id, struct ir_ctx *ctx) IR_WUR;
void ir_rpt_model_clear(struct ir_rpt_model *m);

/* The total so far: incident.closed's duration, else the last event. */
int64_t ir_rpt_model_duration(const struct ir_rpt_model *m);
/* The last run of a step by name, NULL when it never ran. */
const struct ir_rpt_step *ir_rpt_model_step(const struct ir_rpt_model *m,
					    const char *name);
/* The first decision asking question, NULL when none. */
const struct ir_rpt_decision *
ir_rpt_model_decision(const struct ir_rpt_model *m, const char *question);
/* The i-th note correcting event seq (i from 0), NULL past the last. */
const struct ir_rpt_note *ir_rpt_model_correction(const struct ir_rpt_model *m,
						  uint64_t seq, size_t i);
/* The command that shows everything folding leaves out: `incident
 * timeline INC-7` for events, `incident export INC-7` for output lines. */
#define IR_RPT_SHOWN_BY_LEN 64
void ir_rpt_shown_by(char out[IR_RPT_SHOWN_BY_LEN],
		     const struct ir_rpt_model *m, bool lines);
/* "note events", "observation (process) events of step stop", "runs of
 * step.output of step start", "events of other kinds". */
void ir_rpt_kind_name(struct ir_rpt_line *l, const struct ir_rpt_kind *k);
/* The folds of ks, sorted by their first seq, into out (room for
 * IR_LIMIT_REPORT_KINDS + 1); their number. */
size_t ir_rpt_kind_folds(const struct ir_rpt_kind **out,
			 const struct ir_rpt_kinds *ks);

/* Median and nearest-rank percentile of n samples (sorted in place);
 * -1 for n == 0. */
int64_t ir_rpt_percentile(int64_t *v, size_t n, unsigned pct);

/* One-line summary of an event (our words around its data). */
void ir_rpt_describe(struct ir_rpt_line *l, const struct ir_event *ev);

/* The runbook's decision tree, node by node, with what the log says. */
struct ir_rpt_node {
	const char *title;    /* "Is trading active?", "Verify system health" */
	const char *action;   /* what a yes leads to; NULL for action nodes */
	const char *no_action; /* what a no means */
	const char *question; /* the decision event's question, or NULL */
	const char *step;     /* the step the node stands for */
	const struct ir_rpt_decision *decision; /* the first answer */
	const struct ir_rpt_step *run;          /* the step's last run */
	struct ir_rpt_line *outcome;            /* what happened, in words */
};

#define IR_RPT_NODES 5
/* Fill nodes; each outcome points into lines (caller's storage). */
void ir_rpt_decision_path(const struct ir_rpt_model *m,
			  struct ir_rpt_node nodes[IR_RPT_NODES],
			  struct ir_rpt_line lines[IR_RPT_NODES]);

/* The runbook's post-rollback checklist. */
struct ir_rpt_check {
	const char *name;
	const char *what;
};

#define IR_RPT_CHECKS 5
extern const struct ir_rpt_check ir_rpt_checklist[IR_RPT_CHECKS];

/* The post-mortem draft: sentences built from the facts in the log, one
 * call of fn per sentence. */
enum ir_rpt_pm {
	IR_RPT_PM_DETECTION,
	IR_RPT_PM_SEVERITY,
	IR_RPT_PM_IMPACT,
	IR_RPT_PM_RESPONDERS,
	IR_RPT_PM_CAUSE,
	IR_RPT_PM_WELL,
	IR_RPT_PM_BADLY,
	IR_RPT_PM_ACTIONS,
};

#define IR_RPT_PM_SECTIONS 8
extern const char *const ir_rpt_pm_title[IR_RPT_PM_SECTIONS];
extern const char *const ir_rpt_pm_key[IR_RPT_PM_SECTIONS];

typedef void (*ir_rpt_fact_fn)(void *payload, const char *text);
void ir_rpt_postmortem(const struct ir_rpt_model *m, enum ir_rpt_pm section,
		       ir_rpt_fact_fn fn, void *payload);

/* A run of consecutive step.output events of one step, as the timeline
 * hands it to a renderer. */
struct ir_rpt_run {
	char step[16];
	uint64_t first_seq, last_seq;
	int64_t first_ts, first_ms, last_ms;
	uint64_t count;      /* step.output events */
	uint64_t dropped;    /* lines the recorder did not store */
	uint64_t err_lines;  /* on stderr */
	struct ir_buf lines; /* the first IR_LIMIT_REPORT_RUN_LINES */
	size_t nlines;
	struct ir_buf last;  /* the last line */
	char last_stream;
	/* IR_RPT_TL_FOLDED: lines holds the first IR_LIMIT_REPORT_FOLD_KEEP
	 * of a longer run, tail the last ones, folded what is between. */
	struct ir_buf tail;
	size_t ntail;
	struct ir_rpt_fold folded;
};

/* Walk a run's kept lines: *off starts at 0; false after the last. */
bool ir_rpt_run_line(const struct ir_rpt_run *run, size_t *off,
		     char *stream, const char **line, size_t *len);

enum ir_rpt_tl_mode {
	/* Every event; of a run its first IR_LIMIT_REPORT_RUN_LINES lines
	 * and its last. */
	IR_RPT_TL_CAPPED = 0,
	/* The rows the model's kinds keep, a fold call where each kind's
	 * left-out rows begin; of a run longer than IR_LIMIT_REPORT_FOLD its
	 * first and last lines.  The model must not be full. */
	IR_RPT_TL_FOLDED,
	/* Every event and every line (memory grows with a run). */
	IR_RPT_TL_FULL,
};

/* The second scan: every event up to the model's last seq (and at_ns),
 * step.output collapsed into runs. */
struct ir_rpt_timeline {
	const struct ir_rpt_model *m;
	void (*event)(void *payload, const struct ir_event *ev);
	void (*run)(void *payload, const struct ir_rpt_run *run);
	void *payload;
	/* IR_RPT_TL_FOLDED only: the rows of kind k left out. */
	void (*fold)(void *payload, const struct ir_rpt_kind *k,
		     const struct ir_rpt_fold *f);
	enum ir_rpt_tl_mode mode;
};

int ir_rpt_timeline(const struct ir_rpt_timeline *tl, struct ir_evlog *log,
		    struct ir_ctx *ctx) IR_WUR;

/* Renderers (one file each). */
/* Each folds unless m->full. */
int ir_rpt_markdown(FILE *out, const struct ir_rpt_model *m,
		    struct ir_evlog *log, struct ir_ctx *ctx) IR_WUR;
int ir_rpt_html(FILE *out, const struct ir_rpt_model *m, struct ir_evlog *log,
		struct ir_ctx *ctx) IR_WUR;
int ir_rpt_json(FILE *out, const struct ir_rpt_model *m,
		struct ir_ctx *ctx) IR_WUR;

/* -EIO with a message when out has failed, else 0. */
int ir_rpt_flush(FILE *out, struct ir_ctx *ctx) IR_WUR;

#endif
