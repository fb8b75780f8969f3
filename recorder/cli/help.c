/* `incident help [COMMAND]`, `incident COMMAND --help`: the usage, and for
 * each command what each of its arguments and options does. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct help {
	const char *name;
	const char *text; /* one "  OPTION  what it does" line each */
};

static const struct help helps[] = {
	{ "rollback",
	  "  TAG            roll back to this deploy tag (default: the newest "
	  "known-good\n"
	  "                 tag older than the deployed one, else the newest "
	  "not\n"
	  "                 known-bad)\n"
	  "  --dry-run      run the runbook over a world that plans instead "
	  "of acting:\n"
	  "                 the target, each step's decision and command, "
	  "files that\n"
	  "                 would change; nothing is run, written or "
	  "recorded (exit 2:\n"
	  "                 it would refuse; 1: the planned run fails)\n"
	  "  --yes, -y      do not ask for confirmation (required without a "
	  "terminal)\n"
	  "  --force        check out even over local changes outside "
	  "config.dir;\n"
	  "                 take a known-bad TAG; roll back again right "
	  "after a\n"
	  "                 rollback whose target is still deployed\n"
	  "  --with-db      also run the database step (database.restore)\n"
	  "  --no-backup    skip the backup step (the state is not archived "
	  "first)\n"
	  "  --reason TEXT  why, recorded in the log and the report\n"
	  "  --fleet F      this rollback is fleet F's (recorded in "
	  "incident.opened;\n"
	  "                 `incident fleet agent` passes it)\n"
	  "An interrupted rollback is resumed instead of starting a new one.\n" },
	{ "stop",
	  "  --yes, -y      do not ask for confirmation (required without a "
	  "terminal)\n"
	  "  --reason TEXT  why, recorded in the log\n" },
	{ "status",
	  "  no options: the open incident, the deployed tag, the trading "
	  "process\n"
	  "  and the health endpoint, as they are now\n" },
	{ "tags",
	  "  no options: every deploy tag matching deploy.tag-pattern, newest "
	  "first,\n"
	  "  which one is deployed, and why a tag is known-good or "
	  "known-bad\n" },
	{ "list", "  no options: every incident, newest first\n" },
	{ "show",
	  "  INC            INC-7, 7 or last\n"
	  "  --at +DURATION the incident as known that long after it opened:\n"
	  "                 +90s, +0.2s, +1.5m, +250ms, +2m30s, or bare "
	  "seconds (+3);\n"
	  "                 a moment after it closed shows it as closed\n" },
	{ "timeline",
	  "  INC            INC-7, 7 or last; every event in order, step "
	  "output\n"
	  "                 collapsed (--json: an array of the lines)\n" },
	{ "report",
	  "  INC            INC-7, 7 or last\n"
	  "  --format md|html|json\n"
	  "                 Markdown (default), self-contained HTML, or JSON\n"
	  "                 (--json alone also selects JSON)\n"
	  "  --full         fold nothing: every note, observation, timeline "
	  "row and\n"
	  "                 output line. Without it a series of one kind "
	  "longer than\n"
	  "                 20 (the notes, the observations of one kind, the "
	  "timeline\n"
	  "                 rows of one kind, the lines of one run) keeps its "
	  "first and\n"
	  "                 last 10 and names the command that shows them all\n"
	  "                 (incident timeline INC, incident export INC)\n"
	  "  -o FILE        write to FILE instead of stdout: a regular file is "
	  "replaced\n"
	  "                 atomically; a device, FIFO or link is written "
	  "through\n" },
	{ "stats",
	  "  no options: counts by kind and status, rollback durations, steps "
	  "over\n"
	  "  budget, key times (drills left out)\n" },
	{ "replay",
	  "  INC            INC-7, 7 or last\n"
	  "  --speed X      X times as fast as recorded (default 1)\n"
	  "  --max-idle SECONDS\n"
	  "                 wait at most this long between two events\n"
	  "  --pause-at-markers\n"
	  "                 stop at each marker (a step's start, a decision, "
	  "a budget\n"
	  "                 overrun, the close, the chain head) until space "
	  "is pressed;\n"
	  "                 only on a terminal: without one the replay does "
	  "not pause\n"
	  "  (--json: one JSON object per event, at the replay's timing)\n" },
	{ "simulate",
	  "  INC            INC-7, 7 or last\n"
	  "  --all          every closed incident that carries out a runbook\n"
	  "  --keep-going   list every divergence, not only the first\n"
	  "  --until SEQ    compare up to this event\n"
	  "  today's planner, decision rules and target choice against the\n"
	  "  recording; nothing is run, read from git or written. Exit 0 "
	  "the same,\n"
	  "  1 diverged, 2 unreplayable (--json: one object, an array with "
	  "--all)\n" },
	{ "deploy",
	  "  TAG            the deploy tag to deploy (it must match "
	  "deploy.tag-pattern)\n"
	  "  --dry-run      run the deploy over a world that plans instead "
	  "of acting\n"
	  "  --yes, -y      do not ask for confirmation (required without a "
	  "terminal)\n"
	  "  --force        deploy a known-bad TAG; check out over local "
	  "changes\n"
	  "                 outside config.dir once the backup has archived "
	  "them\n"
	  "  --no-backup    skip the backup step\n"
	  "  --reason TEXT  why (recorded)\n"
	  "  steps: backup, stop (deploy.stop, graceful), checkout, config "
	  "(deploy.config,\n"
	  "  or the tag's own), migrate (deploy.migrate), start, health, "
	  "soak\n"
	  "  (deploy.soak every deploy.soak-interval), verify, report.  A "
	  "failed health\n"
	  "  or soak: deploy.on-failure = rollback (to the tag deployed "
	  "before), stop or\n"
	  "  hold.  A deploy that passed makes TAG known-good.  Exit as "
	  "rollback.\n" },
	{ "drill",
	  "  INC            the source: a closed incident (INC-7, 7 or last)\n"
	  "  --key FILE     the answer key (git-config syntax: [stop] "
	  "[escalate]\n"
	  "                 [backup] [target] [database], each with accept, "
	  "partial,\n"
	  "                 forbid); else the recorded answers of a "
	  "succeeded\n"
	  "                 incident, else today's rules\n"
	  "  --blind        show nothing a question gates on until you type "
	  "'look'\n"
	  "  --speed X      X times as fast as recorded (default 1)\n"
	  "  --max-idle SECONDS\n"
	  "                 wait at most this long between two events "
	  "(default 2)\n"
	  "  answers come from the terminal, or one per line on stdin; "
	  "'look' and\n"
	  "  'hint' (-3 points) at any question; Ctrl-C ends the drill, "
	  "scored as\n"
	  "  far as it got.  Exit 0 passed, 1 not passed, 130 interrupted.  "
	  "Touches\n"
	  "  no deployment; recorded as an incident of kind drill.\n" },
	{ "note",
	  "  INC            INC-7, 7 or last (a running incident too)\n"
	  "  TEXT           the note, recorded with your user@host\n"
	  "  --corrects SEQ the note corrects event SEQ of the incident\n" },
	{ "abort",
	  "  INC            an interrupted (open, not running) incident to "
	  "close as\n"
	  "                 aborted without resuming it\n" },
	{ "verify",
	  "  INC            check only this incident (default: all, that "
	  "every archive\n"
	  "                 and report belongs to one, and the ledger); "
	  "exit 1 on a\n"
	  "                 fault: a broken chain, a header that is not what "
	  "its events\n"
	  "                 say, a ledger that does not match them\n"
	  "  --checkpoint FILE|git\n"
	  "                 also hold the log to signed checkpoints: a file "
	  "of notes, or\n"
	  "                 the notes under refs/notes/incident-checkpoints "
	  "in deploy.dir;\n"
	  "                 a cut tail, a rewrite, a foreign key is a fault\n"
	  "  --key PUB.pem  check signatures against this public key only "
	  "(default:\n"
	  "                 DATA_DIR/keys/ed25519-*.pub)\n" },
	{ "checkpoint",
	  "  prints the latest signed checkpoint (signed now when the log "
	  "grew since)\n"
	  "  --rotate-key   a new signing key; the old public key stays "
	  "pinned\n" },
	{ "export",
	  "  INC            INC-7, 7 or last\n"
	  "  --format jsonl one JSON object per event, as stored\n"
	  "  --format asciicast\n"
	  "                 asciicast v2 (asciinema): the replay's display "
	  "as frames,\n"
	  "                 with markers; the same log and size give the "
	  "same bytes\n"
	  "  --cols N       asciicast: the terminal's width, 20 to 500 "
	  "(default 100)\n"
	  "  --rows N       asciicast: its height, 5 to 200 (default 30)\n"
	  "  --max-idle SECONDS\n"
	  "                 asciicast: gaps longer than this are cut to it "
	  "(default 2)\n"
	  "  -o FILE        write to FILE instead of stdout: a regular file is "
	  "replaced\n"
	  "                 atomically; a device, FIFO or link is written "
	  "through\n" },
	{ "backup",
	  "  --reason TEXT  why, recorded in the log\n"
	  "  archives backup.path now, as an incident of kind backup\n" },
	{ "archives",
	  "  no options: every archive the log knows and any other in "
	  "DATA_DIR/archives,\n"
	  "  with its size, file count and whether its SHA-256 still "
	  "matches\n" },
	{ "restore",
	  "  ARCHIVE|INC    an archive file, or the incident whose backup to "
	  "restore\n"
	  "  --to DIR       extract into DIR, which must be absent or "
	  "empty\n"
	  "  --force        extract into a DIR that is not empty; what it "
	  "holds is\n"
	  "                 archived first (DATA_DIR/archives/INC-n-restore."
	  "tar.zst)\n"
	  "  --yes          replace without asking (needed with --force "
	  "when there is\n"
	  "                 no terminal)\n" },
	{ "mark",
	  "  TAG            the deploy tag whose verdict is corrected\n"
	  "  good|bad|clear known-good, known-bad, or back to what the log "
	  "shows\n"
	  "  --reason TEXT  why (required); shown by 'incident tags'\n"
	  "  --yes          record it without asking (needed without a "
	  "terminal)\n" },
	{ "config",
	  "  no options: the file that was read and the search order, every "
	  "effective\n"
	  "  value (secrets masked), and warnings about values a comment "
	  "character\n"
	  "  cut short\n" },
	{ "fleet",
	  "  rollback TAG --fleet F --nodes a,b,c [--waves 1,2,rest]\n"
	  "           [--max-unavailable N] [--max-failures N] [--soak D]\n"
	  "           [--stop-budget D] [--unanswered proceed|abort] "
	  "[--no-wait]\n"
	  "                 write fleet F's plan in etcd (once: a second plan "
	  "is\n"
	  "                 refused, exit 3, naming the one that holds); phase "
	  "0 stops\n"
	  "                 every node at once, then the leader agent starts "
	  "each wave\n"
	  "                 once the last reported succeeded for this plan "
	  "and commit\n"
	  "                 and soaked; at most N nodes in flight; more than "
	  "N failed\n"
	  "                 or unknown nodes abort.  Follows the run until "
	  "done (exit 0\n"
	  "                 succeeded, 1 otherwise) unless --no-wait.\n"
	  "                 A node that has not answered the stop within "
	  "--stop-budget\n"
	  "                 is --unanswered: proceed (default: go on without "
	  "it, counted\n"
	  "                 unknown) or abort; the decision is recorded in "
	  "etcd\n"
	  "  agent [--fleet F]\n"
	  "                 the foreground process on each node (fleet.node): "
	  "heartbeat,\n"
	  "                 election, phase-0 stop, this node's rollback as "
	  "a child\n"
	  "                 (recorded in its own log), digests mirrored, "
	  "fenced status;\n"
	  "                 default fleet \"default\"\n"
	  "  status F [--watch]\n"
	  "                 the plan, the wave, the leader, each node (--json); "
	  "--watch\n"
	  "                 shows each change (a watch on the keys) until the "
	  "run is\n"
	  "                 done or Ctrl-C: redrawn on a terminal, one block "
	  "(--json: one\n"
	  "                 line) per change otherwise\n"
	  "  abort F [--reason TEXT]\n"
	  "                 nodes not started never start; a rollback in "
	  "flight finishes\n"
	  "                 its step and holds, its incident open\n"
	  "  report F [--format md|html|json] [-o FILE]\n"
	  "                 one timeline of every node from the mirrored "
	  "digests, by\n"
	  "                 time and host, with the mirrored heads and "
	  "clock-skew\n"
	  "                 warnings\n"
	  "  [fleet] endpoints (etcd's JSON gateway), node, lease (5s), "
	  "timeout (1s)\n" },
	{ "demo",
	  "  DIR            build the sandbox here (default: a new folder "
	  "under $TMPDIR)\n" },
	{ "help",
	  "  COMMAND        show what COMMAND and each of its options do\n" },
};

