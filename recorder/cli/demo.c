/* incident demo: a sandbox deployment, rolled back live. */
#include "cli.h"

int
cmd_demo(struct cli *cli)
{
	return cli_usage(cli, "not available yet");
}
