/*
 * The command line: the one place that uses recorder/, replay/ and report/
 * together, the only code that prints to the user, and (in exit.c) the one
 * place where errors become exit codes.
 */
#ifndef IR_CLI_H
#define IR_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "error.h"
#include "evlog.h"
#include "ir_limits.h"
#include "runbook.h"

enum {
	IR_EXIT_OK = 0,
	IR_EXIT_FAILED = 1, /* the operation ran and failed */
	IR_EXIT_USAGE = 2,  /* usage, configuration or input: nothing changed */
	IR_EXIT_LOCKED = 3, /* another rollback holds the lock */
	IR_EXIT_INTERRUPTED = 130, /* interrupted: the incident stays open */
};

struct cli {
	const char *prog;
	const char *config_opt; /* -c */
	const char *data_opt;   /* -d */
	bool json;
	bool color;             /* stdout */
	bool color_err;         /* stderr */
	bool tty_in;
	bool tty_err;           /* a terminal that can redraw (not dumb) */
	bool tty_out;           /* the same for stdout */
	int argc;               /* the command's own arguments */
	char **argv;            /* argv[0] is the command name */

	struct ir_config *cfg;
	char *data_dir;
	struct ir_evlog *log;
	struct ir_ctx ctx;
	/* The real world, with this data directory's report writer and
	 * known-bad history (cli_world). */
	struct ir_effects world;
	/* What the verdicts have read of each incident (history.c). */
	struct cli_told *told;
	size_t n_told, cap_told;
	/* Every tag's verdict from one walk of them (verdict.c). */
	struct cli_verdicts *verdicts;
	/* The checkpoint signer's key, once loaded (checkpoint.c). */
	struct ir_key *ckey;
	struct ir_buf cp_note; /* signed, not yet kept (the close's) */
	unsigned preload; /* the command's CLI_LOAD_* */
};

struct cli_command {
	const char *name;
	const char *usage;
	const char *summary;
	unsigned preload; /* CLI_LOAD_*: what it may use, loaded on threads
			   * while it starts */
};

/* libcurl (probes, webhooks), libarchive; either loads OpenSSL too.
 * LATE: not while the command starts but once it holds the lock to run
 * its incident (cli_run_incident): loading them beside the start-up
 * slowed the pre-flight that comes before the stop (the loader's
 * mprotect calls stall the other core), while the stop step leaves that
 * core idle. */
#define CLI_LOAD_HTTP 1u
#define CLI_LOAD_ARCHIVE 2u
#define CLI_LOAD_ALL (CLI_LOAD_HTTP | CLI_LOAD_ARCHIVE)
#define CLI_LOAD_LATE 4u
#define CLI_LOAD_RUN (CLI_LOAD_ALL | CLI_LOAD_LATE)

/* session.c: the world the commands act on (see effects.h). */
const struct ir_effects *cli_world(struct cli *cli);
/* Append one event of type (data d, taken in every case) to incident id,
 * through a recorder attached to it; *seq (may be NULL) gets its seq. */
int cli_append(struct cli *cli, uint64_t id, const char *type,
	       struct ir_val *d, uint64_t *seq) IR_WUR;

/* exit.c: report rc (with cli->ctx's message) on stderr and return the
 * exit code it maps to.  rc 0 is IR_EXIT_OK. */
int cli_fail(struct cli *cli, int rc);
/* cli_fail() for a command that only reads and writes to stdout: when the
 * reader has gone (report | head), that is the end it asked for: exit 0,
 * no message. */
int cli_read_done(struct cli *cli, int rc);
/* A usage error: print "incident CMD: message" and the usage; exit 2. */
int cli_usage(struct cli *cli, const char *fmt, ...) IR_PRINTF(2, 3);
/* cli_usage() for argv[i], which the command does not take. */
int cli_unexpected(struct cli *cli, int i);
/* Once the log is open: a damaged page that trips LMDB (an assertion) or
 * a page the file no longer holds (SIGBUS) ends the command with one line
 * naming the file, exit 1, never a signal. */
void cli_watch_log(struct cli *cli);
/* A plain message on stderr ("incident: ..."). */
void cli_say(struct cli *cli, const char *fmt, ...) IR_PRINTF(2, 3);