static const char *
help_text(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(helps) / sizeof(*helps); i++)
		if (!strcmp(helps[i].name, name))
			return helps[i].text;
	return "";
}

void
cli_usage_all(FILE *out)
{
	const struct cli_command *c;

	fprintf(out,
		"usage: incident [-c CONFIG] [-d DATA_DIR] [--json] "
		"[--no-color] COMMAND ...\n\n"
		"Carries out the emergency-rollback runbook and records "
		"everything in a\ntamper-evident event log.\n\ncommands:\n");
	for (c = cli_commands; c->name; c++)
		fprintf(out, "  %-10s %s\n", c->name, c->summary);
	fprintf(out,
		"\nglobal options (before or after the command):\n"
		"  -c CONFIG      the configuration file (else "
		"$INCIDENT_CONFIG,\n"
		"                 ./incident.conf, "
		"/etc/incident/incident.conf)\n"
		"  -d DATA_DIR    the data directory (else $INCIDENT_DATA, "
		"core.data-dir)\n"
		"  --json         machine-readable JSON on stdout; progress "
		"on stderr\n"
		"  --no-color     no colour (also NO_COLOR=1)\n"
		"  --version      the version\n"
		"\nINC is INC-7, 7 or last.  Exit codes: 0 success, 1 the "
		"operation ran and\nfailed, 2 usage/configuration/input error "
		"(nothing changed), 3 locked.\n"
		"'incident help COMMAND' shows a command's options.\n"
		"See docs/guide.md and incident(1).\n");
}

