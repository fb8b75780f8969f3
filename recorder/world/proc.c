#include "proc.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ir_limits.h"

/* posix_spawn_file_actions_addchdir_np appeared in glibc 2.29. */
#if !defined(__GLIBC__) || __GLIBC__ < 2 ||                                    \
	(__GLIBC__ == 2 && __GLIBC_MINOR__ < 29)
#error "proc.c needs glibc >= 2.29 (posix_spawn_file_actions_addchdir_np)"
#endif

extern char **environ;

#define GRACE_DEFAULT_MS 2000
#define TICK_MS 50
/* Once the shell has exited, how long its pipes may stay open: a daemon it
 * started in the background may hold them for ever. */
#define DRAIN_MS 200
/* Nap while the pipes are closed but the shell has not been reaped yet. */
#define EXIT_NAP_MS 5
#define READ_CHUNK (16 * 1024)
/* Reads per stream and round, so on_tick keeps its pace under a flood. */
#define READS_PER_ROUND 16

/*
 * The gate: the spawned shell blocks reading one line from fd 3 before it
 * execs the real command.  If our end closes without a line (we died, or
 * on_spawn refused) the read fails and the command never runs.  The command
 * comes in as $1, never spliced into the script.
 */
static const char gate_script[] =
	"read -r gate <&3 || exit 125; exec 3<&-; exec /bin/sh -c \"$1\"";

#define GATE_FD 3

struct stream {
	int fd;
	enum ir_proc_stream id;
	bool discarding;
	size_t len;
	/* A line, one byte for a '\r' that may precede its newline, a NUL. */
	char line[IR_LIMIT_OUTPUT_LINE + 2];
};

struct spawned {
	pid_t pid; /* > 0 while unreaped; it is also the pgid */
	int gate;  /* our end of the gate pipe */
	int out;
	int err;
};