/* common.c */
/* fd is a terminal that takes colour and cursor movement (not
 * TERM=dumb). */
bool cli_can_redraw(int fd);
/* Load the configuration; `required`: a missing one is an error. */
int cli_load_config(struct cli *cli, bool required) IR_WUR;
/* Load what is there and open the event log. */
int cli_open_log(struct cli *cli) IR_WUR;
/* The same for a command that only reads the log: it works on a
 * read-only copy of the data directory and changes nothing in it
 * (ir_evlog_open_readonly). */
int cli_open_log_readonly(struct cli *cli) IR_WUR;
/* session.c: start loading what `what` (CLI_LOAD_*) names, on threads. */
void cli_preload(unsigned what);
/* session.c: free what the session holds. */
void cli_close(struct cli *cli);
/* Open the log (readonly: cli_open_log_readonly) and take the incident
 * argument at argv[*i] (what: the command, for the usage message).  0, or
 * the exit code after the message is printed. */
int cli_one_incident(struct cli *cli, int *i, uint64_t *id, const char *what,
		     bool readonly) IR_WUR;
/* Parse "INC-7", "7" or "last" into an id that exists. */
int cli_incident_arg(struct cli *cli, const char *arg, uint64_t *out) IR_WUR;
/* Ask on the terminal; without a TTY refuse (exit 2) unless --yes. */
int cli_confirm(struct cli *cli, bool yes, const char *question) IR_WUR;
/* Format ns since the epoch as 2026-11-25T22:03:11Z (UTC). */
void cli_utc(char *buf, size_t cap, int64_t ns);
/* The actor: user@host. */
void cli_actor(char *buf, size_t cap);
/* incident.opened's data every kind shares: reason, actor, host, pid,
 * version, config (hash) and deploy_dir; the caller adds the rest. */
struct ir_val *cli_opened_data(struct cli *cli, const char *reason);
/* Write DATA_DIR/reports/INC-<n>.md (tmp + rename). */
/* mkdir path, mode 0700, unless it is there: 0, or why not in ctx. */
int cli_mkdir(const char *path, struct ir_ctx *ctx) IR_WUR;
int cli_write_report(void *payload, uint64_t id, struct ir_ctx *ctx);
/* output.c: where `-o FILE` writes.  A regular file or a new name is
 * replaced atomically (a temporary file in its folder, renamed when
 * whole); a device, FIFO or symbolic link is written through and never
 * replaced; "-" is stdout. */
struct cli_output {
	FILE *f;
	const char *path; /* borrowed */
	char *tmp;        /* NULL: written through */
};
int cli_output_open(struct cli *cli, struct cli_output *o,
		    const char *path) IR_WUR;
/* Finish o: with rc 0 flush and put the output in place, else discard a
 * temporary file.  Returns rc, or the error of finishing. */
int cli_output_close(struct cli *cli, struct cli_output *o, int rc) IR_WUR;
/* Option helpers: whether argv[*i] is opt (and take its value). */
bool cli_flag(struct cli *cli, int *i, const char *name);
/* --speed X or --max-idle SECONDS at argv[*i] (replay, drill): 1 taken,
 * 0 not one of them, -1 a usage error (said). */
int cli_pace(struct cli *cli, int *i, double *speed, double *max_idle);
/* A decimal number, whole (strtod): 0, or -EINVAL. */
int cli_number(const char *s, double *out) IR_WUR;
int cli_value(struct cli *cli, int *i, const char *name,
	      const char **out) IR_WUR; /* 1: matched, 0: not, <0: error */
/* Print JSON (jansson json_t*) on stdout and free it. */
void cli_print_json(void *json);

/* verdict.c: a recorded correction of a tag's verdict (tag.marked, made
 * by cmd_mark.c). */
struct cli_mark {
	uint64_t id;      /* the mark incident */
	char tag[256];
	char as[8];       /* good, bad, clear */
	char reason[IR_LIMIT_STRING + 1];
	char actor[300];
	int64_t ts;       /* ns since the epoch */
};

/* What the log says of a deploy tag (DESIGN.md, "Known-good and
 * known-bad"): the newest mark overrides what came before it; a rollback
 * from the tag after it makes it known-bad again, a passed health step of
 * a rollback to it known-good. */
