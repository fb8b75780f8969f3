#include <fcntl.h>
#include <jansson.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "hash.h"
#include "health.h"
#include "ir_archive.h"
#include "report.h"

int
cli_load_config(struct cli *cli, bool required)
{
	char *path = NULL;
	const char *env_data = getenv("INCIDENT_DATA");
	int rc;

	if (cli->cfg)
		return 0;
	rc = ir_config_locate(&path, cli->config_opt, &cli->ctx);
	if (rc)
		return rc;
	if (!path && required)
		return ir_error_set(&cli->ctx, -ENOENT, IR_ORIGIN_CONFIG, 0,
				    "no configuration: give -c FILE, set "
				    "INCIDENT_CONFIG, or create "
				    "./incident.conf or "
				    "/etc/incident/incident.conf");
	rc = ir_config_load(&cli->cfg, path, &cli->ctx);
	free(path);
	if (rc)
		return rc;
	if (cli->data_opt)
		cli->data_dir = strdup(cli->data_opt);
	else if (env_data && *env_data)
		cli->data_dir = strdup(env_data);
	else if (cli->cfg->data_dir)
		cli->data_dir = strdup(cli->cfg->data_dir);
	else
		cli->data_dir = ir_config_default_data_dir();
	if (!cli->data_dir)
		return ir_error_set(&cli->ctx, -EINVAL, IR_ORIGIN_CONFIG, 0,
				    "no data directory: give -d DIR or set "
				    "core.data-dir");
	return 0;
}

/* mkdir -p for the data directory's parents (the directory itself is made
 * 0700 by the event log). */
static int
make_parents(const char *dir, struct ir_ctx *ctx)
{
	char path[4096];
	char *p;

	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return ir_error_set(ctx, -ENAMETOOLONG, IR_ORIGIN_CONFIG, 0,
				    "data directory path too long");
	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			return ir_error_set(ctx, -errno, IR_ORIGIN_OS, errno,
					    "cannot create \"%s\": %s", path,
					    strerror(errno));
		*p = '/';
	}
	return 0;
}

static int
open_log(struct cli *cli, bool readonly)
{
	int rc = cli_load_config(cli, false);

	if (rc)
		return rc;
	if (cli->log)
		return 0;
	/* Opening reads pages too (the named databases, the ledger's
	 * edge): a damaged one is reported from the first read. */
	cli_watch_log(cli);
	if (readonly && !access(cli->data_dir, F_OK)) {
		rc = ir_evlog_open_readonly(&cli->log, cli->data_dir,
					    &cli->ctx);
	} else {
		rc = make_parents(cli->data_dir, &cli->ctx);
		if (!rc)
			rc = ir_evlog_open(&cli->log, cli->data_dir,
					   &cli->ctx);
	}
	if (!rc && ir_evlog_warning(cli->log))
		cli_say(cli, "warning: %s", ir_evlog_warning(cli->log));
	return rc;
}

int
cli_open_log(struct cli *cli)
{
	return open_log(cli, false);
}

int
cli_open_log_readonly(struct cli *cli)
{
	return open_log(cli, true);
}

int
cli_one_incident(struct cli *cli, int *i, uint64_t *id, const char *what,
		 bool readonly)
{
	int rc;

	if (*i >= cli->argc || cli->argv[*i][0] == '-')
		return cli_usage(cli, "%s needs an incident (INC-7, 7 or last)",
				 what);
	rc = readonly ? cli_open_log_readonly(cli) : cli_open_log(cli);
	if (!rc)
		rc = cli_incident_arg(cli, cli->argv[*i], id);
	if (rc)
		return cli_fail(cli, rc);
	(*i)++;
	return 0;
}

