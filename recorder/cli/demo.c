/*
 * incident demo [DIR]: a sandbox deployment (a git repository with three
 * deploy tags of a stand-in trading node, the newest one broken), started,
 * then rolled back live with the real executor.  Needs no root and touches
 * nothing outside DIR.
 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "cli.h"
#include "gitops.h"
#include "health.h"
#include "proc.h"

static int
write_file(const char *dir, const char *rel, const char *text, mode_t mode,
	   struct ir_ctx *ctx)
{
	char path[4096];
	int fd;
	size_t len = strlen(text);

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
		int err = errno;

		if (fd >= 0)
			close(fd);
		return ir_error_set(ctx, -err, IR_ORIGIN_OS, err,
				    "cannot write \"%s\": %s", path,
				    strerror(err));
	}
	fchmod(fd, mode);
	close(fd);
	return 0;
}

static int
make_dirs(const char *base, const char *const *rels, struct ir_ctx *ctx)
{
	char path[4096];

	for (; *rels; rels++) {
		snprintf(path, sizeof(path), "%s/%s", base, *rels);
		if (mkdir(path, 0755) && errno != EEXIST)
			return ir_error_set(ctx, -errno, IR_ORIGIN_OS, errno,
					    "cannot create \"%s\": %s", path,
					    strerror(errno));
	}
	return 0;
}

/* A free port on 127.0.0.1 (bind to 0, read it back, close). */
static int
free_port(void)
{
	struct sockaddr_in a = { 0 };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = 0;

	if (fd < 0)
		return 0;
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (!bind(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    !getsockname(fd, (struct sockaddr *)&a, &len))
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* The stand-in trading node: $INCIDENT_TRADING_NODE, else beside us in
 * the build tree (build/tests/fixtures/trading_node) or in our folder. */
static int
find_node(char *out, size_t cap, struct ir_ctx *ctx)
{
	/* build/incident -> build/tests/fixtures/trading_node; installed:
	 * bin/incident -> libexec/incident/trading_node */
	static const char *const rels[] = { "../../tests/fixtures/trading_node",
					    "tests/fixtures/trading_node",
					    "trading_node",
					    "../libexec/incident/trading_node" };
	const char *env = getenv("INCIDENT_TRADING_NODE");
	char self[PATH_MAX], *slash;
	ssize_t n;
	size_t i;

	if (env && *env && !access(env, X_OK)) {
		snprintf(out, cap, "%s", env);
		return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash)
			*slash = '\0';
		for (i = 0; i < sizeof(rels) / sizeof(*rels); i++) {
			snprintf(out, cap, "%s/../%s", self, rels[i]);
			if (!access(out, X_OK))
				return 0;
			snprintf(out, cap, "%s/%s", self, rels[i]);
			if (!access(out, X_OK))
				return 0;
		}
	}
	return ir_error_set(ctx, -ENOENT, IR_ORIGIN_CONFIG, 0,
			    "cannot find the stand-in trading_node program "
			    "(build it with meson, or set "
			    "INCIDENT_TRADING_NODE)");
}

struct version {
	const char *tag;
	const char *version;
	const char *mode;
	const char *risk;
	int64_t when;
};

static const struct version versions[] = {
	{ "deploy-20261124-090000", "v1.4.0", "good", "max_position = 100\n",
	  1795510800 },
	{ "deploy-20261125-090000", "v1.5.0", "good",
	  "max_position = 120\n", 1795597200 },
	{ "deploy-20261125-150000", "v1.6.0", "broken",
	  "max_position = 5000  # typo in the deploy\n", 1795618800 },
};

static int
build_sandbox(const char *dir, const char *node, int port,
	      struct ir_ctx *ctx)
{
	/* Not "data": the event log makes it, private (mode 0700). */
	static const char *const dirs[] = { "deploy", "backup", NULL };
	static const char *const deploy_dirs[] = { "scripts", "config", "app",
						   NULL };
	char deploy[4096], text[8192], commit[IR_GIT_OID_HEX];
	struct ir_git *git = NULL;
	size_t i;
	int rc;

	snprintf(deploy, sizeof(deploy), "%s/deploy", dir);
	rc = make_dirs(dir, dirs, ctx);
	if (!rc)
		rc = make_dirs(deploy, deploy_dirs, ctx);
	if (rc)
		return rc;
	snprintf(text, sizeof(text),
		 "#!/bin/sh\n"
		 "# Start the trading node in the background.\n"
		 "cd \"$(dirname \"$0\")/..\"\n"
		 "mkdir -p logs run\n"
		 "nohup \"%s\" --port %d --dir \"$PWD\" >>run/node.out 2>&1 &\n"
		 "echo $! > run/node.pid\n"
		 "echo \"trading node $(cat app/VERSION) started, pid $!\"\n",
		 node, port);
	rc = write_file(deploy, "scripts/start.sh", text, 0755, ctx);
	if (!rc)
		rc = write_file(deploy, "scripts/emergency_stop.sh",
				"#!/bin/sh\n"
				"# Emergency stop: close positions, stop "
				"the node.\n"
				"pid=$(cat run/node.pid 2>/dev/null) || "
				"exit 0\n"
				"echo \"closing all positions; stopping pid "
				"$pid\"\n"
				"kill \"$pid\" 2>/dev/null || true\n",
				0755, ctx);
	if (!rc)
		rc = write_file(deploy, "scripts/shutdown.sh",
				"#!/bin/sh\n"
				"# shutdown.sh force\n"
				"pid=$(cat run/node.pid 2>/dev/null) || "
				"exit 0\n"
				"kill -9 \"$pid\" 2>/dev/null || true\n",
				0755, ctx);
	if (!rc)
		rc = write_file(deploy, ".gitignore", "logs/\nrun/\n", 0644,
				ctx);
	if (rc)
		return rc;
	rc = ir_git_init(&git, deploy, ctx);
	for (i = 0; !rc && i < sizeof(versions) / sizeof(*versions); i++) {
		const struct version *v = &versions[i];
		char msg[128], backup[4096];

		snprintf(text, sizeof(text), "%s\n", v->version);
		rc = write_file(deploy, "app/VERSION", text, 0644, ctx);
		snprintf(text, sizeof(text), "%s\n", v->mode);
		if (!rc)
			rc = write_file(deploy, "app/MODE", text, 0644, ctx);
		if (!rc)
			rc = write_file(deploy, "config/risk.conf", v->risk,
					0644, ctx);
		snprintf(msg, sizeof(msg), "trading node %s", v->version);
		if (!rc)
			rc = ir_git_commit_all(git, msg, v->when, commit, ctx);
		if (!rc)
			rc = ir_git_tag_head(git, v->tag, ctx);
		/* The config backup taken when this version was deployed. */
		snprintf(backup, sizeof(backup), "%s/backup/config-%s", dir,
			 v->tag + 7);
		if (!rc && mkdir(backup, 0755) && errno != EEXIST)
			rc = -errno;
		if (!rc)
			rc = write_file(backup, "risk.conf", v->risk, 0644,
					ctx);
	}
	ir_git_close(git);
	if (rc)
		return rc;
	snprintf(text, sizeof(text),
		 "# incident demo sandbox (git-config syntax)\n"
		 "[core]\n\tdata-dir = %s/data\n"
		 "[deploy]\n\tdir = %s\n\ttag-pattern = deploy-*\n"
		 "[rollback]\n\tbudget = 5m\n"
		 "[stop]\n\tcommand = ./scripts/emergency_stop.sh\n"
		 "\tprocess = trading_node --port %d\n"
		 "\tescalate = ./scripts/shutdown.sh force\n\tbudget = 10s\n"
		 "[backup]\n\tpath = config\n\tpath = logs\n\tkeep = 20\n"
		 "[config]\n\tdir = config\n\tbackup = %s/backup/config-{ts}\n"
		 "[start]\n\tcommand = ./scripts/start.sh\n\tbudget = 30s\n"
		 "[health]\n\turl = http://127.0.0.1:%d/status\n"
		 "\texpect-status = 200\n\texpect-body = ok\n"
		 "\tbudget = 20s\n"
		 "[verify]\n\tlog = logs/trading.log\n\tlines = 10\n",
		 dir, deploy, port, dir, port);
	return write_file(dir, "incident.conf", text, 0644, ctx);
}

static int
wait_status(int port, long *status)
{
	struct ir_http_result r;
	struct ir_ctx ignored = { 0 };
	char url[64];
	int i;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/status", port);
	for (i = 0; i < 100; i++) {
		memset(&r, 0, sizeof(r));
		if (!ir_http_get(url, 500, 1000, &r, &ignored)) {
			*status = r.status;
			return 0;
		}
		ir_error_clear(&ignored);
		ir_sleep_ms(50);
	}
	return -ETIMEDOUT;
}

static void
stop_node(const char *dir)
{
	char path[4096], buf[32] = "";
	FILE *f;
	long pid;

	snprintf(path, sizeof(path), "%s/deploy/run/node.pid", dir);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(buf, sizeof(buf), f) && (pid = strtol(buf, NULL, 10)) > 1)
		kill((pid_t)pid, SIGTERM);
	fclose(f);
}