static uint64_t
ms_between(uint64_t from_ns, uint64_t to_ns)
{
	return to_ns > from_ns ? (to_ns - from_ns) / 1000000 : 0;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/*
 * The child's descriptors are moved onto 0..3 by dup2 file actions in order;
 * a source descriptor that is itself one of 0..3 (our stdio was closed)
 * could be overwritten by an earlier action.  Keep them above.
 */
static int
raise_fd(int *fd)
{
	int high;

	if (*fd > GATE_FD)
		return 0;
	high = fcntl(*fd, F_DUPFD_CLOEXEC, GATE_FD + 1);
	if (high < 0)
		return -errno;
	close(*fd);
	*fd = high;
	return 0;
}

static int
pipe_cloexec(int fds[2])
{
	int rc;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	rc = raise_fd(&fds[0]);
	if (!rc)
		rc = raise_fd(&fds[1]);
	return rc;
}

static size_t
env_name_len(const char *entry)
{
	const char *eq = strchr(entry, '=');

	return eq ? (size_t)(eq - entry) : 0;
}

/* Our environment with opts->env laid over it; the strings are borrowed. */
static int
build_env(const char *const *extra, char ***out, struct ir_ctx *ctx)
{
	size_t n_ours = 0, n_extra = 0, n = 0;
	char **envp;

	while (environ && environ[n_ours])
		n_ours++;
	while (extra && extra[n_extra]) {
		if (!env_name_len(extra[n_extra]))
			return ir_error_set(ctx, -EINVAL, IR_ORIGIN_USAGE, 0,
					    "environment entry '%s' is not "
					    "NAME=VALUE",
					    extra[n_extra]);
		n_extra++;
	}
	envp = calloc(n_ours + n_extra + 1, sizeof(*envp));
	if (!envp)
		return ir_error_set(ctx, -ENOMEM, IR_ORIGIN_OS, ENOMEM,
				    "out of memory for the environment");
	for (size_t i = 0; i < n_ours; i++) {
		size_t len = env_name_len(environ[i]);
		bool overridden = false;

		for (size_t j = 0; len && j < n_extra && !overridden; j++)
			overridden = env_name_len(extra[j]) == len &&
				     !memcmp(extra[j], environ[i], len);
		if (!overridden)
			envp[n++] = environ[i];
	}
	for (size_t j = 0; j < n_extra; j++)
		envp[n++] = (char *)extra[j];
	envp[n] = NULL;
	*out = envp;
	return 0;
}

static int
spawn_gated(const struct ir_proc_opts *opts, struct spawned *sp,
	    struct ir_ctx *ctx)
{
	char *const argv[] = {"sh", "-c", (char *)gate_script, "sh",
			      (char *)opts->command, NULL};
	int gate[2] = {-1, -1}, outp[2] = {-1, -1}, errp[2] = {-1, -1};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	bool fa_ok = false, attr_ok = false;
	sigset_t none, all;
	char **envp = NULL;
	pid_t pid;
	int rc;

	if (opts->cwd) {
		int dir = open(opts->cwd, O_PATH | O_DIRECTORY | O_CLOEXEC);

		if (dir < 0) {
			rc = -errno;
			ir_error_set(ctx, rc, IR_ORIGIN_OS, errno,
				     "working directory '%s': %s", opts->cwd,
				     strerror(errno));
			goto done;
		}
		close(dir);
	}
	rc = build_env(opts->env, &envp, ctx);
	if (rc < 0)
		goto done;

	rc = pipe_cloexec(gate);
	if (!rc && opts->stdout_path) {
		outp[1] = open(opts->stdout_path,
			       O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (outp[1] < 0) {
			rc = -errno;
			ir_error_set(ctx, rc, IR_ORIGIN_OS, errno,
				     "output file '%s': %s", opts->stdout_path,
				     strerror(errno));
			goto done;
		}
		rc = raise_fd(&outp[1]);
	} else if (!rc) {
		rc = pipe_cloexec(outp);
	}
	if (!rc)
		rc = pipe_cloexec(errp);
	if (rc < 0) {
		ir_error_set(ctx, rc, IR_ORIGIN_OS, -rc, "pipe: %s",
			     strerror(-rc));
		goto done;
	}

	rc = posix_spawn_file_actions_init(&fa);
	if (rc) {
		rc = -rc;
		goto spawn_failed;
	}
	fa_ok = true;
	rc = posix_spawnattr_init(&attr);
	if (rc) {
		rc = -rc;
		goto spawn_failed;
	}
	attr_ok = true;

	/* dup2 clears FD_CLOEXEC on the target; everything else we hold is
	 * O_CLOEXEC and vanishes at exec. */
	rc = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
					      O_RDONLY, 0);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(&fa, outp[1],
						      STDOUT_FILENO);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(&fa, errp[1],
						      STDERR_FILENO);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(&fa, gate[0], GATE_FD);
	if (!rc && opts->cwd)
		rc = posix_spawn_file_actions_addchdir_np(&fa, opts->cwd);

	/* Own process group (pgid == pid), nothing blocked, and every
	 * disposition back to default: the caller may ignore SIGPIPE or
	 * handle SIGINT, the command must not inherit that. */
	sigemptyset(&none);
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	if (!rc)
		rc = posix_spawnattr_setflags(
			&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
				       POSIX_SPAWN_SETSIGDEF);
	if (!rc)
		rc = posix_spawnattr_setpgroup(&attr, 0);
	if (!rc)
		rc = posix_spawnattr_setsigmask(&attr, &none);
	if (!rc)
		rc = posix_spawnattr_setsigdefault(&attr, &all);
	if (rc) {
		rc = -rc;
		goto spawn_failed;
	}

	rc = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, envp);
	if (rc) {
		rc = -rc;
		if (rc == -ENOENT && opts->cwd)
			ir_error_set(ctx, rc, IR_ORIGIN_OS, -rc,
				     "cannot start /bin/sh in '%s': %s",
				     opts->cwd, strerror(-rc));
		goto spawn_failed;
	}
	sp->pid = pid;
	sp->gate = gate[1];
	gate[1] = -1;
	sp->out = outp[0];
	outp[0] = -1;
	sp->err = errp[0];
	errp[0] = -1;
	rc = 0;
	goto done;

spawn_failed:
	ir_error_set(ctx, rc, IR_ORIGIN_OS, -rc, "cannot start /bin/sh: %s",
		     strerror(-rc));
done:
	if (attr_ok)
		posix_spawnattr_destroy(&attr);
	if (fa_ok)
		posix_spawn_file_actions_destroy(&fa);
	for (int i = 0; i < 2; i++) {
		close_fd(&gate[i]);
		close_fd(&outp[i]);
		close_fd(&errp[i]);
	}
	free(envp);
	return rc;
}

