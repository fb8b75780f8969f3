/*
 * Configuration: a git-config file (read through gitops, i.e. libgit2's
 * config parser), checked against the keys DESIGN.md defines, with every
 * default filled in.
 */
#ifndef IR_CONFIG_H
#define IR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "hash.h"

struct ir_notify {
	char *name;
	char *url; /* a secret: never logged, never in a report */
};

struct ir_config {
	char *path;      /* the file read, NULL when none */
	char *base_dir;  /* relative paths in the file are relative to it */
	uint8_t sha256[IR_SHA256_LEN]; /* of the text, secrets blanked */
	bool have_file;

	char *data_dir;  /* core.data-dir, absolute; NULL: default */
	char *deploy_dir;
	char *tag_pattern;
	uint64_t rollback_budget_ms;

	char *stop_command;
	char *stop_process;
	char *stop_escalate;
	uint64_t stop_budget_ms;

	char **backup_paths;
	size_t n_backup_paths;
	unsigned backup_keep;
	uint64_t backup_budget_ms;

	uint64_t checkout_budget_ms;

	char *config_dir;
	char *config_backup;
	uint64_t config_budget_ms;

	char *database_dump;
	char *database_restore;
	bool database_on_rollback;
	uint64_t database_budget_ms;

	char *start_command;
	uint64_t start_budget_ms;

	char *health_url;
	long health_expect_status;
	char *health_expect_body;
	uint64_t health_budget_ms;

	char *verify_log;
	unsigned verify_lines;
	uint64_t verify_budget_ms;

	uint64_t report_budget_ms;

	/* `incident deploy`: the graceful stop of the running version, the
	 * tag's config (NULL: the tag's own tracked config), the optional
	 * migration, the soak, and what a failed health or soak does:
	 * "rollback", "stop" or "hold". */
	char *deploy_stop;
	uint64_t deploy_stop_budget_ms;
	char *deploy_config;
	char *deploy_migrate;
	uint64_t deploy_migrate_budget_ms;
	uint64_t deploy_soak_ms;
	uint64_t deploy_soak_interval_ms;
	char *deploy_on_failure;
	uint64_t deploy_budget_ms;

	/* `incident fleet`: etcd's JSON gateway (comma-separated URLs), this
	 * node's name in the fleet, its lease and each request's timeout. */
	char *fleet_endpoints;
	char *fleet_node;
	uint64_t fleet_lease_ms;
	uint64_t fleet_timeout_ms;

	/* Signed checkpoints of the ledger (on unless sign = false): the
	 * Ed25519 key (NULL: DATA_DIR/keys/checkpoint.key), and whether a
	 * close anchors its checkpoint as a git note on the deployed
	 * commit. */
	bool checkpoint_sign;
	char *checkpoint_key;
	bool checkpoint_git_notes;

	struct ir_notify *notify;
	size_t n_notify;

	uint64_t from_file; /* bit i: the i-th key of ir_config_each was set
			     * in the file (else it is the default) */
};

/* Where the configuration comes from: the first of `explicit_path` (-c),
 * $INCIDENT_CONFIG, ./incident.conf, /etc/incident/incident.conf that is
 * given (or exists, for the last two).  *out is NULL when none applies.
 * The string is the caller's to free. */
int ir_config_locate(char **out, const char *explicit_path,
		     struct ir_ctx *ctx) IR_WUR;

/* The search order, for `incident config`: -c, $INCIDENT_CONFIG,
 * ./incident.conf, /etc/incident/incident.conf.  what names the source,
 * path is borrowed (NULL when that source gives none), exists says
 * whether the file is there; chosen marks the one ir_config_locate picks. */
#define IR_CONFIG_SOURCES 4
struct ir_config_source {
	const char *what;
	const char *path;
	bool exists;
	bool chosen;
};
void ir_config_search(struct ir_config_source out[IR_CONFIG_SOURCES],
		      const char *explicit_path);

/* Load path (NULL: defaults only).  -ENOENT for a missing file, -EINVAL
 * for a malformed file, an unknown section or key (the message names the
 * file and key and suggests the nearest known key) or a bad value.  The
 * result is freed with ir_config_free(). */
int ir_config_load(struct ir_config **out, const char *path,
		   struct ir_ctx *ctx) IR_WUR;
void ir_config_free(struct ir_config *cfg);

/* The longest duration: its nanoseconds fit in an int64_t (~292 years). */
#define IR_DURATION_MAX_MS ((uint64_t)INT64_MAX / 1000000)

/* Call fn for every effective value, in the order of DESIGN.md: key
 * ("stop.budget", "notify.ops.url"), the value as the file would spell
 * it (NULL when unset), whether it came from the file, whether it is a
 * secret.  Stops at and returns fn's first non-zero result. */
typedef int (*ir_config_value_fn)(void *payload, const char *key,
				  const char *value, bool from_file,
				  bool secret);
int ir_config_each(const struct ir_config *cfg, ir_config_value_fn fn,
		   void *payload);

/* A value that a comment character cut short: libgit2, like git, ends a
 * value at an unquoted ';' or '#'.  Lines of path whose value goes on
 * past one (glued to the text, as in "a#b"; taking the whole value; or
 * a ';' in a key that holds a shell command) are reported to fn with
 * the key, the line number, the character and what follows it (NULL for
 * a secret's).  -ENOENT/-EIO with ctx set when path cannot be read. */
typedef void (*ir_config_warn_fn)(void *payload, const char *key,
				  unsigned line, char ch, const char *rest);
int ir_config_lint(const char *path, ir_config_warn_fn fn, void *payload,
		   struct ir_ctx *ctx) IR_WUR;

/* Open the configuration text at path for reading, the one error message
 * for all its readers (the checks, the lint, the hash). */
int ir_config_fopen(const char *path, FILE **out, struct ir_ctx *ctx) IR_WUR;

/* What libgit2 would accept silently and read as something else: a NUL
 * byte (the value ends there) or a quote left open at the end of a
 * value (the quote is dropped).  -EINVAL with ctx naming "path:line". */
int ir_config_check_text(const char *path, struct ir_ctx *ctx) IR_WUR;

/* Parse "250ms", "30s", "5m", "1h", "1m30s", "0.2s", "1.5m" into ms (a
 * fraction finer than 1 ms is dropped); -ERANGE past IR_DURATION_MAX_MS,
 * -EINVAL otherwise. */
int ir_duration_parse(const char *s, uint64_t *out_ms) IR_WUR;
/* Format ms as "30s", "1m", "1m30s", "250ms" into buf. */
void ir_duration_format(char *buf, size_t cap, uint64_t ms);

/* The default data directory: $XDG_STATE_HOME/incident, else
 * $HOME/.local/state/incident.  Caller frees; NULL when neither is set. */
char *ir_config_default_data_dir(void);

#endif