struct cli_verdict {
	bool bad, good;
	char why[IR_LIMIT_STRING + 400]; /* without "known-bad (" */
	bool marked;                     /* a mark stands in the history */
	struct cli_mark mark;
};

/* tag's verdict.  One walk of the incidents gives every tag's, kept
 * until the log changes: asking for each tag in turn costs no more. */
int cli_tag_verdict(struct cli *cli, const char *tag,
		    struct cli_verdict *v) IR_WUR;
void cli_verdicts_free(struct cli *cli);
/* "known-bad (why)", "known-good (why)", "neither (cleared by ...)" or "". */
void cli_verdict_text(const struct cli_verdict *v, char *out, size_t cap);
/* The mark recorded by mark incident id; -ENOENT when it has none. */
int cli_mark_of(struct cli *cli, uint64_t id, struct cli_mark *out) IR_WUR;

/* history.c: what an incident's own events say of it (never its header
 * alone): the executor's fold of them (st: kind, status, from, target,
 * opened_ts), with the facts the header and the verdicts need besides. */
struct cli_history {
	struct ir_state st;
	int64_t closed;     /* incident.closed's ts, 0 while open */
	uint64_t events;    /* the last seq */
	bool health_passed; /* a health step completed */
	bool marked;        /* a tag.marked (the first) */
	struct cli_mark mark;
};

/* Fold incident id's events (with the hash chain checked when chain);
 * *out only on success.  The scan's own errors (-EBADMSG naming incident
 * and seq, -ENOENT). */
int cli_history_of(struct cli *cli, uint64_t id, bool chain,
		   struct cli_history *out, struct ir_ctx *ctx) IR_WUR;

/* For an IR_EVLOG_RAW scan of incident id: the stored event at raw into
 * *ev, its data decoded only when want(type) (else ev holds the fixed
 * fields alone), checked as ir_evlog_check_raw().  Clear ev with
 * ir_event_clear() whatever the result. */
int cli_event_read(uint64_t id, const struct ir_event *key, const void *raw,
		   size_t len, bool (*want)(const char *type),
		   struct ir_event *ev, struct ir_ctx *ctx) IR_WUR;

/* The first header field that is not what the events say. */
struct cli_header_fault {
	char field[16];
	char header[300]; /* the header's value, quoted when a string */
	char events[300]; /* the events' value */
};

/* Whether inc disagrees with h (kind, status, from, target, opened,
 * closed, events; the scan holds head to the header); *f names the first
 * field that does. */
bool cli_header_differs(const struct ir_incident *inc,
			const struct cli_history *h,
			struct cli_header_fault *f);

/* What the verdicts read of one incident, from its events: kept for the
 * command's run while the incident's header shows the same last seq and
 * head (an append changes both). */
struct cli_told {
	uint64_t id, events;
	uint8_t head[IR_HASH_LEN];
	bool readable; /* false: its events could not be read (-EBADMSG) */
	char kind[16], status[16], from[256], target[256];
	int64_t closed; /* incident.closed's ts, 0 while open */
	bool health_passed, marked;
	struct cli_mark mark;
};

/* The cli_told of inc (folded now, or as kept), valid until the next
 * call; -EBADMSG is no error here (readable false), other errors are. */
int cli_told_of(struct cli *cli, const struct ir_incident *inc,
		const struct cli_told **out, struct ir_ctx *ctx) IR_WUR;

/* Known-bad: the tag's verdict (cli_tag_verdict) is known-bad; why says
 * so ("INC-3 rolled back from it", "marked by ... : reason"). */
bool cli_known_bad(void *payload, const char *tag, char *why, size_t cap);
/* The world's verdict operation (effects.h) over cli_tag_verdict. */
void cli_world_verdict(void *payload, const char *tag, bool *bad, bool *good,
		       char *why, size_t cap);
/* An explicit TAG must exist and match the pattern (exit 2 listing the
 * recent tags otherwise). */
int cli_check_tag(struct cli *cli, const char *tag) IR_WUR;