/*
 * Open the gate.  If the shell died before reading it (killed from
 * outside), write() fails with EPIPE and raises SIGPIPE, whose default
 * action would kill us; we cannot rely on the caller ignoring it.  So
 * SIGPIPE is blocked in this thread around the write, and the one our write
 * raised (thread-directed, hence pending on this thread) is consumed before
 * the mask is restored.  A SIGPIPE that was already pending before is left
 * alone: it is not ours.  A failed gate is not an error here: the shell is
 * gone and waitpid() will tell how.
 */
static void
open_gate(int fd)
{
	static const struct timespec now = {0, 0};
	sigset_t pipe_set, old, pending;
	bool was_pending = false;
	ssize_t n;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	if (!sigpending(&pending))
		was_pending = sigismember(&pending, SIGPIPE) == 1;
	do {
		n = write(fd, "go\n", 3);
	} while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EPIPE && !was_pending) {
		while (sigtimedwait(&pipe_set, NULL, &now) < 0 &&
		       errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void
kill_and_reap(struct spawned *sp)
{
	int status;

	if (sp->pid <= 0)
		return;
	close_fd(&sp->gate);
	kill(-sp->pid, SIGKILL);
	while (waitpid(sp->pid, &status, 0) < 0 && errno == EINTR)
		;
	sp->pid = -1;
}

static void
emit(const struct ir_proc_opts *opts, struct stream *st, bool truncated)
{
	size_t len = st->len;

	if (!truncated && len && st->line[len - 1] == '\r')
		len--;
	if (len > IR_LIMIT_OUTPUT_LINE)
		len = IR_LIMIT_OUTPUT_LINE;
	st->line[len] = '\0';
	if (opts->on_line)
		opts->on_line(opts->payload, st->id, st->line, len, truncated);
	st->len = 0;
}

/* Bytes of one line (no newline among them). */
static void
append(const struct ir_proc_opts *opts, struct stream *st, const char *p,
       size_t n)
{
	/* Room for the limit plus a '\r' that may turn out to end the line. */
	size_t room = IR_LIMIT_OUTPUT_LINE + 1 - st->len;
	size_t take = n < room ? n : room;

	if (st->discarding)
		return;
	memcpy(st->line + st->len, p, take);
	st->len += take;
	if (st->len <= IR_LIMIT_OUTPUT_LINE)
		return;
	if (take == n && st->line[IR_LIMIT_OUTPUT_LINE] == '\r')
		return;
	st->len = IR_LIMIT_OUTPUT_LINE;
	emit(opts, st, true);
	st->discarding = true;
}

static void
feed(const struct ir_proc_opts *opts, struct stream *st, const char *p,
     size_t n)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t part = nl ? (size_t)(nl - p) : n;

		append(opts, st, p, part);
		if (!nl)
			return;
		if (!st->discarding)
			emit(opts, st, false);
		st->discarding = false;
		st->len = 0;
		p += part + 1;
		n -= part + 1;
	}
}

