#include "config.h"

#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "gitops.h"
#include "ir_limits.h"

enum kind {
	K_STR,
	K_PATH,     /* a path, made absolute against the file's folder */
	K_DURATION,
	K_BOOL,
	K_UINT,
	K_MULTI,    /* backup.path: every value kept, in order */
};

struct key {
	const char *name;
	enum kind kind;
	size_t offset;
};

#define KEY(n, k, field) { n, k, offsetof(struct ir_config, field) }

static const struct key keys[] = {
	KEY("core.data-dir", K_PATH, data_dir),
	KEY("deploy.dir", K_PATH, deploy_dir),
	KEY("deploy.tag-pattern", K_STR, tag_pattern),
	KEY("rollback.budget", K_DURATION, rollback_budget_ms),
	KEY("stop.command", K_STR, stop_command),
	KEY("stop.process", K_STR, stop_process),
	KEY("stop.escalate", K_STR, stop_escalate),
	KEY("stop.budget", K_DURATION, stop_budget_ms),
	KEY("backup.path", K_MULTI, backup_paths),
	KEY("backup.keep", K_UINT, backup_keep),
	KEY("backup.budget", K_DURATION, backup_budget_ms),
	KEY("checkout.budget", K_DURATION, checkout_budget_ms),
	KEY("config.dir", K_STR, config_dir),
	KEY("config.backup", K_STR, config_backup),
	KEY("config.budget", K_DURATION, config_budget_ms),
	KEY("database.dump", K_STR, database_dump),
	KEY("database.restore", K_STR, database_restore),
	KEY("database.on-rollback", K_BOOL, database_on_rollback),
	KEY("database.budget", K_DURATION, database_budget_ms),
	KEY("start.command", K_STR, start_command),
	KEY("start.budget", K_DURATION, start_budget_ms),
	KEY("health.url", K_STR, health_url),
	KEY("health.expect-status", K_UINT, health_expect_status),
	KEY("health.expect-body", K_STR, health_expect_body),
	KEY("health.budget", K_DURATION, health_budget_ms),
	KEY("verify.log", K_STR, verify_log),
	KEY("verify.lines", K_UINT, verify_lines),
	KEY("verify.budget", K_DURATION, verify_budget_ms),
	KEY("report.budget", K_DURATION, report_budget_ms),
	KEY("deploy.stop", K_STR, deploy_stop),
	KEY("deploy.stop-budget", K_DURATION, deploy_stop_budget_ms),
	KEY("deploy.config", K_STR, deploy_config),
	KEY("deploy.migrate", K_STR, deploy_migrate),
	KEY("deploy.migrate-budget", K_DURATION, deploy_migrate_budget_ms),
	KEY("deploy.soak", K_DURATION, deploy_soak_ms),
	KEY("deploy.soak-interval", K_DURATION, deploy_soak_interval_ms),
	KEY("deploy.on-failure", K_STR, deploy_on_failure),
	KEY("deploy.budget", K_DURATION, deploy_budget_ms),
	KEY("fleet.endpoints", K_STR, fleet_endpoints),
	KEY("fleet.node", K_STR, fleet_node),
	KEY("fleet.lease", K_DURATION, fleet_lease_ms),
	KEY("fleet.timeout", K_DURATION, fleet_timeout_ms),
	KEY("checkpoint.sign", K_BOOL, checkpoint_sign),
	KEY("checkpoint.key", K_PATH, checkpoint_key),
	KEY("checkpoint.git-notes", K_BOOL, checkpoint_git_notes),
	/* notify.<name>.url is handled apart: it has a subsection. */
};

/* n * mult + frac / 10^digits * mult, or -ERANGE past IR_DURATION_MAX_MS. */
static int
duration_part(uint64_t n, uint64_t frac, uint64_t scale, uint64_t mult,
	      uint64_t *total)
{
	uint64_t part;

	if (n > IR_DURATION_MAX_MS / mult)
		return -ERANGE;
	/* frac < scale <= 10^9 and mult <= 3.6e6: no overflow. */
	part = n * mult + frac * mult / scale;
	if (part > IR_DURATION_MAX_MS - *total)
		return -ERANGE;
	*total += part;
	return 0;
}