/* What a command that opens an incident was asked. */
struct run_opts {
	const char *kind;
	const char *reason;
	const char *tag;
	const char *fleet;   /* rollback --fleet F: recorded in incident.opened */
	bool yes, force, with_db, no_backup, dry_run;
	const char *archive; /* restore: absolute path */
	const char *to;      /* restore: absolute path */
	const char *sha256;  /* restore: recorded SHA-256, NULL if unknown */
	/* The caller looked for the open incident of kind and found
	 * open_id (0: none); under the lock it must still be that one. */
	bool open_checked;
	uint64_t open_id;
	/* A rollback a failed deploy opened: that deploy (0: none). */
	uint64_t caused_by;
	/* Set by cli_run_incident: the incident it ran (0: none). */
	uint64_t ran_id;
};

/* The open incident of kind, folded: id 0 when there is none. */
struct cli_open {
	uint64_t id;
	struct ir_state st;
	char reason[IR_LIMIT_STRING + 1]; /* incident.opened's */
};

int cli_find_open(struct cli *cli, const char *kind, struct cli_open *out)
	IR_WUR;

/* preflight.c: what the pre-flight found: the target, the local changes
 * in the way of its checkout, and why the rollback would refuse ("" when
 * it would go). */
struct cli_preflight {
	struct ir_target t;
	struct ir_buf conflicts; /* one path per line */
	size_t n_conflicts;
	char blocked[1024];
};

/* Everything the rollback checks before it changes anything.  0 with
 * p->blocked set when it would refuse; a negative errno when the target
 * cannot be chosen at all.  Clear p with cli_preflight_clear() either
 * way. */
int cli_preflight(struct cli *cli, const struct run_opts *o,
		  struct cli_preflight *p) IR_WUR;
void cli_preflight_clear(struct cli_preflight *p);
/* The pre-flight, its refusal said: 0 with p to clear, or the exit code
 * (p cleared). */
int cli_preflight_or_refuse(struct cli *cli, const struct run_opts *o,
			    struct cli_preflight *p);
/* The conflicting paths as "a, b, c" (the first few). */
void cli_conflict_list(const struct cli_preflight *p, char *out, size_t cap);
/* Print the pre-flight's refusal (longer than an error message holds). */
void cli_refuse(struct cli *cli, const char *why);
/* incident.opened's data for a run of o->kind with these options. */
struct ir_val *cli_incident_data(struct cli *cli, const struct run_opts *o);
/* rollback --dry-run (plan.c): the plan with nothing changed; the exit code (2
 * when the rollback would refuse).  open_id: the open rollback it would
 * resume, 0 for none. */
int cli_dry_run(struct cli *cli, struct run_opts *o, uint64_t open_id);

/* Open (or resume) an incident of o->kind under the lock, with the live
 * display, and carry it out; the exit code. */
int cli_run_incident(struct cli *cli, struct run_opts *o);

/* interrupt.c: catch SIGINT, SIGTERM and SIGHUP (those not ignored when
 * we started) while an incident runs; on a TTY the handler says at once
 * that it heard.  disarm puts the old handlers back. */
void cli_interrupt_arm(bool tty);
void cli_interrupt_disarm(void);
/* For struct ir_run's interrupted: the first signal caught, 0 if none;
 * *kill once a second SIGINT came. */
int cli_interrupted(void *payload, bool *kill);

/* pause.c: waiting for the space bar on the terminal (stdin when it is
 * one, else /dev/tty).  open: false when there is no terminal (nothing to
 * wait on).  wait: raw mode while it waits (keys typed before it began
 * are dropped), then prompt(payload) says so, and the wait begins; the
 * mode is put back before it returns and before a signal ends the process
 * (Ctrl-C is raised as SIGINT).  -EIO when the terminal is gone, -ENOTTY
 * when not open.  close: also when not open. */
bool cli_pause_open(void);
int cli_pause_wait(void (*prompt)(void *payload), void *payload) IR_WUR;
void cli_pause_close(void);

/* Commands. */
int cmd_rollback(struct cli *cli);
int cmd_stop(struct cli *cli);
int cmd_backup(struct cli *cli);
int cmd_abort(struct cli *cli);
int cmd_mark(struct cli *cli);
int cmd_status(struct cli *cli);
int cmd_tags(struct cli *cli);
int cmd_list(struct cli *cli);
int cmd_show(struct cli *cli);
int cmd_timeline(struct cli *cli);
int cmd_report(struct cli *cli);
int cmd_stats(struct cli *cli);
int cmd_replay(struct cli *cli);
int cmd_simulate(struct cli *cli);
int cmd_drill(struct cli *cli);
int cmd_deploy(struct cli *cli);
/* cmd_run.c: parse rollback's options (deploy takes the same), load the
 * configuration and open the log; 0 or the exit code. */