/* End of a stream: a last line without its newline still counts. */
static void
finish(const struct ir_proc_opts *opts, struct stream *st)
{
	if (!st->discarding && st->len)
		emit(opts, st, false);
	st->discarding = false;
	st->len = 0;
	close_fd(&st->fd);
}

static void
drain(const struct ir_proc_opts *opts, struct stream *st)
{
	char buf[READ_CHUNK];

	for (int i = 0; i < READS_PER_ROUND && st->fd >= 0; i++) {
		ssize_t n = read(st->fd, buf, sizeof(buf));

		if (n > 0) {
			feed(opts, st, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		/* EOF, or an error we cannot recover from on a pipe. */
		finish(opts, st);
	}
}

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

/*
 * The budget ran out (or the caller cancelled the command): the whole group
 * is being stopped, not just the shell,
 * so see it through.  Signals are asynchronous: a member may still be dying
 * when the shell has been reaped, or may ignore SIGTERM.  A member that
 * survives SIGKILL for IR_PROC_REAP_KILL_WAIT_MS (stuck in the kernel) is
 * left; the result still says timed_out.
 */
static void
finish_group(const struct ir_proc_opts *opts, pid_t pgid, uint64_t term_at,
	     uint64_t grace, bool kill_sent)
{
	uint64_t kill_at = kill_sent ? ir_clock_mono() : 0;

	while (ir_proc_group_alive(pgid)) {
		uint64_t now = ir_clock_mono();

		if (!kill_sent && ms_between(term_at, now) >= grace) {
			kill(-pgid, SIGKILL);
			kill_sent = true;
			kill_at = now;
		} else if (kill_sent && ms_between(kill_at, now) >=
						IR_PROC_REAP_KILL_WAIT_MS) {
			return;
		}
		if (opts->on_tick)
			opts->on_tick(opts->payload);
		ir_sleep_ms(IR_PROC_REAP_POLL_MS);
	}
}

/*
 * Read output, watch the budget, reap the shell.  Once the shell has been
 * reaped we stop: either both pipes have given EOF, or DRAIN_MS passed and
 * whoever still holds them (a daemon it started on purpose) is left alone.
 */
static int
supervise(const struct ir_proc_opts *opts, struct spawned *sp,
	  struct ir_proc_result *res, struct ir_ctx *ctx)
{
	struct stream *st = NULL;
	uint64_t grace = opts->grace_ms ? opts->grace_ms : GRACE_DEFAULT_MS;
	uint64_t start = ir_clock_mono(), term_at = 0, exit_at = 0;
	bool exited = false, term_sent = false, kill_sent = false;
	int status = 0, rc = 0;

	st = calloc(2, sizeof(*st));
	if (!st) {
		rc = ir_error_set(ctx, -ENOMEM, IR_ORIGIN_OS, ENOMEM,
				  "out of memory for process output");
		goto done;
	}
	st[0].fd = sp->out;
	st[0].id = IR_PROC_STDOUT;
	sp->out = -1;
	st[1].fd = sp->err;
	st[1].id = IR_PROC_STDERR;
	sp->err = -1;
	for (int i = 0; i < 2; i++) {
		if (st[i].fd >= 0 && set_nonblock(st[i].fd) < 0)
			finish(opts, &st[i]);
	}

	for (;;) {
		struct pollfd pfd[2];
		struct stream *polled[2];
		nfds_t nfd = 0;
		uint64_t now = ir_clock_mono();
		int timeout = TICK_MS;

		if (!exited) {
			pid_t w = waitpid(sp->pid, &status, WNOHANG);

			if (w == sp->pid) {
				exited = true;
				exit_at = now;
				sp->pid = -1;
			} else if (w < 0 && errno != EINTR) {
				/* ECHILD: someone reaps our children
				 * (SIGCHLD ignored?); the status is lost. */
				rc = -errno;
				ir_error_set(ctx, rc, IR_ORIGIN_OS, errno,
					     "waitpid %d: %s", (int)sp->pid,
					     strerror(errno));
				if (rc == -ECHILD)
					sp->pid = -1;
				goto done;
			}
		}
		if (!exited && !term_sent && opts->cancel &&
		    opts->cancel(opts->payload)) {
			kill(-res->pgid, SIGTERM);
			term_sent = true;
			res->cancelled = true;
			term_at = now;
		}
		if (!exited && opts->budget_ms) {
			uint64_t ran = ms_between(start, now);

			if (!term_sent && ran >= opts->budget_ms) {
				kill(-res->pgid, SIGTERM);
				term_sent = true;
				res->timed_out = true;
				term_at = now;
			}
			if (!term_sent && opts->budget_ms - ran < TICK_MS)
				timeout = (int)(opts->budget_ms - ran);
		}
		if (!exited && term_sent && !kill_sent &&
		    ms_between(term_at, now) >= grace) {
			kill(-res->pgid, SIGKILL);
			kill_sent = true;
		}
		if (exited && ((st[0].fd < 0 && st[1].fd < 0) ||
			       ms_between(exit_at, now) >= DRAIN_MS))
			break;

		for (int i = 0; i < 2; i++) {
			if (st[i].fd < 0)
				continue;
			pfd[nfd].fd = st[i].fd;
			pfd[nfd].events = POLLIN;
			pfd[nfd].revents = 0;
			polled[nfd++] = &st[i];
		}
		if (!nfd && timeout > EXIT_NAP_MS)
			timeout = EXIT_NAP_MS;
		if (poll(pfd, nfd, timeout) < 0 && errno != EINTR) {
			rc = -errno;
			ir_error_set(ctx, rc, IR_ORIGIN_OS, errno, "poll: %s",
				     strerror(errno));
			goto done;
		}
		for (nfds_t i = 0; i < nfd; i++) {
			if (pfd[i].revents)
				drain(opts, polled[i]);
		}
		if (opts->on_tick)
			opts->on_tick(opts->payload);
	}

	/* Whatever a lingering holder of the pipes wrote so far is kept. */
	finish(opts, &st[0]);
	finish(opts, &st[1]);
	if (res->timed_out || res->cancelled)
		finish_group(opts, res->pgid, term_at, grace, kill_sent);
	if (WIFSIGNALED(status)) {
		res->exit_code = -1;
		res->signal = WTERMSIG(status);
	} else {
		res->exit_code = WEXITSTATUS(status);
		res->signal = 0;
	}
	res->duration_ms = ms_between(start, exit_at);
done:
	if (st) {
		close_fd(&st[0].fd);
		close_fd(&st[1].fd);
	}
	free(st);
	return rc;
}

int
ir_proc_run(const struct ir_proc_opts *opts, struct ir_proc_result *out,
	    struct ir_ctx *ctx)
{
	struct spawned sp = {.pid = -1, .gate = -1, .out = -1, .err = -1};
	struct ir_proc_result res = {0};
	int rc;

	if (!opts || !opts->command || !out)
		return ir_error_set(ctx, -EINVAL, IR_ORIGIN_USAGE, 0,
				    "no command to run");
	rc = spawn_gated(opts, &sp, ctx);
	if (rc < 0)
		goto done;
	res.pgid = sp.pid;
	if (opts->on_spawn) {
		rc = opts->on_spawn(opts->payload, sp.pid);
		if (rc)
			goto done;
	}
	open_gate(sp.gate);
	close_fd(&sp.gate);
	rc = supervise(opts, &sp, &res, ctx);
	if (rc < 0)
		goto done;
	*out = res;
done:
	/* Only on failure is anything still running: never leave it, nor a
	 * zombie, behind.  An unopened gate means it never ran. */
	kill_and_reap(&sp);
	close_fd(&sp.gate);
	close_fd(&sp.out);
	close_fd(&sp.err);
	return rc;
}