int
ir_duration_parse(const char *s, uint64_t *out_ms)
{
	uint64_t total = 0;
	const char *p = s;

	if (!s || !*s)
		return -EINVAL;
	while (*p) {
		uint64_t n = 0, frac = 0, scale = 1, mult;
		const char *digits = p;
		bool big = false;
		int rc;

		while (*p >= '0' && *p <= '9') {
			if (n > IR_DURATION_MAX_MS)
				big = true;
			else
				n = n * 10 + (uint64_t)(*p - '0');
			p++;
		}
		if (*p == '.') {
			p++;
			if (*p < '0' || *p > '9')
				return -EINVAL;
			/* Nine digits are finer than a millisecond of an
			 * hour; the rest only has to be digits. */
			for (; *p >= '0' && *p <= '9'; p++)
				if (scale < 1000000000) {
					frac = frac * 10 + (uint64_t)(*p - '0');
					scale *= 10;
				}
		}
		if (p == digits)
			return -EINVAL;
		if (!strncmp(p, "ms", 2)) {
			mult = 1;
			p += 2;
		} else if (*p == 's') {
			mult = 1000;
			p++;
		} else if (*p == 'm') {
			mult = 60000;
			p++;
		} else if (*p == 'h') {
			mult = 3600000;
			p++;
		} else {
			return -EINVAL;
		}
		if (big)
			return -ERANGE;
		rc = duration_part(n, frac, scale, mult, &total);
		if (rc)
			return rc;
	}
	*out_ms = total;
	return 0;
}

void
ir_duration_format(char *buf, size_t cap, uint64_t ms)
{
	unsigned long long m = ms / 60000, sec = ms % 60000 / 1000;

	if (ms % 1000 || !ms)
		snprintf(buf, cap, "%llums", (unsigned long long)ms);
	else if (!m)
		snprintf(buf, cap, "%llus", sec);
	else if (sec)
		snprintf(buf, cap, "%llum%llus", m, sec);
	else if (m % 60)
		snprintf(buf, cap, "%llum", m);
	else
		snprintf(buf, cap, "%lluh", m / 60);
}

char *
ir_config_default_data_dir(void)
{
	const char *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	char *p = NULL;

	if (xdg && xdg[0] == '/') {
		if (asprintf(&p, "%s/incident", xdg) < 0)
			return NULL;
	} else if (home && home[0]) {
		if (asprintf(&p, "%s/.local/state/incident", home) < 0)
			return NULL;
	}
	return p;
}

void
ir_config_search(struct ir_config_source out[IR_CONFIG_SOURCES],
		 const char *explicit_path)
{
	const char *env = getenv("INCIDENT_CONFIG");
	bool picked = false;
	size_t i;

	out[0] = (struct ir_config_source){ "-c", explicit_path, false, false };
	out[1] = (struct ir_config_source){ "$INCIDENT_CONFIG", env, false,
					    false };
	out[2] = (struct ir_config_source){ "working folder", "./incident.conf",
					    false, false };
	out[3] = (struct ir_config_source){ "system",
					    "/etc/incident/incident.conf",
					    false, false };
	for (i = 0; i < IR_CONFIG_SOURCES; i++) {
		if (out[i].path && !*out[i].path)
			out[i].path = NULL;
		if (!out[i].path)
			continue;
		out[i].exists = !access(out[i].path, F_OK);
		/* -c and $INCIDENT_CONFIG are taken even when missing (that
		 * is an error); the other two only when they exist. */
		if (!picked && (i < 2 || out[i].exists))
			out[i].chosen = picked = true;
	}
}

