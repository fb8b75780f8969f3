/* Archives: list and restore (issue 4 completes them). */
#include "cli.h"

int
cmd_archives(struct cli *cli)
{
	return cli_usage(cli, "not available yet");
}

int
cmd_restore(struct cli *cli)
{
	return cli_usage(cli, "not available yet");
}
