/*
 * Processes: real shells, real pipes, real process groups, and the
 * stand-in trading node over a real loopback socket.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ir_limits.h"
#include "testutil.h"
#include "proc.h"

#define NODE TEST_FIXTURES "/trading_node"
/* How long we wait for something that should happen at once; generous so
 * a loaded machine cannot fail a test. */
#define PATIENCE_MS 20000
#define MAX_LINES 64
#define MAX_GROUPS 8

struct line {
	enum ir_proc_stream stream;
	bool truncated;
	size_t len;
	char *text;
};

struct fx {
	char dir[PATH_MAX];
	struct line lines[MAX_LINES];
	size_t n_lines;
	unsigned ticks;
	/* on_spawn */
	pid_t spawned;
	pid_t spawned_group;
	int refuse;
	const char *must_not_exist;
	bool existed_before_gate;
	/* killed and reaped by teardown, whatever the test did */
	pid_t groups[MAX_GROUPS];
	size_t n_groups;
};

extern char **environ;

static void
on_line(void *payload, enum ir_proc_stream stream, const char *line,
	size_t len, bool truncated)
{
	struct fx *fx = payload;
	struct line *l;

	assert_int_equal(strlen(line), len);
	if (fx->n_lines == MAX_LINES)
		fail_msg("too many lines");
	l = &fx->lines[fx->n_lines++];
	l->stream = stream;
	l->truncated = truncated;
	l->len = len;
	l->text = malloc(len + 1);
	assert_non_null(l->text);
	memcpy(l->text, line, len);
	l->text[len] = '\0';
}

static void
on_tick(void *payload)
{
	struct fx *fx = payload;

	fx->ticks++;
}

static void
track(struct fx *fx, pid_t pgid)
{
	assert_true(fx->n_groups < MAX_GROUPS);
	fx->groups[fx->n_groups++] = pgid;
}

static int
on_spawn(void *payload, pid_t pgid)
{
	struct fx *fx = payload;

	fx->spawned = pgid;
	fx->spawned_group = getpgid(pgid);
	if (fx->must_not_exist) {
		/* Give an ungated command every chance to run. */
		ir_sleep_ms(200);
		fx->existed_before_gate = access(fx->must_not_exist, F_OK) == 0;
	}
	return fx->refuse;
}

static struct ir_proc_opts
opts_for(struct fx *fx, const char *command)
{
	struct ir_proc_opts o = IR_PROC_OPTS_INIT;

	o.command = command;
	o.on_line = on_line;
	o.on_tick = on_tick;
	o.on_spawn = on_spawn;
	o.payload = fx;
	return o;
}

/* The i-th line of a stream, or NULL. */
static const struct line *
nth(const struct fx *fx, enum ir_proc_stream stream, size_t i)
{
	for (size_t k = 0; k < fx->n_lines; k++) {
		if (fx->lines[k].stream != stream)
			continue;
		if (i-- == 0)
			return &fx->lines[k];
	}
	return NULL;
}

static size_t
count(const struct fx *fx, enum ir_proc_stream stream)
{
	size_t n = 0;

	for (size_t k = 0; k < fx->n_lines; k++)
		n += fx->lines[k].stream == stream;
	return n;
}

static void
assert_line(const struct fx *fx, enum ir_proc_stream stream, size_t i,
	    const char *text)
{
	const struct line *l = nth(fx, stream, i);

	assert_non_null(l);
	assert_string_equal(l->text, text);
	assert_false(l->truncated);
}