void
cli_command_help(FILE *out, const struct cli_command *c)
{
	fprintf(out,
		"usage: incident [GLOBAL OPTIONS] %s\n\n%s.\n\n%s\n"
		"global options: -c CONFIG, -d DATA_DIR, --json, --no-color "
		"(see 'incident help')\n",
		c->usage, c->summary, help_text(c->name));
}

static json_t *
command_json(const struct cli_command *c)
{
	json_t *j = json_object();

	json_object_set_new(j, "name", json_string(c->name));
	json_object_set_new(j, "usage", json_string(c->usage));
	json_object_set_new(j, "summary", json_string(c->summary));
	json_object_set_new(j, "options", json_string(help_text(c->name)));
	return j;
}

int
cmd_help(struct cli *cli)
{
	const struct cli_command *c;
	json_t *arr;

	if (cli->argc > 2)
		return cli_unexpected(cli, 2);
	if (cli->argc == 2) {
		c = cli_find_command(cli->argv[1]);
		if (!c)
			return cli_usage(cli, "unknown command \"%s\"",
					 cli->argv[1]);
		if (cli->json)
			cli_print_json(command_json(c));
		else
			cli_command_help(stdout, c);
		return IR_EXIT_OK;
	}
	if (!cli->json) {
		cli_usage_all(stdout);
		return IR_EXIT_OK;
	}
	arr = json_array();
	for (c = cli_commands; c->name; c++)
		json_array_append_new(arr, command_json(c));
	cli_print_json(arr);
	return IR_EXIT_OK;
}
