#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* What each command runs (commands.c describes them). */
static const struct {
	const char *name;
	int (*run)(struct cli *cli);
} runners[] = {
	{ "rollback", cmd_rollback },
	{ "stop", cmd_stop },
	{ "status", cmd_status },
	{ "tags", cmd_tags },
	{ "mark", cmd_mark },
	{ "list", cmd_list },
	{ "show", cmd_show },
	{ "timeline", cmd_timeline },
	{ "report", cmd_report },
	{ "stats", cmd_stats },
	{ "replay", cmd_replay },
	{ "simulate", cmd_simulate },
	{ "drill", cmd_drill },
	{ "deploy", cmd_deploy },
	{ "note", cmd_note },
	{ "abort", cmd_abort },
	{ "verify", cmd_verify },
	{ "checkpoint", cmd_checkpoint },
	{ "export", cmd_export },
	{ "backup", cmd_backup },
	{ "archives", cmd_archives },
	{ "restore", cmd_restore },
	{ "config", cmd_config },
	{ "fleet", cmd_fleet },
	{ "help", cmd_help },
	{ "demo", cmd_demo },
};

static int
run(const struct cli_command *cmd, struct cli *cli)
{
	size_t i;

	for (i = 0; i < sizeof(runners) / sizeof(*runners); i++)
		if (!strcmp(runners[i].name, cmd->name))
			return runners[i].run(cli);
	return IR_EXIT_USAGE;
}

int
main(int argc, char **argv)
{
	struct cli cli = { 0 };
	const struct cli_command *cmd = NULL;
	char **rest;
	int nrest = 0, i, rc;
	bool no_color = false, help = false, ended = false, version = false;

	cli.prog = "incident";
	/* A dead reader of our output must not kill a rollback midway. */
	signal(SIGPIPE, SIG_IGN);
	rest = calloc((size_t)argc + 1, sizeof(*rest));
	if (!rest)
		return IR_EXIT_FAILED;
	/* Global options may stand before or after the command. */
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (ended || a[0] != '-' || !strcmp(a, "-")) {
			rest[nrest++] = argv[i];
		} else if (!strcmp(a, "--")) {
			ended = true;
			rest[nrest++] = argv[i];
		} else if (!strcmp(a, "-c") || !strcmp(a, "-d")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "incident: %s needs a value\n",
					a);
				free(rest);
				return IR_EXIT_USAGE;
			}
			if (a[1] == 'c')
				cli.config_opt = argv[++i];
			else
				cli.data_opt = argv[++i];
		} else if (!strncmp(a, "--config=", 9)) {
			cli.config_opt = a + 9;
		} else if (!strncmp(a, "--data-dir=", 11)) {
			cli.data_opt = a + 11;
		} else if (!strcmp(a, "--json")) {
			cli.json = true;
		} else if (!strcmp(a, "--no-color")) {
			no_color = true;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			help = true;
		} else if (!strcmp(a, "--version")) {
			version = true;
		} else {
			rest[nrest++] = argv[i];
		}
	}
	if (version) {
		if (cli.json)
			printf("{\"version\": \"%s\"}\n", IR_VERSION);
		else
			printf("incident %s\n", IR_VERSION);
		free(rest);
		return IR_EXIT_OK;
	}
	if (nrest && strcmp(rest[0], "--"))
		cmd = cli_find_command(rest[0]);
	if (help) {
		if (cmd)
			cli_command_help(stdout, cmd);
		else
			cli_usage_all(stdout);
		free(rest);
		return IR_EXIT_OK;
	}
	if (!nrest) {
		cli_usage_all(stderr);
		free(rest);
		return IR_EXIT_USAGE;
	}
	if (!cmd) {
		fprintf(stderr, "incident: unknown command \"%s\" (see "
				"'incident --help')\n",
			rest[0]);
		free(rest);
		return IR_EXIT_USAGE;
	}
	if (getenv("NO_COLOR") && getenv("NO_COLOR")[0])
		no_color = true;
	cli.tty_in = isatty(STDIN_FILENO);
	cli.tty_err = cli_can_redraw(STDERR_FILENO);
	cli.tty_out = cli_can_redraw(STDOUT_FILENO);
	cli.color = !no_color && cli.tty_out;
	cli.color_err = !no_color && cli.tty_err;
	cli.argc = nrest;
	cli.argv = rest;
	/* Load libcurl and libarchive, and initialise OpenSSL, on threads
	 * (lazylib.h): while the command starts, or (CLI_LOAD_LATE) once
	 * it runs its incident, when a rollback is stopping trading. */
	cli.preload = cmd->preload;
	if (!(cmd->preload & CLI_LOAD_LATE))
		cli_preload(cmd->preload);
	rc = run(cmd, &cli);
	cli_close(&cli);
	free(rest);
	return rc;
}