int
cmd_demo(struct cli *cli)
{
	char dir[4096], node[4096], conf[4200], cmd[8192];
	struct ir_proc_result res;
	struct ir_proc_opts popts = IR_PROC_OPTS_INIT;
	const char *argv_rollback[] = { "rollback", "--yes", "--reason",
					"deploy v1.6.0: 500s on /status, ERROR "
					"lines and a P&L anomaly",
					NULL };
	long status = 0;
	int port, rc;

	if (cli->argc > 2)
		return cli_usage(cli, "demo takes at most one folder");
	if (cli->argc == 2) {
		snprintf(dir, sizeof(dir), "%s", cli->argv[1]);
		if (mkdir(dir, 0755) && errno != EEXIST)
			return cli_fail(cli, ir_error_set(&cli->ctx, -errno,
							  IR_ORIGIN_USAGE,
							  errno,
							  "cannot create "
							  "\"%s\": %s",
							  dir,
							  strerror(errno)));
		snprintf(conf, sizeof(conf), "%s/incident.conf", dir);
		if (!access(conf, F_OK))
			return cli_usage(cli, "\"%s\" already holds a demo; "
					      "give an empty folder",
					 dir);
	} else {
		const char *tmp = getenv("TMPDIR");

		snprintf(dir, sizeof(dir), "%s/incident-demo-XXXXXX",
			 tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(dir))
			return cli_fail(cli, -errno);
	}
	if (dir[0] != '/') {
		char *abs = realpath(dir, NULL);

		if (!abs)
			return cli_fail(cli, -errno);
		snprintf(dir, sizeof(dir), "%s", abs);
		free(abs);
	}
	rc = find_node(node, sizeof(node), &cli->ctx);
	if (rc)
		return cli_fail(cli, rc);
	port = free_port();
	if (!port)
		return cli_usage(cli, "no free port on 127.0.0.1");
	fprintf(stderr, "demo: building a sandbox deployment in %s\n", dir);
	rc = build_sandbox(dir, node, port, &cli->ctx);
	if (rc)
		return cli_fail(cli, rc);
	fprintf(stderr,
		"demo: three deploy tags; %s (v1.6.0) is deployed and "
		"broken\n",
		versions[2].tag);
	snprintf(cmd, sizeof(cmd), "%s/deploy", dir);
	popts.command = "./scripts/start.sh";
	popts.cwd = cmd;
	popts.budget_ms = 10000;
	rc = ir_proc_run(&popts, &res, &cli->ctx);
	if (rc)
		return cli_fail(cli, rc);
	if (wait_status(port, &status))
		return cli_usage(cli, "the demo trading node did not start");
	fprintf(stderr,
		"demo: trading node up on 127.0.0.1:%d, /status answers %ld; "
		"rolling back\n\n",
		port, status);
	snprintf(conf, sizeof(conf), "%s/incident.conf", dir);
	cli->config_opt = conf;
	cli->data_opt = NULL;
	cli->argc = 4;
	cli->argv = (char **)argv_rollback;
	unsetenv("INCIDENT_DATA");
	rc = cmd_rollback(cli);
	fprintf(stderr, "\ndemo: sandbox kept in %s\n", dir);
	fprintf(stderr, "demo: try  incident -c %s timeline last\n", conf);
	fprintf(stderr, "           incident -c %s report last --format html "
			"-o %s/report.html\n",
		conf, dir);
	stop_node(dir);
	fprintf(stderr, "demo: trading node stopped\n");
	return rc;
}
