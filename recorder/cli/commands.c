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
	  true },
	{ "deploy",
	  "deploy TAG [--dry-run] [--yes] [--force] [--no-backup] "
	  "[--reason TEXT]",
	  "deploy TAG, recorded; a failed health or soak rolls back on its "
	  "own",
	  true },
	{ "stop", "stop [--yes] [--reason TEXT]",
	  "emergency stop only, recorded",
	  true },
	{ "status", "status",
	  "open incident, deployed tag, trading process, health",
	  true },
	{ "tags", "tags",
	  "deploy tags: which is deployed, known-good, known-bad",
	  false },
	{ "mark", "mark TAG good|bad|clear --reason TEXT [--yes]",
	  "correct a tag's known-good / known-bad verdict (recorded)",
	  false },
	{ "list", "list", "incidents, newest first",
	  false },
	{ "show", "show INC [--at +DURATION]",
	  "the incident as known at that moment (default: all of it)",
	  false },
	{ "timeline", "timeline INC", "the incident's timeline in the terminal",
	  false },
	{ "report", "report INC [--format md|html|json] [--full] [-o FILE]",
	  "the incident report",
	  false },
	{ "stats", "stats",
	  "across incidents: durations, steps over budget, key times",
	  false },
	{ "replay",
	  "replay INC [--speed X] [--max-idle SECONDS] [--pause-at-markers]",
	  "replay the incident with its recorded timing",
	  false },
	{ "simulate", "simulate INC|--all [--keep-going] [--until SEQ]",
	  "re-run today's runbook against a recorded incident, touching "
	  "nothing",
	  false },
	{ "drill", "drill INC [--key FILE] [--blind] [--speed X] "
		   "[--max-idle SECONDS]",
	  "a scored training drill from a recorded incident",
	  false },
	{ "note", "note INC TEXT [--corrects SEQ]",
	  "annotate an incident (also while it runs)",
	  false },
	{ "abort", "abort INC",
	  "close an interrupted incident without resuming it",
	  true },
	{ "verify", "verify [INC]", "check hash chains and log integrity",
	  false },
	{ "export",
	  "export INC --format jsonl|asciicast [--cols N] [--rows N] "
	  "[--max-idle SECONDS] [-o FILE]",
	  "the incident's events as JSON lines, or its replay as an "
	  "asciicast",
	  false },
	{ "backup", "backup [--reason TEXT]", "archive the current state now",
	  true },
	{ "archives", "archives",
	  "archives, their incidents, sizes, checksums",
	  false },
	{ "restore", "restore ARCHIVE|INC --to DIR [--force] [--yes]",
	  "extract an archive safely",
	  true },
	{ "config", "config",
	  "which file was read, every effective value, and warnings",
	  false },
	{ "help", "help [COMMAND]", "the usage, or what a command's options do",
	  false },
	{ "demo", "demo [DIR]",
	  "a self-contained sandbox deployment, rolled back live",
	  true },
	{ NULL, NULL, NULL, false },
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
