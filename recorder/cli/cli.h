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
	bool tty_err;
	int argc;               /* the command's own arguments */
	char **argv;            /* argv[0] is the command name */

	struct ir_config *cfg;
	char *data_dir;
	struct ir_evlog *log;
	struct ir_ctx ctx;
};

struct cli_command {
	const char *name;
	const char *usage;
	const char *summary;
	int (*run)(struct cli *cli);
	bool preload; /* may probe, notify or archive: load libcurl and
		       * libarchive while it starts */
};

/* exit.c: report rc (with cli->ctx's message) on stderr and return the
 * exit code it maps to.  rc 0 is IR_EXIT_OK. */
int cli_fail(struct cli *cli, int rc);
/* A usage error: print "incident CMD: message" and the usage; exit 2. */
int cli_usage(struct cli *cli, const char *fmt, ...) IR_PRINTF(2, 3);
/* A plain message on stderr ("incident: ..."). */
void cli_say(struct cli *cli, const char *fmt, ...) IR_PRINTF(2, 3);

/* common.c */
/* Load the configuration; `required`: a missing one is an error. */
int cli_load_config(struct cli *cli, bool required) IR_WUR;
/* Load what is there and open the event log. */
int cli_open_log(struct cli *cli) IR_WUR;
void cli_close(struct cli *cli);
/* Parse "INC-7", "7" or "last" into an id that exists. */
int cli_incident_arg(struct cli *cli, const char *arg, uint64_t *out) IR_WUR;
/* Ask on the terminal; without a TTY refuse (exit 2) unless --yes. */
int cli_confirm(struct cli *cli, bool yes, const char *question) IR_WUR;
/* Format ns since the epoch as 2026-11-25T22:03:11Z (UTC). */
void cli_utc(char *buf, size_t cap, int64_t ns);
/* The actor: user@host. */
void cli_actor(char *buf, size_t cap);
/* Write DATA_DIR/reports/INC-<n>.md (tmp + rename). */
int cli_write_report(void *payload, uint64_t id, struct ir_ctx *ctx);
/* Known-bad: an earlier rollback rolled back from the tag. */
bool cli_known_bad(void *payload, const char *tag, char *why, size_t cap);
/* Option helpers: whether argv[*i] is opt (and take its value). */
bool cli_flag(struct cli *cli, int *i, const char *name);
int cli_value(struct cli *cli, int *i, const char *name,
	      const char **out) IR_WUR; /* 1: matched, 0: not, <0: error */
/* Print JSON (jansson json_t*) on stdout and free it. */
void cli_print_json(void *json);

/* What a command that opens an incident was asked. */
struct run_opts {
	const char *kind;
	const char *reason;
	const char *tag;
	bool yes, force, with_db, no_backup, dry_run;
	const char *archive; /* restore: absolute path */
	const char *to;      /* restore: absolute path */
	const char *sha256;  /* restore: recorded SHA-256, NULL if unknown */
};

/* Open (or resume) an incident of o->kind under the lock, with the live
 * display, and carry it out; the exit code. */
int cli_run_incident(struct cli *cli, const struct run_opts *o);

/* interrupt.c: catch SIGINT, SIGTERM and SIGHUP (those not ignored when
 * we started) while an incident runs; on a TTY the handler says at once
 * that it heard.  disarm puts the old handlers back. */
void cli_interrupt_arm(bool tty);
void cli_interrupt_disarm(void);
/* For struct ir_run's interrupted: the first signal caught, 0 if none;
 * *kill once a second SIGINT came. */
int cli_interrupted(void *payload, bool *kill);

/* Commands. */
int cmd_rollback(struct cli *cli);
int cmd_stop(struct cli *cli);
int cmd_backup(struct cli *cli);
int cmd_abort(struct cli *cli);
int cmd_status(struct cli *cli);
int cmd_tags(struct cli *cli);
int cmd_list(struct cli *cli);
int cmd_show(struct cli *cli);
int cmd_timeline(struct cli *cli);
int cmd_report(struct cli *cli);
int cmd_stats(struct cli *cli);
int cmd_replay(struct cli *cli);
int cmd_note(struct cli *cli);
int cmd_verify(struct cli *cli);
int cmd_export(struct cli *cli);
int cmd_archives(struct cli *cli);
int cmd_restore(struct cli *cli);
int cmd_demo(struct cli *cli);

extern const struct cli_command cli_commands[];
const struct cli_command *cli_find_command(const char *name);

#endif