int
ir_config_locate(char **out, const char *explicit_path, struct ir_ctx *ctx)
{
	struct ir_config_source src[IR_CONFIG_SOURCES];
	size_t i;

	(void)ctx;
	ir_config_search(src, explicit_path);
	*out = NULL;
	for (i = 0; i < IR_CONFIG_SOURCES; i++)
		if (src[i].chosen) {
			*out = strdup(src[i].path);
			return *out ? 0 : -ENOMEM;
		}
	return 0;
}

static int
set_str(char **slot, const char *value)
{
	char *copy = strdup(value);

	if (!copy)
		return -ENOMEM;
	free(*slot);
	*slot = copy;
	return 0;
}

/* Levenshtein distance, for "did you mean". */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[128];

	if (lb >= sizeof(row) / sizeof(*row) || la > 127)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0], tmp;

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t best = diag + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			diag = tmp;
		}
	}
	return row[lb];
}

static const char *
nearest_key(const char *name)
{
	const char *best = "notify.<name>.url";
	size_t best_d = distance(name, "notify.ops.url"), i;

	for (i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		size_t d = distance(name, keys[i].name);

		if (d < best_d) {
			best_d = d;
			best = keys[i].name;
		}
	}
	return best_d <= 4 ? best : NULL;
}

struct load {
	struct ir_config *cfg;
	struct ir_ctx *ctx;
};

static int
bad_value(struct load *ld, const char *name, const char *value,
	  const char *expect)
{
	return ir_error_set(ld->ctx, -EINVAL, IR_ORIGIN_CONFIG, 0,
			    "%s: %s = \"%.64s\": expected %s", ld->cfg->path,
			    name, value, expect);
}

static int
make_path(struct load *ld, char **slot, const char *value)
{
	char *p;

	if (value[0] == '/' || !ld->cfg->base_dir)
		return set_str(slot, value);
	if (asprintf(&p, "%s/%s", ld->cfg->base_dir, value) < 0)
		return -ENOMEM;
	free(*slot);
	*slot = p;
	return 0;
}

