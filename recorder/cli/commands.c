/* The commands: names, usage lines and what they do (main.c runs them,
 * help.c and exit.c describe them). */
#include <string.h>

#include "cli.h"

const struct cli_command cli_commands[] = {
	{ "rollback",
	  "rollback [TAG] [--dry-run] [--yes] [--force] [--with-db] "
	  "[--no-backup] [--reason TEXT]",
	  "carry out the emergency rollback runbook (resumes an interrupted "
	  "one)",
	  CLI_LOAD_RUN },
	{ "deploy",
	  "deploy TAG [--dry-run] [--yes] [--force] [--no-backup] "
	  "[--reason TEXT]",
	  "deploy TAG, recorded; a failed health or soak rolls back on its "
	  "own",
	  CLI_LOAD_RUN },
	{ "stop", "stop [--yes] [--reason TEXT]",
	  "emergency stop only, recorded",
	  CLI_LOAD_RUN },
	{ "status", "status",
	  "open incident, deployed tag, trading process, health",
	  CLI_LOAD_HTTP },
	{ "tags", "tags",
	  "deploy tags: which is deployed, known-good, known-bad",
	  0 },
	{ "mark", "mark TAG good|bad|clear --reason TEXT [--yes]",
	  "correct a tag's known-good / known-bad verdict (recorded)",
	  0 },
	{ "list", "list", "incidents, newest first",
	  0 },
	{ "show", "show INC [--at +DURATION]",
	  "the incident as known at that moment (default: all of it)",
	  0 },
	{ "timeline", "timeline INC", "the incident's timeline in the terminal",
	  0 },
	{ "report", "report INC [--format md|html|json] [--full] [-o FILE]",
	  "the incident report",
	  0 },
	{ "stats", "stats",
	  "across incidents: durations, steps over budget, key times",
	  0 },
	{ "replay",
	  "replay INC [--speed X] [--max-idle SECONDS] [--pause-at-markers]",
	  "replay the incident with its recorded timing",
	  0 },
	{ "simulate", "simulate INC|--all [--keep-going] [--until SEQ]",
	  "re-run today's runbook against a recorded incident, touching "
	  "nothing",
	  0 },
	{ "drill", "drill INC [--key FILE] [--blind] [--speed X] "
		   "[--max-idle SECONDS]",
	  "a scored training drill from a recorded incident",
	  0 },
	{ "note", "note INC TEXT [--corrects SEQ]",
	  "annotate an incident (also while it runs)",
	  0 },
	{ "abort", "abort INC",
	  "close an interrupted incident without resuming it",
	  CLI_LOAD_RUN },
	{ "verify", "verify [INC] [--checkpoint FILE|git] [--key PUB.pem]",
	  "check hash chains, log integrity and signed checkpoints",
	  0 },
	{ "checkpoint", "checkpoint [--rotate-key]",
	  "the latest signed checkpoint of the log, for a ticket",
	  0 },
	{ "export",
	  "export INC --format jsonl|asciicast [--cols N] [--rows N] "
	  "[--max-idle SECONDS] [-o FILE]",
	  "the incident's events as JSON lines, or its replay as an "
	  "asciicast",
	  0 },
	{ "backup", "backup [--reason TEXT]", "archive the current state now",
	  CLI_LOAD_RUN },
	{ "archives", "archives",
	  "archives, their incidents, sizes, checksums",
	  0 },
	{ "restore", "restore ARCHIVE|INC --to DIR [--force] [--yes]",
	  "extract an archive safely",
	  CLI_LOAD_RUN },
	{ "config", "config",
	  "which file was read, every effective value, and warnings",
	  0 },
	{ "fleet", "fleet rollback|agent|status|abort|report ...",
	  "the fleet rollback in waves, coordinated through etcd",
	  CLI_LOAD_HTTP },
	{ "help", "help [COMMAND]", "the usage, or what a command's options do",
	  0 },
	{ "demo", "demo [DIR]",
	  "a self-contained sandbox deployment, rolled back live",
	  CLI_LOAD_ALL },
	{ NULL, NULL, NULL, 0 },
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
