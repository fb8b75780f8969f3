/*
 * The rollback target, chosen by a pure function of what was read: the
 * deploy tags (oldest first) with each one's known-bad verdict, the commit
 * at HEAD and an explicit TAG.  The checkout step, the pre-flight and
 * `simulate` all choose through it; the checkout step records its input
 * as an observation (what: tags) before target.chosen.
 */
#ifndef IR_TARGET_H
#define IR_TARGET_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "value.h"

struct ir_tag_input {
	const char *name;
	const char *commit;
	bool known_bad;
	const char *why; /* why it is known-bad or known-good, or NULL */
	bool consulted;  /* known_bad, known_good and why hold the verdict */
	bool known_good;
};

struct ir_target_input {
	struct ir_tag_input *tags; /* matching deploy tags, by name */
	size_t n;
	const char *head;    /* the commit at HEAD */
	const char *pattern; /* deploy.tag-pattern, for the messages */
	/* An explicit TAG (NULL for the rules' choice), its commit and
	 * verdict. */
	struct ir_tag_input *asked;
	/* Fills a tag's verdict the first time the choice reads it: only
	 * those the choice reads are asked for, and recorded (the CLI's
	 * answers all come from one walk of the log).  NULL: every
	 * verdict is already there. */
	void (*consult)(void *payload, struct ir_tag_input *tag);
	void *payload;
};

/* The rollback target and why.  t->skipped (an array of maps tag/why:
 * the known-bad tags passed over) is the caller's to free with
 * ir_val_free(). */
struct ir_target {
	char from[256];
	char from_commit[41];
	char to[256];
	char to_commit[41];
	char why[512];
	struct ir_val *skipped;
	/* An explicit tag: whether it is known-bad, and what it is next to
	 * the deployed one ("... is known-bad (...)", "... is the deployed
	 * tag: ...", "... is newer than the deployed ...: a roll-forward"),
	 * "; "-separated; "" when nothing is worth saying. */
	bool known_bad;
	char note[768];
	const char *rule;
};

/* The deployed tag: the newest deploy tag at head; its index, or n. */
size_t ir_target_deployed(const struct ir_tag_input *tags, size_t n,
			  const char *head);

/* Choose: the asked tag, classified; else, among the tags older than the
 * deployed one (every tag when none is deployed) that are not at head,
 * the newest known-good one, else the newest that is not known-bad;
 * t->rule says which ("asked", "known-good", "not known-bad").  -ENOENT
 * (ctx says why) when there is none. */
int ir_target_choose(const struct ir_target_input *in, struct ir_target *t,
		     struct ir_ctx *ctx) IR_WUR;

/* The input as the checkout step records it (an observation's data,
 * without "what"): head, pattern, asked (map tag/commit/known_bad/why),
 * tags (the window the choice read, oldest first, each tag/commit, and
 * known_bad/why where the choice read the verdict) and omitted (tags of that window left out past
 * IR_LIMIT_TARGET_TAGS; then the input cannot be read back). */
struct ir_val *ir_target_record(const struct ir_target_input *in,
				const struct ir_target *t);

/* Read a recorded input back.  The strings point into obs; tags is an
 * array the caller frees with free().  -EINVAL when obs is not a whole
 * record (older log, or omitted tags). */
int ir_target_read(const struct ir_val *obs, struct ir_target_input *in,
		   struct ir_tag_input **tags, struct ir_tag_input *asked)
	IR_WUR;

#endif