int cli_run_prepare(struct cli *cli, struct run_opts *o);
int cmd_note(struct cli *cli);
int cmd_verify(struct cli *cli);
int cmd_export(struct cli *cli);
int cmd_archives(struct cli *cli);
int cmd_restore(struct cli *cli);
int cmd_demo(struct cli *cli);
int cmd_config(struct cli *cli);
int cmd_help(struct cli *cli);
/* cmd_fleet.c: `incident fleet ...`; the agent (fleet_agent.c) and the
 * report (fleet_report.c).  cli_fleet_open: fleet F over [fleet]
 * endpoints, as this node (fleet.node) or as an operator. */
int cmd_fleet(struct cli *cli);
struct ir_fleet;
int cli_fleet_open(struct cli *cli, const char *fleet, bool as_node,
		   struct ir_fleet **out) IR_WUR;
/* fleet_open.c: also a node's mirrored head (head, head_inc, head_seq,
 * mirror_lag_ms) set in obj, a jansson object; nothing when none. */
void cli_fleet_head_json(struct ir_fleet *f, const char *node, void *obj);
/* ... and node i's recorded phase-0 decision (question, answer, rule,
 * by) as a new jansson object; NULL when it has none. */
struct ir_fleet_view;
void *cli_fleet_decision_json(const struct ir_fleet_view *v, size_t i);
int cli_fleet_agent(struct cli *cli);
int cli_fleet_report(struct cli *cli);

/* checkpoint.c: signed checkpoints of the ledger.  The world's signer
 * (effects.h: checkpoint): sign head, keep it as
 * DATA_DIR/checkpoints/latest and, at a close with [checkpoint]
 * git-notes, as a note on the deployed commit (how: IR_CHECKPOINT_*; a
 * SIGN alone holds its note in cli->cp_note for the KEEP after). */
struct ir_ledger_head;
struct ir_checkpoint;
int cli_world_checkpoint(void *self, const struct ir_ledger_head *head,
			 const char *what, unsigned how,
			 struct ir_ctx *ctx) IR_WUR;
/* The origin this log's checkpoints name: HOST/incident/LOG-ID. */
void cli_checkpoint_origin(struct cli *cli, char *out, size_t cap);
/* The pinned public keys: DATA_DIR/keys/ed25519-*.pub, or only the PEM
 * file extra when given. */
#define CLI_PINS_MAX 64
struct cli_pins {
	uint8_t pub[CLI_PINS_MAX][32];
	size_t n;
};
int cli_checkpoint_pins(struct cli *cli, const char *extra,
			struct cli_pins *p, struct ir_ctx *ctx) IR_WUR;
/* Whether cp bears a good signature of one of p's keys. */
bool cli_checkpoint_pinned(const struct cli_pins *p,
			   const struct ir_checkpoint *cp);
/* verify_checkpoint.c: verify --checkpoint src (a file, or "git": the
 * notes in deploy.dir), signatures against pins (cli_checkpoint_pins).
 * A fault goes into msg (empty: none); json (a jansson object, may be
 * NULL) gets "checkpoint". */
int cli_verify_checkpoints(struct cli *cli, const char *src,
			   const struct cli_pins *pins, void *json, char *msg,
			   size_t cap) IR_WUR;
/* Whether the ledger's leaves [from, to) are all `checkpoint` events:
 * what signing adds to the log after the checkpoint it records (a few at
 * most; more is never). */
bool cli_checkpoint_only_records(struct cli *cli, uint64_t from,
				 uint64_t to);
/* The notes' ref in the deploy repository. */
#define CLI_NOTES_REF "refs/notes/incident-checkpoints"
int cmd_checkpoint(struct cli *cli);

/* help.c: the usage of every command, and one command's options. */
void cli_usage_all(FILE *out);
void cli_command_help(FILE *out, const struct cli_command *c);

/* commands.c: every command, ended by a NULL name; one by name. */
extern const struct cli_command cli_commands[];
const struct cli_command *cli_find_command(const char *name);

#endif