static size_t
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	size_t n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void
path_in(const struct fx *fx, const char *name, char *out, size_t size)
{
	int n = snprintf(out, size, "%s/%s", fx->dir, name);

	assert_true(n > 0 && (size_t)n < size);
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	const char *tmp = getenv("TMPDIR");

	if (!fx)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "%s/test_proc.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(fx->dir)) {
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	for (size_t i = 0; i < fx->n_groups; i++) {
		int rc;

		kill(-fx->groups[i], SIGKILL);
		while (waitpid(-fx->groups[i], NULL, 0) > 0)
			;
		rc = ir_proc_group_reap(fx->groups[i], 0, 0);
		(void)rc;
	}
	for (size_t i = 0; i < fx->n_lines; i++)
		free(fx->lines[i].text);
	nftw(fx->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return 0;
}

static bool
slurp(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
	return true;
}

static size_t
lines_containing(const char *path, const char *needle)
{
	static char buf[1 << 20];
	size_t n = 0;

	if (!slurp(path, buf, sizeof(buf)))
		return 0;
	for (char *save, *l = strtok_r(buf, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save))
		n += strstr(l, needle) != NULL;
	return n;
}

/* Poll until path has at least min lines containing needle. */
static bool
wait_log(const char *path, const char *needle, size_t min)
{
	uint64_t until = ir_clock_mono() + PATIENCE_MS * 1000000ull;

	while (ir_clock_mono() < until) {
		if (lines_containing(path, needle) >= min)
			return true;
		ir_sleep_ms(20);
	}
	return false;
}

static bool
wait_file(const char *path)
{
	uint64_t until = ir_clock_mono() + PATIENCE_MS * 1000000ull;

	while (ir_clock_mono() < until) {
		if (access(path, F_OK) == 0)
			return true;
		ir_sleep_ms(10);
	}
	return false;
}

/* The deploy tree the node reads: app/VERSION and app/MODE. */
static void
make_app(const struct fx *fx, const char *version, const char *mode)
{
	char path[PATH_MAX];

	path_in(fx, "app", path, sizeof(path));
	assert_int_equal(mkdir(path, 0755), 0);
	path_in(fx, "app/VERSION", path, sizeof(path));
	tu_write_file(path, version);
	if (mode) {
		path_in(fx, "app/MODE", path, sizeof(path));
		tu_write_file(path, mode);
	}
}

/* Start the node as our own child in its own group; wait for its port. */
static pid_t
start_node(struct fx *fx, const char *port_name, bool ignore_term,
	   unsigned *port)
{
	char port_file[PATH_MAX], text[32];
	char *argv[] = {"trading_node", "--port", "0", "--dir", fx->dir,
			"--port-file", port_file, NULL, NULL};
	posix_spawnattr_t attr;
	pid_t pid;

	if (ignore_term)
		argv[7] = "--ignore-term";
	path_in(fx, port_name, port_file, sizeof(port_file));
	assert_int_equal(posix_spawnattr_init(&attr), 0);
	assert_int_equal(posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP),
			 0);
	assert_int_equal(posix_spawnattr_setpgroup(&attr, 0), 0);
	assert_int_equal(posix_spawn(&pid, NODE, NULL, &attr, argv, environ),
			 0);
	posix_spawnattr_destroy(&attr);
	track(fx, pid);
	assert_true(wait_file(port_file));
	assert_true(slurp(port_file, text, sizeof(text)));
	*port = (unsigned)strtoul(text, NULL, 10);
	assert_true(*port > 0 && *port < 65536);
	return pid;
}

/* Send raw bytes, read the whole answer; the status, or 0 if the server
 * closed without one. */