static int
set_notify(struct load *ld, const char *name, const char *value)
{
	struct ir_config *cfg = ld->cfg;
	const char *sub = name + strlen("notify.");
	const char *dot = strrchr(sub, '.');
	struct ir_notify *n;

	if (!dot || dot == sub || strcmp(dot, ".url"))
		return ir_error_set(ld->ctx, -EINVAL, IR_ORIGIN_CONFIG, 0,
				    "%s: unknown key \"%s\" (did you mean "
				    "notify.<name>.url?)", cfg->path, name);
	if (strncmp(value, "http://", 7) && strncmp(value, "https://", 8))
		return ir_error_set(ld->ctx, -EINVAL, IR_ORIGIN_CONFIG, 0,
				    "%s: notify \"%.*s\": url must be http or "
				    "https", cfg->path, (int)(dot - sub), sub);
	n = realloc(cfg->notify, (cfg->n_notify + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	cfg->notify = n;
	n = &cfg->notify[cfg->n_notify];
	n->name = strndup(sub, (size_t)(dot - sub));
	n->url = strdup(value);
	cfg->n_notify++;
	return n->name && n->url ? 0 : -ENOMEM;
}

static int
on_entry(void *payload, const char *name, const char *value)
{
	struct load *ld = payload;
	struct ir_config *cfg = ld->cfg;
	const struct key *k = NULL;
	void *slot;
	size_t i;

	if (!value)
		value = "";
	if (strlen(value) >= IR_LIMIT_STRING)
		return bad_value(ld, name, value, "a shorter value");
	if (!strncmp(name, "notify.", 7))
		return set_notify(ld, name, value);
	for (i = 0; i < sizeof(keys) / sizeof(*keys); i++)
		if (!strcmp(keys[i].name, name))
			k = &keys[i];
	if (!k) {
		const char *near = nearest_key(name);

		if (near)
			return ir_error_set(ld->ctx, -EINVAL, IR_ORIGIN_CONFIG,
					    0,
					    "%s: unknown key \"%s\" (did you "
					    "mean \"%s\"?)",
					    cfg->path, name, near);
		return ir_error_set(ld->ctx, -EINVAL, IR_ORIGIN_CONFIG, 0,
				    "%s: unknown key \"%s\"", cfg->path, name);
	}
	slot = (char *)cfg + k->offset;
	cfg->from_file |= UINT64_C(1) << (k - keys);
	switch (k->kind) {
	case K_STR:
		return set_str(slot, value);
	case K_PATH:
		return make_path(ld, slot, value);
	case K_DURATION:
		if (ir_duration_parse(value, slot))
			return bad_value(ld, name, value,
					 "a duration like 250ms, 30s, 1.5m, "
					 "1h (at most 106751 days)");
		return 0;
	case K_BOOL:
		if (!strcmp(value, "true") || !strcmp(value, "yes") ||
		    !strcmp(value, "on") || !strcmp(value, "1"))
			*(bool *)slot = true;
		else if (!strcmp(value, "false") || !strcmp(value, "no") ||
			 !strcmp(value, "off") || !strcmp(value, "0"))
			*(bool *)slot = false;
		else
			return bad_value(ld, name, value, "true or false");
		return 0;
	case K_UINT: {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(value, &end, 10);
		if (errno || end == value || *end || value[0] == '-' ||
		    v > 1000000)
			return bad_value(ld, name, value, "a whole number");
		if (!strcmp(name, "health.expect-status"))
			*(long *)slot = (long)v;
		else
			*(unsigned *)slot = (unsigned)v;
		return 0;
	}
	case K_MULTI: {
		char **paths = realloc(cfg->backup_paths,
				       (cfg->n_backup_paths + 1) *
					       sizeof(*paths));

		if (!paths)
			return -ENOMEM;
		cfg->backup_paths = paths;
		if (!value[0] || value[0] == '/' || strstr(value, ".."))
			return bad_value(ld, name, value,
					 "a path inside deploy.dir");
		paths[cfg->n_backup_paths] = strdup(value);
		if (!paths[cfg->n_backup_paths])
			return -ENOMEM;
		cfg->n_backup_paths++;
		return 0;
	}
	}
	return -EINVAL;
}

/* Whether the file set key name (else its value is the default). */
static bool
key_in_file(const struct ir_config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(*keys); i++)
		if (!strcmp(keys[i].name, name))
			return cfg->from_file & (UINT64_C(1) << i);
	return false;
}

static int
fill_defaults(struct ir_config *cfg)
{
	static const char *const default_paths[] = { "config", "logs" };
	struct {
		char **slot;
		const char *value;
	} strs[] = {
		{ &cfg->tag_pattern, "deploy-*" },
		{ &cfg->stop_command, "./scripts/emergency_stop.sh" },
		{ &cfg->stop_process, "trading_node" },
		{ &cfg->stop_escalate, "./scripts/shutdown.sh force" },
		{ &cfg->config_dir, "config" },
		{ &cfg->config_backup, "/backup/config-{ts}" },
		{ &cfg->start_command, "./scripts/start.sh" },
		{ &cfg->health_url, "http://localhost:9000/status" },
		{ &cfg->verify_log, "logs/trading.log" },
		{ &cfg->deploy_stop, "./scripts/shutdown.sh" },
		{ &cfg->deploy_on_failure, "rollback" },
	};
	size_t i;

	for (i = 0; i < sizeof(strs) / sizeof(*strs); i++)
		if (!*strs[i].slot && set_str(strs[i].slot, strs[i].value))
			return -ENOMEM;
	if (!cfg->deploy_dir) {
		char *cwd = cfg->base_dir ? strdup(cfg->base_dir)
					  : getcwd(NULL, 0);

		if (!cwd)
			return -ENOMEM;
		cfg->deploy_dir = cwd;
	}
	if (!cfg->n_backup_paths) {
		cfg->backup_paths = calloc(2, sizeof(char *));
		if (!cfg->backup_paths)
			return -ENOMEM;
		for (i = 0; i < 2; i++) {
			cfg->backup_paths[i] = strdup(default_paths[i]);
			if (!cfg->backup_paths[i])
				return -ENOMEM;
			cfg->n_backup_paths++;
		}
	}
#define DEFAULT_MS(field, ms)                                                 \
	do {                                                                  \
		if (!cfg->field)                                              \
			cfg->field = (ms);                                    \
	} while (0)
	DEFAULT_MS(rollback_budget_ms, 5 * 60000);
	DEFAULT_MS(stop_budget_ms, 30000);
	DEFAULT_MS(backup_budget_ms, 60000);
	DEFAULT_MS(checkout_budget_ms, 60000);
	DEFAULT_MS(config_budget_ms, 30000);
	DEFAULT_MS(database_budget_ms, 2 * 60000);
	DEFAULT_MS(start_budget_ms, 2 * 60000);
	DEFAULT_MS(health_budget_ms, 60000);
	DEFAULT_MS(verify_budget_ms, 60000);
	DEFAULT_MS(report_budget_ms, 30000);
	DEFAULT_MS(deploy_stop_budget_ms, 30000);
	DEFAULT_MS(deploy_migrate_budget_ms, 5 * 60000);
	DEFAULT_MS(deploy_soak_interval_ms, 5000);
	DEFAULT_MS(deploy_budget_ms, 15 * 60000);
	DEFAULT_MS(fleet_lease_ms, 5000);
	DEFAULT_MS(fleet_timeout_ms, 1000);
#undef DEFAULT_MS
	if (!cfg->backup_keep)
		cfg->backup_keep = 20;
	if (!key_in_file(cfg, "checkpoint.sign"))
		cfg->checkpoint_sign = true;
	if (!cfg->health_expect_status)
		cfg->health_expect_status = 200;
	if (!cfg->verify_lines)
		cfg->verify_lines = 20;
	return 0;
}

/* The hash covers the text with secret values blanked, so it identifies the
 * configuration without revealing a webhook URL. */
static int
hash_text(struct ir_config *cfg, const char *path, struct ir_ctx *ctx)
{
	struct ir_sha256 *h = NULL;
	bool in_notify = false;
	char line[IR_LIMIT_STRING + 64];
	FILE *f = NULL;
	int rc = 0;

	rc = ir_config_fopen(path, &f, ctx);
	if (rc)
		return rc;
	h = ir_sha256_new();
	if (!h) {
		rc = -ENOMEM;
		goto out;
	}
	while (fgets(line, sizeof(line), f)) {
		const char *p = line + strspn(line, " \t");

		if (*p == '[')
			in_notify = !strncasecmp(p, "[notify", 7);
		else if (in_notify && !strncasecmp(p, "url", 3) &&
			 strchr(p, '='))
			strcpy(strchr(line, '=') + 1, " \n");
		ir_sha256_update(h, line, strlen(line));
	}
	ir_sha256_final(h, cfg->sha256);
out:
	ir_sha256_free(h);
	fclose(f);
	return rc;
}

/* Checks that need the whole configuration, done at every load so that no
 * command starts with a value found wrong only mid-incident. */
static int
check_url(struct ir_config *cfg, struct ir_ctx *ctx)
{
	const char *u = cfg->health_url, *host;
	size_t n;

	if (!strncmp(u, "http://", 7))
		host = u + 7;
	else if (!strncmp(u, "https://", 8))
		host = u + 8;
	else
		host = NULL;
	if (host && host[strcspn(host, "/?#")] != '\0' &&
	    strchr(host, '@') && strchr(host, '@') < host + strcspn(host, "/?#"))
		host = strchr(host, '@') + 1;
	n = host ? strcspn(host, "/?#") : 0;
	if (!host || !n || host[0] == ':' || strcspn(u, " \t\r\n") != strlen(u))
		return ir_error_set(ctx, -EINVAL, IR_ORIGIN_CONFIG, 0,
				    "%s: health.url = \"%.64s\": expected an "
				    "http:// or https:// URL with a host",
				    cfg->path ? cfg->path : "defaults", u);
	return 0;
}

static int
check_on_failure(struct ir_config *cfg, struct ir_ctx *ctx)
{
	const char *v = cfg->deploy_on_failure;

	if (!strcmp(v, "rollback") || !strcmp(v, "stop") || !strcmp(v, "hold"))
		return 0;
	return ir_error_set(ctx, -EINVAL, IR_ORIGIN_CONFIG, 0,
			    "%s: deploy.on-failure = \"%.64s\": expected "
			    "rollback, stop or hold",
			    cfg->path ? cfg->path : "defaults", v);
}

static int
check_process(struct ir_config *cfg, struct ir_ctx *ctx)
{
	static const char *const unlikely[] = { "", "/sbin/init", "x" };
	regex_t re;
	char msg[128];
	size_t i;
	int rc;

	rc = regcomp(&re, cfg->stop_process, REG_EXTENDED | REG_NOSUB);
	if (rc) {
		regerror(rc, &re, msg, sizeof(msg));
		return ir_error_set(ctx, -EINVAL, IR_ORIGIN_CONFIG, 0,
				    "%s: stop.process = \"%.64s\": not a "
				    "valid extended regex: %s",
				    cfg->path ? cfg->path : "defaults",
				    cfg->stop_process, msg);
	}
	for (i = 0; i < sizeof(unlikely) / sizeof(*unlikely); i++)
		if (!regexec(&re, unlikely[i], 0, NULL, 0))
			break;
	regfree(&re);
	if (i < sizeof(unlikely) / sizeof(*unlikely))
		return ir_error_set(ctx, -EINVAL, IR_ORIGIN_CONFIG, 0,
				    "%s: stop.process = \"%.64s\": matches "
				    "\"%s\": it would match every process",
				    cfg->path ? cfg->path : "defaults",
				    cfg->stop_process, unlikely[i]);
	return 0;
}

int
ir_config_load(struct ir_config **out, const char *path, struct ir_ctx *ctx)
{
	struct ir_config *cfg = calloc(1, sizeof(*cfg));
	struct load ld = { cfg, ctx };
	struct stat st;
	int rc = 0;

	if (!cfg)
		return -ENOMEM;
	if (path) {
		char *abs = realpath(path, NULL), *slash;

		if (!abs || stat(abs, &st)) {
			rc = ir_error_set(ctx, -ENOENT, IR_ORIGIN_CONFIG, errno,
					  "configuration file \"%s\" not "
					  "found",
					  path);
			free(abs);
			goto fail;
		}
		if (!S_ISREG(st.st_mode) || st.st_size > IR_LIMIT_CONFIG_BYTES) {
			rc = ir_error_set(ctx, -EINVAL, IR_ORIGIN_CONFIG, 0,
					  "\"%s\" is not a configuration file "
					  "(not a regular file, or over %d "
					  "bytes)",
					  path, IR_LIMIT_CONFIG_BYTES);
			free(abs);
			goto fail;
		}
		cfg->path = abs;
		cfg->have_file = true;
		cfg->base_dir = strdup(abs);
		if (!cfg->base_dir) {
			rc = -ENOMEM;
			goto fail;
		}
		slash = strrchr(cfg->base_dir, '/');
		if (slash == cfg->base_dir)
			slash[1] = '\0';
		else if (slash)
			*slash = '\0';
		rc = ir_config_check_text(cfg->path, ctx);
		if (rc)
			goto fail;
		rc = ir_gitcfg_read(cfg->path, on_entry, &ld, ctx);
		/* Whatever the parser said, it is about the configuration:
		 * exit 2, nothing changed. */
		if (rc && ctx && ctx->err.code)
			ctx->err.origin = IR_ORIGIN_CONFIG;
		if (rc == -ENOENT || rc == -EINVAL)
			goto fail;
		if (rc) {
			rc = ir_error_set(ctx, -EINVAL, IR_ORIGIN_CONFIG, 0,
					  "%s: cannot read configuration",
					  cfg->path);
			goto fail;
		}
		rc = hash_text(cfg, cfg->path, ctx);
		if (rc)
			goto fail;
	}
	rc = fill_defaults(cfg);
	if (!rc)
		rc = check_url(cfg, ctx);
	if (!rc)
		rc = check_process(cfg, ctx);
	if (!rc)
		rc = check_on_failure(cfg, ctx);
	if (rc)
		goto fail;
	*out = cfg;
	return 0;
fail:
	ir_config_free(cfg);
	return rc;
}

int
ir_config_each(const struct ir_config *cfg, ir_config_value_fn fn,
	       void *payload)
{
	char buf[64];
	size_t i, j;
	int rc = 0;

	for (i = 0; !rc && i < sizeof(keys) / sizeof(*keys); i++) {
		const struct key *k = &keys[i];
		const void *slot = (const char *)cfg + k->offset;
		bool set = cfg->from_file & (UINT64_C(1) << i);
		const char *v = buf;

		switch (k->kind) {
		case K_STR:
		case K_PATH:
			v = *(char *const *)slot;
			break;
		case K_DURATION:
			ir_duration_format(buf, sizeof(buf),
					   *(const uint64_t *)slot);
			break;
		case K_BOOL:
			v = *(const bool *)slot ? "true" : "false";
			break;
		case K_UINT:
			if (!strcmp(k->name, "health.expect-status"))
				snprintf(buf, sizeof(buf), "%ld",
					 *(const long *)slot);
			else
				snprintf(buf, sizeof(buf), "%u",
					 *(const unsigned *)slot);
			break;
		case K_MULTI:
			for (j = 0; !rc && j < cfg->n_backup_paths; j++)
				rc = fn(payload, k->name,
					cfg->backup_paths[j], set, false);
			continue;
		}
		rc = fn(payload, k->name, v, set, false);
	}
	for (i = 0; !rc && i < cfg->n_notify; i++) {
		char name[IR_LIMIT_STRING + 16];

		snprintf(name, sizeof(name), "notify.%s.url",
			 cfg->notify[i].name);
		rc = fn(payload, name, cfg->notify[i].url, true, true);
	}
	return rc;
}

void
ir_config_free(struct ir_config *cfg)
{
	size_t i;

	if (!cfg)
		return;
	free(cfg->path);
	free(cfg->base_dir);
	free(cfg->data_dir);
	free(cfg->deploy_dir);
	free(cfg->tag_pattern);
	free(cfg->stop_command);
	free(cfg->stop_process);
	free(cfg->stop_escalate);
	for (i = 0; i < cfg->n_backup_paths; i++)
		free(cfg->backup_paths[i]);
	free(cfg->backup_paths);
	free(cfg->config_dir);
	free(cfg->config_backup);
	free(cfg->database_dump);
	free(cfg->database_restore);
	free(cfg->start_command);
	free(cfg->health_url);
	free(cfg->health_expect_body);
	free(cfg->verify_log);
	free(cfg->deploy_stop);
	free(cfg->deploy_config);
	free(cfg->deploy_migrate);
	free(cfg->deploy_on_failure);
	free(cfg->fleet_endpoints);
	free(cfg->fleet_node);
	free(cfg->checkpoint_key);
	for (i = 0; i < cfg->n_notify; i++) {
		free(cfg->notify[i].name);
		free(cfg->notify[i].url);
	}
	free(cfg->notify);
	free(cfg);
}
