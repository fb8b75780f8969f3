/* The one place where an error becomes a message and an exit code. */
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
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