static int
http_raw(unsigned port, const char *request, char *body, size_t size)
{
	struct sockaddr_in sa = {0};
	struct timeval tv = {.tv_sec = PATIENCE_MS / 1000};
	static char resp[8192];
	size_t len = 0;
	const char *p;
	int fd, status = 0;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(send(fd, request, strlen(request), MSG_NOSIGNAL),
			 (ssize_t)strlen(request));
	for (;;) {
		ssize_t n = recv(fd, resp + len, sizeof(resp) - 1 - len, 0);

		if (n < 0)
			fail_msg("recv: %s", strerror(errno));
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	resp[len] = '\0';
	if (body)
		body[0] = '\0';
	if (!len)
		return 0;
	assert_int_equal(sscanf(resp, "HTTP/1.0 %d", &status), 1);
	assert_non_null(strstr(resp, "Connection: close\r\n"));
	p = strstr(resp, "\r\n\r\n");
	assert_non_null(p);
	if (body)
		snprintf(body, size, "%s", p + 4);
	return status;
}

static int
http_get(unsigned port, const char *path, char *body, size_t size)
{
	char req[256];

	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: x\r\n\r\n", path);
	return http_raw(port, req, body, size);
}

/* An extended regex matching exactly the text s. */
static void
regex_quote(const char *s, char *out, size_t size)
{
	size_t n = 0;

	for (; *s; s++) {
		assert_true(n + 3 < size);
		if (strchr("\\^$.|?*+()[]{}", *s))
			out[n++] = '\\';
		out[n++] = *s;
	}
	out[n] = '\0';
}

static void
output_lines_per_stream(void **state)
{
	struct fx *fx = *state;
	struct ir_proc_opts o = opts_for(
		fx, "echo a; echo b >&2; echo c; printf 'x\\r\\n'; echo;"
		    " echo f >&2; printf d; printf e >&2");
	struct ir_proc_result res;
	struct ir_ctx ctx = {0};
	size_t fds = open_fds();

	assert_int_equal(ir_proc_run(&o, &res, &ctx), 0);
	assert_int_equal(open_fds(), fds);
	assert_int_equal(res.exit_code, 0);
	assert_int_equal(res.signal, 0);
	assert_false(res.timed_out);
	assert_int_equal(count(fx, IR_PROC_STDOUT), 5);
	assert_line(fx, IR_PROC_STDOUT, 0, "a");
	assert_line(fx, IR_PROC_STDOUT, 1, "c");
	assert_line(fx, IR_PROC_STDOUT, 2, "x");
	assert_line(fx, IR_PROC_STDOUT, 3, "");
	assert_line(fx, IR_PROC_STDOUT, 4, "d");
	assert_int_equal(count(fx, IR_PROC_STDERR), 3);
	assert_line(fx, IR_PROC_STDERR, 0, "b");
	assert_line(fx, IR_PROC_STDERR, 1, "f");
	assert_line(fx, IR_PROC_STDERR, 2, "e");
	assert_true(fx->ticks >= 1);
}

static void
ticks_while_running(void **state)
{
	struct fx *fx = *state;
	struct ir_proc_opts o = opts_for(fx, "sleep 0.5");
	struct ir_proc_result res;
	struct ir_ctx ctx = {0};

	assert_int_equal(ir_proc_run(&o, &res, &ctx), 0);
	assert_int_equal(res.exit_code, 0);
	/* At least one tick while it runs and one as its pipes close. */
	assert_true(fx->ticks >= 2);
	assert_true(res.duration_ms >= 500);
}

static void
long_lines_are_cut(void **state)
{
	struct fx *fx = *state;
	struct ir_proc_opts o = opts_for(
		fx, "head -c 10000 /dev/zero | tr '\\0' x; echo;"
		    " head -c 4096 /dev/zero | tr '\\0' y; echo;"
		    " head -c 4096 /dev/zero | tr '\\0' w; printf '\\r\\n';"
		    " echo next;"
		    " head -c 100000 /dev/zero | tr '\\0' z >&2");
	struct ir_proc_result res;
	struct ir_ctx ctx = {0};
	const struct line *l;

	assert_int_equal(ir_proc_run(&o, &res, &ctx), 0);
	assert_int_equal(res.exit_code, 0);
	assert_int_equal(count(fx, IR_PROC_STDOUT), 4);

	l = nth(fx, IR_PROC_STDOUT, 0);
	assert_true(l->truncated);
	assert_int_equal(l->len, IR_LIMIT_OUTPUT_LINE);
	assert_int_equal(strspn(l->text, "x"), IR_LIMIT_OUTPUT_LINE);

	/* Exactly at the limit is not cut, nor with a \r\n ending. */
	l = nth(fx, IR_PROC_STDOUT, 1);
	assert_false(l->truncated);
	assert_int_equal(l->len, IR_LIMIT_OUTPUT_LINE);
	assert_int_equal(strspn(l->text, "y"), IR_LIMIT_OUTPUT_LINE);
	l = nth(fx, IR_PROC_STDOUT, 2);
	assert_false(l->truncated);
	assert_int_equal(l->len, IR_LIMIT_OUTPUT_LINE);
	assert_int_equal(strspn(l->text, "w"), IR_LIMIT_OUTPUT_LINE);

	assert_line(fx, IR_PROC_STDOUT, 3, "next");

	/* An unterminated line far over the limit: cut once, rest dropped. */
	assert_int_equal(count(fx, IR_PROC_STDERR), 1);
	l = nth(fx, IR_PROC_STDERR, 0);
	assert_true(l->truncated);
	assert_int_equal(l->len, IR_LIMIT_OUTPUT_LINE);
	assert_int_equal(strspn(l->text, "z"), IR_LIMIT_OUTPUT_LINE);
}

static void
exit_codes(void **state)
{
	struct fx *fx = *state;
	struct ir_proc_opts o = opts_for(fx, "true");
	struct ir_proc_result res;
	struct ir_ctx ctx = {0};

	assert_int_equal(ir_proc_run(&o, &res, &ctx), 0);
	assert_int_equal(res.exit_code, 0);
	assert_int_equal(res.signal, 0);

	o.command = "echo out; exit 3";
	assert_int_equal(ir_proc_run(&o, &res, &ctx), 0);
	assert_int_equal(res.exit_code, 3);
	assert_int_equal(res.signal, 0);
	assert_false(res.timed_out);
	assert_line(fx, IR_PROC_STDOUT, 0, "out");

	o.command = "kill -KILL $$";
	assert_int_equal(ir_proc_run(&o, &res, &ctx), 0);
	assert_int_equal(res.exit_code, -1);
	assert_int_equal(res.signal, SIGKILL);
	assert_false(res.timed_out);
}

static void
budget_sends_sigterm(void **state)
{
	struct fx *fx = *state;
	struct ir_proc_opts o = opts_for(fx, "echo begun; sleep 30; true");
	struct ir_proc_result res;
	struct ir_ctx ctx = {0};

	o.budget_ms = 200;
	assert_int_equal(ir_proc_run(&o, &res, &ctx), 0);
	assert_true(res.timed_out);
	assert_int_equal(res.exit_code, -1);
	assert_int_equal(res.signal, SIGTERM);
	assert_true(res.duration_ms >= 200);
	assert_line(fx, IR_PROC_STDOUT, 0, "begun");
	/* The sleep went with the shell: the whole group was signalled. */
	assert_false(ir_proc_group_alive(res.pgid));
}

static void
budget_escalates_to_sigkill(void **state)
{
	struct fx *fx = *state;
	struct ir_proc_opts o = opts_for(fx, "trap '' TERM; sleep 30; true");
	struct ir_proc_result res;
	struct ir_ctx ctx = {0};

	o.budget_ms = 200;
	o.grace_ms = 300;
	assert_int_equal(ir_proc_run(&o, &res, &ctx), 0);
	assert_true(res.timed_out);
	assert_int_equal(res.exit_code, -1);
	assert_int_equal(res.signal, SIGKILL);
	assert_true(res.duration_ms >= 500);
	assert_false(ir_proc_group_alive(res.pgid));
}

static void
budget_stops_the_whole_group(void **state)
{
	struct fx *fx = *state;
	/* The shell dies of SIGTERM; the child it waits for ignores it. */
	struct ir_proc_opts o =
		opts_for(fx, "(trap '' TERM; exec sleep 30) & wait");
	struct ir_proc_result res;
	struct ir_ctx ctx = {0};

	o.budget_ms = 200;
	o.grace_ms = 300;
	assert_int_equal(ir_proc_run(&o, &res, &ctx), 0);
	track(fx, res.pgid);
	assert_true(res.timed_out);
	assert_int_equal(res.signal, SIGTERM);
	assert_false(ir_proc_group_alive(res.pgid));
}

/* Cancelled after the command has written its first line: the group is
 * ended as at the budget (the child ignoring SIGTERM is killed), and what
 * it wrote is read. */
static bool
cancel_after_first_line(void *payload)
{
	return ((struct fx *)payload)->n_lines > 0;
}

static void
cancel_ends_the_group(void **state)
{
	struct fx *fx = *state;
	struct ir_proc_opts o = opts_for(
		fx, "echo begun; (trap '' TERM; exec sleep 30) & wait");
	struct ir_proc_result res;
	struct ir_ctx ctx = {0};

	o.cancel = cancel_after_first_line;
	o.grace_ms = 300;
	assert_int_equal(ir_proc_run(&o, &res, &ctx), 0);
	track(fx, res.pgid);
	assert_true(res.cancelled);
	assert_false(res.timed_out);
	assert_int_equal(res.signal, SIGTERM);
	assert_true(res.duration_ms < 5000);
	assert_line(fx, IR_PROC_STDOUT, 0, "begun");
	assert_false(ir_proc_group_alive(res.pgid));
}

/* Never cancelled: it runs to its end. */
static bool
never_cancel(void *payload)
{
	(void)payload;
	return false;
}

static void
no_cancel_runs_to_the_end(void **state)
{
	struct fx *fx = *state;
	struct ir_proc_opts o = opts_for(fx, "sleep 0.2; echo done");
	struct ir_proc_result res;
	struct ir_ctx ctx = {0};

	o.cancel = never_cancel;
	assert_int_equal(ir_proc_run(&o, &res, &ctx), 0);
	assert_false(res.cancelled);
	assert_int_equal(res.exit_code, 0);
	assert_line(fx, IR_PROC_STDOUT, 0, "done");
}

static void
refused_spawn_never_runs(void **state)
{
	struct fx *fx = *state;
	char mark[PATH_MAX], cmd[PATH_MAX + 16];
	struct ir_proc_opts o;
	struct ir_proc_result res = {.exit_code = 77};
	struct ir_ctx ctx = {0};
	size_t fds;

	path_in(fx, "ran", mark, sizeof(mark));
	snprintf(cmd, sizeof(cmd), "touch '%s'", mark);
	o = opts_for(fx, cmd);
	fx->refuse = -ECANCELED;
	fx->must_not_exist = mark;
	fds = open_fds();
	assert_int_equal(ir_proc_run(&o, &res, &ctx), -ECANCELED);
	assert_int_equal(open_fds(), fds);
	assert_int_equal(res.exit_code, 77);
	assert_true(fx->spawned > 1);
	/* The group existed, led by the gated shell, when on_spawn ran. */
	assert_int_equal(fx->spawned_group, fx->spawned);
	assert_false(fx->existed_before_gate);
	assert_int_equal(access(mark, F_OK), -1);
	/* Killed and reaped: no group, no zombie left to wait for. */
	assert_false(ir_proc_group_alive(fx->spawned));
	assert_int_equal(waitpid(fx->spawned, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);

	/* The same command with the gate opened does run. */
	fx->refuse = 0;
	assert_int_equal(ir_proc_run(&o, &res, &ctx), 0);
	assert_false(fx->existed_before_gate);
	assert_int_equal(res.exit_code, 0);
	assert_int_equal(access(mark, F_OK), 0);
}

static void
group_and_environment(void **state)
{
	struct fx *fx = *state;
	const char *env[] = {"INCIDENT_STEP=stop", "HOME=/overridden", NULL};
	struct ir_proc_opts o = opts_for(
		fx, "echo \"$INCIDENT_STEP\"; echo \"$HOME\";"
		    " echo \"$IR_TEST_INHERITED\"; env | grep -c '^HOME=';"
		    " echo $$; cut -d' ' -f5 /proc/self/stat");
	struct ir_proc_result res;
	struct ir_ctx ctx = {0};
	char pgid[32];
	char *home = NULL;

	if (getenv("HOME"))
		home = strdup(getenv("HOME"));
	assert_int_equal(setenv("IR_TEST_INHERITED", "yes", 1), 0);
	/* Ours is there to be overridden, not doubled. */
	assert_int_equal(setenv("HOME", "/original", 1), 0);
	o.env = env;
	assert_int_equal(ir_proc_run(&o, &res, &ctx), 0);
	unsetenv("IR_TEST_INHERITED");
	if (home)
		setenv("HOME", home, 1);
	else
		unsetenv("HOME");
	free(home);
	assert_int_equal(res.exit_code, 0);
	assert_int_equal(res.pgid, fx->spawned);
	assert_int_equal(fx->spawned_group, fx->spawned);
	assert_int_not_equal(res.pgid, getpgid(0));
	snprintf(pgid, sizeof(pgid), "%d", (int)res.pgid);
	assert_line(fx, IR_PROC_STDOUT, 0, "stop");
	assert_line(fx, IR_PROC_STDOUT, 1, "/overridden");
	assert_line(fx, IR_PROC_STDOUT, 2, "yes");
	assert_line(fx, IR_PROC_STDOUT, 3, "1");
	/* The command runs in the gated shell's own process... */
	assert_line(fx, IR_PROC_STDOUT, 4, pgid);
	/* ...and what it starts stays in the group. */
	assert_line(fx, IR_PROC_STDOUT, 5, pgid);

	o.env = (const char *const[]){"NOEQUALS", NULL};
	assert_int_equal(ir_proc_run(&o, &res, &ctx), -EINVAL);
}

static void
working_directory(void **state)
{
	struct fx *fx = *state;
	struct ir_proc_opts o = opts_for(fx, "pwd -P");
	struct ir_proc_result res;
	struct ir_ctx ctx = {0};
	char real[PATH_MAX], missing[PATH_MAX];

	assert_non_null(realpath(fx->dir, real));
	o.cwd = fx->dir;
	assert_int_equal(ir_proc_run(&o, &res, &ctx), 0);
	assert_int_equal(res.exit_code, 0);
	assert_line(fx, IR_PROC_STDOUT, 0, real);

	path_in(fx, "missing", missing, sizeof(missing));
	o.cwd = missing;
	fx->spawned = 0;
	assert_int_equal(ir_proc_run(&o, &res, &ctx), -ENOENT);
	assert_non_null(strstr(ctx.err.msg, "missing"));
	assert_int_equal(fx->spawned, 0);
}

static void
stdout_to_file(void **state)
{
	struct fx *fx = *state;
	struct ir_proc_opts o =
		opts_for(fx, "echo one; echo err >&2; echo two");
	struct ir_proc_result res;
	struct ir_ctx ctx = {0};
	char path[PATH_MAX], text[256];
	struct stat sb;

	path_in(fx, "out.txt", path, sizeof(path));
	o.stdout_path = path;
	assert_int_equal(ir_proc_run(&o, &res, &ctx), 0);
	assert_int_equal(res.exit_code, 0);
	assert_true(slurp(path, text, sizeof(text)));
	assert_string_equal(text, "one\ntwo\n");
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(count(fx, IR_PROC_STDOUT), 0);
	assert_int_equal(count(fx, IR_PROC_STDERR), 1);
	assert_line(fx, IR_PROC_STDERR, 0, "err");

	/* Truncated, not appended, on the next run. */
	o.command = "echo three";
	assert_int_equal(ir_proc_run(&o, &res, &ctx), 0);
	assert_true(slurp(path, text, sizeof(text)));
	assert_string_equal(text, "three\n");
}

static void
background_daemon_is_left_running(void **state)
{
	struct fx *fx = *state;
	/* The daemon keeps our stdout and stderr pipes open. */
	struct ir_proc_opts o = opts_for(fx, "sleep 30 & echo started");
	struct ir_proc_result res;
	struct ir_ctx ctx = {0};
	size_t fds = open_fds();

	assert_int_equal(ir_proc_run(&o, &res, &ctx), 0);
	track(fx, res.pgid);
	/* Including the pipes the daemon still holds. */
	assert_int_equal(open_fds(), fds);
	assert_int_equal(res.exit_code, 0);
	assert_false(res.timed_out);
	assert_true(res.duration_ms < 10000);
	assert_int_equal(count(fx, IR_PROC_STDOUT), 1);
	assert_line(fx, IR_PROC_STDOUT, 0, "started");
	/* Not killed: the group lives on in the daemon. */
	assert_true(ir_proc_group_alive(res.pgid));
	assert_int_equal(kill(-res.pgid, SIGKILL), 0);
	assert_int_equal(ir_proc_group_reap(res.pgid, PATIENCE_MS, 0), 0);
	assert_false(ir_proc_group_alive(res.pgid));
}

static void
find_spawned_nodes(void **state)
{
	struct fx *fx = *state;
	char quoted[2 * PATH_MAX], pattern[4 * PATH_MAX + 128];
	pid_t pids[8] = {0}, a, b, lo, hi;
	struct ir_ctx ctx = {0};
	unsigned port;
	size_t n = 99;
	int len;

	make_app(fx, "v1\n", NULL);
	a = start_node(fx, "port-a", false, &port);
	b = start_node(fx, "port-b", false, &port);
	lo = a < b ? a : b;
	hi = a < b ? b : a;
	/* The temporary directory's random name is in both command lines. */
	regex_quote(fx->dir, quoted, sizeof(quoted));
	snprintf(pattern, sizeof(pattern), "trading_node .*--dir %s ", quoted);
	assert_int_equal(ir_proc_find(pattern, pids, 8, &n, &ctx), 0);
	assert_int_equal(n, 2);
	assert_int_equal(pids[0], lo);
	assert_int_equal(pids[1], hi);

	/* Fewer slots than matches: the lowest pids, and the full count. */
	pids[0] = pids[1] = -7;
	assert_int_equal(ir_proc_find(pattern, pids, 1, &n, &ctx), 0);
	assert_int_equal(n, 2);
	assert_int_equal(pids[0], lo);
	assert_int_equal(pids[1], -7);

	/* Arguments are joined by single spaces. */
	len = snprintf(pattern, sizeof(pattern),
		       "^trading_node --port 0 --dir %s --port-file %s/port-a$",
		       quoted, quoted);
	assert_true(len > 0 && (size_t)len < sizeof(pattern));
	assert_int_equal(ir_proc_find(pattern, pids, 8, &n, &ctx), 0);
	assert_int_equal(n, 1);
	assert_int_equal(pids[0], a);

	/* Gone once it is killed and reaped. */
	assert_int_equal(kill(a, SIGKILL), 0);
	assert_int_equal(waitpid(a, NULL, 0), a);
	assert_int_equal(ir_proc_find(pattern, pids, 8, &n, &ctx), 0);
	assert_int_equal(n, 0);
}

static void
find_never_reports_itself(void **state)
{
	struct fx *fx = *state;
	char cmdline[4096], pattern[8192];
	size_t len = 0, n = 0, max = 1 << 16;
	pid_t *pids = calloc(max, sizeof(*pids));
	struct ir_ctx ctx = {0};
	bool parent = false, node = false;
	unsigned port;
	pid_t child;
	FILE *f;

	assert_non_null(pids);
	f = fopen("/proc/self/cmdline", "re");
	assert_non_null(f);
	len = fread(cmdline, 1, sizeof(cmdline) - 1, f);
	fclose(f);
	assert_true(len > 0);
	if (cmdline[len - 1] == '\0')
		len--;
	for (size_t i = 0; i < len; i++)
		cmdline[i] = cmdline[i] ? cmdline[i] : ' ';
	cmdline[len] = '\0';
	pattern[0] = '^';
	regex_quote(cmdline, pattern + 1, sizeof(pattern) - 2);
	strcat(pattern, "$");

	assert_int_equal(ir_proc_find(pattern, pids, max, &n, &ctx), 0);
	for (size_t i = 0; i < n && i < max; i++)
		assert_int_not_equal(pids[i], getpid());

	/* Everything with a command line: our parent and child, not us
	 * and never pid 1 (which has one here). */
	make_app(fx, "v1\n", NULL);
	child = start_node(fx, "port", false, &port);
	assert_int_equal(ir_proc_find(".", pids, max, &n, &ctx), 0);
	assert_true(n <= max);
	for (size_t i = 0; i < n; i++) {
		assert_int_not_equal(pids[i], getpid());
		assert_int_not_equal(pids[i], 1);
		parent = parent || pids[i] == getppid();
		node = node || pids[i] == child;
		if (i)
			assert_true(pids[i - 1] < pids[i]);
	}
	assert_true(parent);
	assert_true(node);
	free(pids);
}

static void
find_rejects_bad_regex(void **state)
{
	struct ir_ctx ctx = {0};
	pid_t pids[4];
	size_t n = 42;

	(void)state;
	assert_int_equal(ir_proc_find("([", pids, 4, &n, &ctx), -EINVAL);
	assert_int_equal(ctx.err.code, -EINVAL);
	assert_non_null(strstr(ctx.err.msg, "(["));
	assert_int_equal(n, 42);
}

/* Start a node in the background from a command, as start.sh would. */
static pid_t
start_node_daemon(struct fx *fx, bool ignore_term, char *log, size_t size)
{
	char cmd[4 * PATH_MAX], port[PATH_MAX];
	struct ir_proc_opts o;
	struct ir_proc_result res;
	struct ir_ctx ctx = {0};
	int n;

	path_in(fx, "port", port, sizeof(port));
	path_in(fx, "logs/trading.log", log, size);
	n = snprintf(cmd, sizeof(cmd),
		     "'%s' --port 0 --dir '%s' --port-file '%s' %s"
		     " >/dev/null 2>&1 &",
		     NODE, fx->dir, port, ignore_term ? "--ignore-term" : "");
	assert_true(n > 0 && (size_t)n < sizeof(cmd));
	o = opts_for(fx, cmd);
	assert_int_equal(ir_proc_run(&o, &res, &ctx), 0);
	track(fx, res.pgid);
	assert_int_equal(res.exit_code, 0);
	/* Its handlers are in place once it has published its port. */
	assert_true(wait_file(port));
	assert_true(ir_proc_group_alive(res.pgid));
	return res.pgid;
}

static void
group_reap_terminates(void **state)
{
	struct fx *fx = *state;
	char log[PATH_MAX];
	pid_t pgid;

	make_app(fx, "v1\n", NULL);
	pgid = start_node_daemon(fx, false, log, sizeof(log));
	assert_int_equal(ir_proc_group_reap(pgid, 0, PATIENCE_MS), 0);
	assert_false(ir_proc_group_alive(pgid));
	/* It went on SIGTERM, cleanly. */
	assert_int_equal(lines_containing(log, "trading_node stopping"), 1);
}

static void
group_reap_kills_what_ignores_sigterm(void **state)
{
	struct fx *fx = *state;
	char log[PATH_MAX];
	pid_t pgid;

	make_app(fx, "v1\n", NULL);
	pgid = start_node_daemon(fx, true, log, sizeof(log));
	assert_int_equal(kill(-pgid, SIGTERM), 0);
	assert_true(wait_log(log, "WARN ignoring SIGTERM", 1));
	assert_true(ir_proc_group_alive(pgid));
	assert_int_equal(ir_proc_group_reap(pgid, 0, 200), 0);
	assert_false(ir_proc_group_alive(pgid));
	assert_int_equal(lines_containing(log, "stopping"), 0);
}

/* The wait for processes to go wakes when they exit, not at its end; a
 * pid with no process counts as gone; with nothing to wait for, the
 * whole time is slept. */
static void
wait_gone_wakes_on_exit(void **state)
{
	pid_t kids[2], none = 0;
	uint64_t t0;
	int status, i;

	(void)state;
	for (i = 0; i < 2; i++) {
		kids[i] = fork();
		assert_true(kids[i] >= 0);
		if (!kids[i]) {
			usleep(30000 * (i + 1));
			_exit(0);
		}
	}
	t0 = ir_clock_mono();
	ir_proc_wait_gone(kids, 2, 20000);
	/* Both gone: far sooner than the 20 s asked for. */
	assert_true(ir_clock_mono() - t0 < 10000ull * 1000000);
	for (i = 0; i < 2; i++)
		assert_int_equal(waitpid(kids[i], &status, 0), kids[i]);
	/* Reaped: no process behind the pids any more. */
	t0 = ir_clock_mono();
	ir_proc_wait_gone(kids, 2, 20000);
	assert_true(ir_clock_mono() - t0 < 10000ull * 1000000);
	/* One that lives on: the wait lasts its time, no less. */
	none = fork();
	assert_true(none >= 0);
	if (!none) {
		pause();
		_exit(0);
	}
	t0 = ir_clock_mono();
	ir_proc_wait_gone(&none, 1, 60);
	assert_true(ir_clock_mono() - t0 >= 55ull * 1000000);
	kill(none, SIGKILL);
	assert_int_equal(waitpid(none, &status, 0), none);
}

static void
group_of_nothing(void **state)
{
	(void)state;
	assert_false(ir_proc_group_alive(0));
	assert_false(ir_proc_group_alive(1));
	assert_false(ir_proc_group_alive(-5));
	assert_int_equal(ir_proc_group_reap(0, 0, 0), -EINVAL);
	assert_int_equal(ir_proc_group_reap(-1, 0, 0), -EINVAL);
}

static void
node_good(void **state)
{
	struct fx *fx = *state;
	char log[PATH_MAX], body[256], first[256];
	unsigned port;
	pid_t pid;
	int status;

	make_app(fx, "v3\n", "good\n");
	pid = start_node(fx, "port", false, &port);
	assert_int_equal(http_get(port, "/status", body, sizeof(body)), 200);
	assert_string_equal(body, "ok version=v3");
	assert_int_equal(http_get(port, "/nope", body, sizeof(body)), 404);
	/* Garbage is dropped without an answer; the node keeps serving. */
	assert_int_equal(http_raw(port, "BREW /pot\r\n\r\n", NULL, 0), 0);
	assert_int_equal(http_get(port, "/status", body, sizeof(body)), 200);

	path_in(fx, "logs/trading.log", log, sizeof(log));
	snprintf(first, sizeof(first),
		 "INFO trading_node v3 started pid=%d port=%u", (int)pid,
		 port);
	assert_int_equal(lines_containing(log, first), 1);
	assert_true(wait_log(log, "INFO tick pnl=+", 3));
	assert_int_equal(lines_containing(log, "ERROR"), 0);

	assert_int_equal(kill(pid, SIGTERM), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(lines_containing(log, "trading_node stopping"), 1);
}

static void
node_broken(void **state)
{
	struct fx *fx = *state;
	char log[PATH_MAX], body[256];
	unsigned port;
	pid_t pid;
	int status;

	make_app(fx, "v4\n", "broken\n");
	pid = start_node(fx, "port", false, &port);
	assert_int_equal(http_get(port, "/status", body, sizeof(body)), 500);
	assert_string_equal(body, "ERROR version=v4 pnl_anomaly");

	path_in(fx, "logs/trading.log", log, sizeof(log));
	assert_true(wait_log(log, "ERROR order rejected: risk check failed",
			     2));
	assert_true(wait_log(log, "WARN P&L anomaly: pnl=-", 2));
	assert_int_equal(lines_containing(log, "INFO tick"), 0);

	assert_int_equal(kill(pid, SIGINT), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
node_ignoring_sigterm(void **state)
{
	struct fx *fx = *state;
	char log[PATH_MAX], body[256];
	unsigned port;
	pid_t pid;
	int status;

	make_app(fx, "v3\n", NULL);
	pid = start_node(fx, "port", true, &port);
	assert_int_equal(kill(pid, SIGTERM), 0);
	path_in(fx, "logs/trading.log", log, sizeof(log));
	assert_true(wait_log(log, "WARN ignoring SIGTERM", 1));
	assert_int_equal(waitpid(pid, &status, WNOHANG), 0);
	assert_int_equal(http_get(port, "/status", body, sizeof(body)), 200);

	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	assert_int_equal(lines_containing(log, "stopping"), 0);
}

static void
clocks(void **state)
{
	uint64_t a, b;
	int64_t wall;

	(void)state;
	a = ir_clock_mono();
	ir_sleep_ms(20);
	b = ir_clock_mono();
	assert_true(b - a >= 20 * 1000000ull);
	wall = ir_clock_wall();
	/* After 2020-01-01, in ns. */
	assert_true(wall > 1577836800LL * 1000000000LL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(output_lines_per_stream),
		T(ticks_while_running),
		T(long_lines_are_cut),
		T(exit_codes),
		T(budget_sends_sigterm),
		T(budget_escalates_to_sigkill),
		T(budget_stops_the_whole_group),
		T(cancel_ends_the_group),
		T(no_cancel_runs_to_the_end),
		T(refused_spawn_never_runs),
		T(group_and_environment),
		T(working_directory),
		T(stdout_to_file),
		T(background_daemon_is_left_running),
		T(find_spawned_nodes),
		T(find_never_reports_itself),
		T(find_rejects_bad_regex),
		T(group_reap_terminates),
		T(group_reap_kills_what_ignores_sigterm),
		T(group_of_nothing),
		T(wait_gone_wakes_on_exit),
		T(node_good),
		T(node_broken),
		T(node_ignoring_sigterm),
		T(clocks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