int
cli_incident_arg(struct cli *cli, const char *arg, uint64_t *out)
{
	struct ir_incident inc;
	const char *p = arg;
	char *end;
	unsigned long long id;
	uint64_t last = 0;
	int rc;

	if (!strcmp(arg, "last")) {
		rc = ir_evlog_last_id(cli->log, &last, &cli->ctx);
		if (rc)
			return rc;
		if (!last)
			return ir_error_set(&cli->ctx, -ENOENT,
					    IR_ORIGIN_USAGE, 0,
					    "no incidents recorded yet");
		*out = last;
		return 0;
	}
	if (!strncasecmp(p, "INC-", 4))
		p += 4;
	errno = 0;
	id = strtoull(p, &end, 10);
	if (!*p || *end || errno || !id || *p == '-' || *p == '+')
		return ir_error_set(&cli->ctx, -EINVAL, IR_ORIGIN_USAGE, 0,
				    "\"%s\" is not an incident (INC-7, 7 or "
				    "last)",
				    arg);
	rc = ir_evlog_incident(cli->log, id, &inc, &cli->ctx);
	if (rc)
		return rc;
	*out = id;
	return 0;
}

int
cli_confirm(struct cli *cli, bool yes, const char *question)
{
	char answer[16];
	FILE *tty;

	if (yes)
		return 0;
	if (!cli->tty_in)
		return ir_error_set(&cli->ctx, -EPERM, IR_ORIGIN_USAGE, 0,
				    "%s Refusing without --yes (no terminal "
				    "to confirm on)",
				    question);
	fprintf(stderr, "%s [y/N] ", question);
	fflush(stderr);
	tty = stdin;
	if (!fgets(answer, sizeof(answer), tty) ||
	    (answer[0] != 'y' && answer[0] != 'Y'))
		return ir_error_set(&cli->ctx, -ECANCELED, IR_ORIGIN_USAGE, 0,
				    "not confirmed; nothing changed");
	return 0;
}

void
cli_utc(char *buf, size_t cap, int64_t ns)
{
	time_t s = (time_t)(ns / 1000000000);
	struct tm tm;

	gmtime_r(&s, &tm);
	snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec);
}

bool
cli_can_redraw(int fd)
{
	const char *term = getenv("TERM");

	/* TERM=dumb: plain lines, as for a pipe. */
	return isatty(fd) && !(term && !strcmp(term, "dumb"));
}

void
cli_actor(char *buf, size_t cap)
{
	struct passwd *pw = getpwuid(geteuid());
	const char *sudo = getenv("SUDO_USER");
	char host[256] = "localhost";

	gethostname(host, sizeof(host) - 1);
	/* Root by sudo: the person is who ran sudo.  Only a plain user
	 * name is taken from the environment. */
	if (geteuid() == 0 && sudo && *sudo && strcmp(sudo, "root") &&
	    strlen(sudo) <= 64 &&
	    strspn(sudo, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789._-") == strlen(sudo))
		snprintf(buf, cap, "%s via sudo@%s", sudo, host);
	else
		snprintf(buf, cap, "%s@%s", pw ? pw->pw_name : "unknown",
			 host);
}

int
cli_mkdir(const char *path, struct ir_ctx *ctx)
{
	if (mkdir(path, 0700) && errno != EEXIST)
		return ir_error_set(ctx, -errno, IR_ORIGIN_OS, errno,
				    "cannot create \"%s\": %s", path,
				    strerror(errno));
	return 0;
}

int
cli_write_report(void *payload, uint64_t id, struct ir_ctx *ctx)
{
	struct cli *cli = payload;
	char dir[4096], tmp[4300], path[4200];
	FILE *f;
	int fd, rc;

	snprintf(dir, sizeof(dir), "%s/reports", cli->data_dir);
	rc = cli_mkdir(dir, ctx);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "%s/INC-%llu.md", dir,
		 (unsigned long long)id);
	snprintf(tmp, sizeof(tmp), "%s.partial", path);
	/* Never through something planted under the name: a stale one of
	 * ours goes first, then only a new file will do. */
	if (unlink(tmp) && errno != ENOENT)
		return ir_error_set(ctx, -errno, IR_ORIGIN_OS, errno,
				    "cannot remove \"%s\": %s", tmp,
				    strerror(errno));
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0)
		return ir_error_set(ctx, -errno, IR_ORIGIN_OS, errno,
				    "cannot write \"%s\": %s", tmp,
				    strerror(errno));
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		return -ENOMEM;
	}
	/* No fsync: the report is derived from the log and can always be
	 * written again; the rename keeps a half-written one from showing. */
	rc = ir_report_write(f, cli->log, id, IR_REPORT_MD, ctx);
	if (fflush(f))
		rc = rc ? rc : -EIO;
	fclose(f);
	if (!rc && rename(tmp, path))
		rc = ir_error_set(ctx, -errno, IR_ORIGIN_OS, errno,
				  "cannot rename \"%s\": %s", tmp,
				  strerror(errno));
	if (rc)
		unlink(tmp);
	return rc;
}

