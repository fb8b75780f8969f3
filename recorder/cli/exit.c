/* The one place where an error becomes a message and an exit code. */
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int
cli_fail(struct cli *cli, int rc)
{
	const struct cli_command *cmd;
	int origin = cli->ctx.err.origin;

	if (!rc)
		return IR_EXIT_OK;
	fprintf(stderr, "incident %s: %s\n", cli->argv ? cli->argv[0] : "",
		ir_error_msg(&cli->ctx, rc));
	if (rc == -EBUSY && origin == IR_ORIGIN_LOCK)
		return IR_EXIT_LOCKED;
	switch (origin) {
	case IR_ORIGIN_USAGE:
	case IR_ORIGIN_CONFIG:
		if (origin == IR_ORIGIN_USAGE && cli->argv &&
		    (cmd = cli_find_command(cli->argv[0])) &&
		    cli->ctx.err.native == 1)
			fprintf(stderr, "usage: incident %s\n", cmd->usage);
		return IR_EXIT_USAGE;
	case IR_ORIGIN_RUN:
		return IR_EXIT_FAILED;
	default:
		break;
	}
	return IR_EXIT_FAILED;
}

/* The reader of our stdout has gone (`incident report last | head`): with
 * SIGPIPE ignored (main.c), a write failed with EPIPE. */
static bool
stdout_gone(void)
{
	struct pollfd p = { STDOUT_FILENO, POLLOUT, 0 };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP));
}

int
cli_read_done(struct cli *cli, int rc)
{
	if (rc && stdout_gone())
		return IR_EXIT_OK;
	return cli_fail(cli, rc);
}

int
cli_usage(struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cli->ctx.err.msg, sizeof(cli->ctx.err.msg), fmt, ap);
	va_end(ap);
	cli->ctx.err.code = -EINVAL;
	cli->ctx.err.origin = IR_ORIGIN_USAGE;
	cli->ctx.err.native = 1; /* show the usage line */
	return cli_fail(cli, -EINVAL);
}

int
cli_unexpected(struct cli *cli, int i)
{
	return cli_usage(cli, "unexpected argument \"%s\"", cli->argv[i]);
}

void
cli_say(struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "incident: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- a log damaged past what its open could see ------------------------ */

static char damage_cmd[32];
static char bus_msg[4400], segv_msg[4400];
static size_t bus_len, segv_len;

/* LMDB tripped over a damaged page and would abort(): say so, exit 1. */
static void
log_damaged(const char *file, const char *what)
{
	fflush(stdout);
	fprintf(stderr, "incident %s: the event log %s is damaged: LMDB: %s; "
			"restore it from a backup, or move it aside to keep "
			"it as evidence\n",
		damage_cmd, file, what);
	_exit(IR_EXIT_FAILED);
}

/* A page of the map that the file no longer holds (cut short while we
 * read it) or that the disk could not read. */
static void
on_sigbus(int sig)
{
	ssize_t n;

	(void)sig;
	n = write(STDERR_FILENO, bus_msg, bus_len);
	(void)n;
	_exit(IR_EXIT_FAILED);
}

/* A wild pointer while LMDB walks the pages is a damaged page; anywhere
 * else it is ours, and crashes as it would have (the handler is reset and
 * the fault happens again). */
static void
on_sigsegv(int sig)
{
	ssize_t n;

	if (!ir_evlog_reading()) {
		signal(sig, SIG_DFL);
		return;
	}
	n = write(STDERR_FILENO, segv_msg, segv_len);
	(void)n;
	_exit(IR_EXIT_FAILED);
}

static size_t
msg_len(int n, size_t cap)
{
	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

void
cli_watch_log(struct cli *cli)
{
	struct sigaction sa;
	int n;

	snprintf(damage_cmd, sizeof(damage_cmd), "%s",
		 cli->argv ? cli->argv[0] : "");
	n = snprintf(bus_msg, sizeof(bus_msg),
		     "incident %s: the event log %s/log/data.mdb is damaged: "
		     "a page could not be read (SIGBUS: the file was cut "
		     "short while in use, or the disk failed)\n",
		     damage_cmd, cli->data_dir);
	bus_len = msg_len(n, sizeof(bus_msg));
	n = snprintf(segv_msg, sizeof(segv_msg),
		     "incident %s: the event log %s/log/data.mdb is damaged: "
		     "LMDB lost its way in a damaged page (SIGSEGV); restore "
		     "it from a backup, or move it aside to keep it as "
		     "evidence\n",
		     damage_cmd, cli->data_dir);
	segv_len = msg_len(n, sizeof(segv_msg));
	ir_evlog_set_damage_handler(log_damaged);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigbus;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	sa.sa_handler = on_sigsegv;
	sigaction(SIGSEGV, &sa, NULL);
}
