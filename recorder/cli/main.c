#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "hash.h"
#include "health.h"
#include "ir_archive.h"

const struct cli_command cli_commands[] = {
	{ "rollback",
	  "rollback [TAG] [--dry-run] [--yes] [--force] [--with-db] "
	  "[--no-backup] [--reason TEXT]",
	  "carry out the emergency rollback runbook (resumes an interrupted "
	  "one)",
	  cmd_rollback, true },
	{ "stop", "stop [--yes] [--reason TEXT]",
	  "emergency stop only, recorded", cmd_stop, true },
	{ "status", "status",
	  "open incident, deployed tag, trading process, health", cmd_status,
	  true },
	{ "tags", "tags",
	  "deploy tags: which is deployed, known-good, known-bad", cmd_tags, false },
	{ "mark", "mark TAG good|bad|clear --reason TEXT [--yes]",
	  "correct a tag's known-good / known-bad verdict (recorded)",
	  cmd_mark, false },
	{ "list", "list", "incidents, newest first", cmd_list, false },
	{ "show", "show INC [--at +DURATION]",
	  "the incident as known at that moment (default: all of it)",
	  cmd_show, false },
	{ "timeline", "timeline INC", "the incident's timeline in the terminal",
	  cmd_timeline, false },
	{ "report", "report INC [--format md|html|json] [-o FILE]",
	  "the incident report", cmd_report, false },
	{ "stats", "stats",
	  "across incidents: durations, steps over budget, key times",
	  cmd_stats, false },
	{ "replay", "replay INC [--speed X] [--max-idle SECONDS]",
	  "replay the incident with its recorded timing", cmd_replay, false },
	{ "simulate", "simulate INC|--all [--keep-going] [--until SEQ]",
	  "re-run today's runbook against a recorded incident, touching "
	  "nothing", cmd_simulate, false },
	{ "note", "note INC TEXT [--corrects SEQ]",
	  "annotate an incident (also while it runs)", cmd_note, false },
	{ "abort", "abort INC",
	  "close an interrupted incident without resuming it", cmd_abort, true },
	{ "verify", "verify [INC]", "check hash chains and log integrity",
	  cmd_verify, false },
	{ "export", "export INC --format jsonl [-o FILE]",
	  "the incident's events, one JSON object per line", cmd_export, false },
	{ "backup", "backup [--reason TEXT]", "archive the current state now",
	  cmd_backup, true },
	{ "archives", "archives",
	  "archives, their incidents, sizes, checksums", cmd_archives, false },
	{ "restore", "restore ARCHIVE|INC --to DIR [--force] [--yes]",
	  "extract an archive safely", cmd_restore, true },
	{ "config", "config",
	  "which file was read, every effective value, and warnings",
	  cmd_config, false },
	{ "help", "help [COMMAND]", "the usage, or what a command's options do",
	  cmd_help, false },
	{ "demo", "demo [DIR]",
	  "a self-contained sandbox deployment, rolled back live", cmd_demo,
	  true },
	{ NULL, NULL, NULL, NULL, false },
};

const struct cli_command *
cli_find_command(const char *name)
{
	const struct cli_command *c;

	for (c = cli_commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
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
	 * while the command starts (lazylib.h): a rollback is stopping
	 * trading meanwhile. */
	if (cmd->preload) {
		ir_http_preload();
		ir_archive_preload();
		ir_sha256_preload();
	}
	rc = cmd->run(&cli);
	cli_close(&cli);
	free(rest);
	return rc;
}