struct ir_val *
cli_opened_data(struct cli *cli, const char *reason)
{
	struct ir_val *d = ir_val_map_new();
	char actor[300], host[256] = "localhost", hex[IR_SHA256_HEX];

	cli_actor(actor, sizeof(actor));
	gethostname(host, sizeof(host) - 1);
	ir_hex(hex, cli->cfg->sha256, sizeof(cli->cfg->sha256));
	ir_val_set_str(d, "reason", reason);
	ir_val_set_str(d, "actor", actor);
	ir_val_set_str(d, "host", host);
	ir_val_set_int(d, "pid", getpid());
	ir_val_set_str(d, "version", IR_VERSION);
	ir_val_set_str(d, "config", cli->cfg->have_file ? hex : "");
	ir_val_set_str(d, "deploy_dir", cli->cfg->deploy_dir);
	return d;
}

struct ir_val *
cli_incident_data(struct cli *cli, const struct run_opts *o)
{
	struct ir_val *d = cli_opened_data(cli, o->reason ? o->reason : "");
	struct ir_val *opts = ir_val_map_new();

	if (!strcmp(o->kind, "rollback"))
		ir_val_set_uint(d, "budget_ms", cli->cfg->rollback_budget_ms);
	else if (!strcmp(o->kind, "deploy"))
		ir_val_set_uint(d, "budget_ms", cli->cfg->deploy_budget_ms);
	else if (!strcmp(o->kind, "stop"))
		ir_val_set_uint(d, "budget_ms", cli->cfg->stop_budget_ms);
	if (o->tag)
		ir_val_set_str(opts, "tag", o->tag);
	if (o->fleet)
		ir_val_set_str(d, "fleet", o->fleet);
	ir_val_set_bool(opts, "force", o->force);
	ir_val_set_bool(opts, "with_db", o->with_db);
	ir_val_set_bool(opts, "no_backup", o->no_backup);
	if (o->archive)
		ir_val_set_str(opts, "archive", o->archive);
	if (o->to)
		ir_val_set_str(opts, "to", o->to);
	if (o->sha256)
		ir_val_set_str(opts, "sha256", o->sha256);
	if (o->caused_by)
		ir_val_set_uint(d, "caused_by", o->caused_by);
	ir_val_set_take(d, "options", opts);
	return d;
}

int
cli_number(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

int
cli_pace(struct cli *cli, int *i, double *speed, double *max_idle)
{
	const char *v;
	int r = cli_value(cli, i, "--speed", &v);

	if (r < 0)
		return -1;
	if (r) {
		if (cli_number(v, speed) || *speed <= 0 || *speed > 1e6) {
			cli_usage(cli, "--speed takes a number above 0, like "
				       "10");
			return -1;
		}
		return 1;
	}
	r = cli_value(cli, i, "--max-idle", &v);
	if (r <= 0)
		return r;
	if (cli_number(v, max_idle) || *max_idle < 0) {
		cli_usage(cli, "--max-idle takes seconds, like 2 or 0.5");
		return -1;
	}
	return 1;
}

bool
cli_flag(struct cli *cli, int *i, const char *name)
{
	return !strcmp(cli->argv[*i], name);
}

int
cli_value(struct cli *cli, int *i, const char *name, const char **out)
{
	size_t n = strlen(name);
	const char *a = cli->argv[*i];

	if (!strncmp(a, name, n) && a[n] == '=') {
		*out = a + n + 1;
		return 1;
	}
	if (strcmp(a, name))
		return 0;
	if (*i + 1 >= cli->argc) {
		cli_usage(cli, "%s needs a value", name);
		return -EINVAL;
	}
	*out = cli->argv[++*i];
	return 1;
}

void
cli_print_json(void *json)
{
	json_dumpf(json, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	fputc('\n', stdout);
	json_decref(json);
}
