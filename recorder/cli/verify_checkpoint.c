/*
 * `incident verify --checkpoint FILE|git`: the log against signed
 * checkpoints kept somewhere else.  Each checkpoint's signature is checked
 * against the pinned keys; then the ledger recomputed from the events
 * must reach the checkpoint's size (else the tail was cut) and have its
 * root there (else the log was rewritten before it), and a consistency
 * proof (RFC 9162) from the newest good checkpoint to the ledger now must
 * hold.  What was committed after the newest anchor is said to be
 * unprotected.
 */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "cli.h"
#include "gitops.h"
#include "hash.h"
#include "merkle.h"

struct cp_set {
	struct ir_checkpoint *cp;
	size_t n, cap;
	size_t foreign; /* of other logs (git) */
	size_t replaced; /* ... and signed by a pinned key */
	char replaced_origin[256];
	const struct cli_pins *pins;
	const char *src;
	bool from_git;
	struct cli *cli;
	char origin[256];
	char fault[1024];
};

static int
fault(struct cp_set *s, const char *fmt, ...) IR_PRINTF(2, 3);

static int
fault(struct cp_set *s, const char *fmt, ...)
{
	va_list ap;

	if (s->fault[0])
		return 0;
	va_start(ap, fmt);
	vsnprintf(s->fault, sizeof(s->fault), fmt, ap);
	va_end(ap);
	return 0;
}

/* "2026-12-03T10:01:02Z, INC-3 closed, on host" */
static void
describe(const struct ir_checkpoint *cp, char *out, size_t cap)
{
	size_t host = strcspn(cp->origin, "/");

	snprintf(out, cap, "%s, %s, on %.*s", cp->when, cp->what, (int)host,
		 cp->origin);
}

/* Each note in text[0, len). */
static int
add_notes(struct cp_set *s, const char *text, size_t len, const char *where)
{
	size_t pos = 0;

	for (;;) {
		struct ir_ctx ctx = { 0 };
		struct ir_checkpoint cp;
		int rc = ir_checkpoint_parse(&cp, text, len, &pos, &ctx);

		if (rc == 1)
			return 0;
		if (rc)
			return fault(s, "%s holds what is not a signed "
				     "checkpoint: %s",
				     where, ir_error_msg(&ctx, rc));
		/* A deploy repository may carry other logs' notes. */
		if (s->from_git && strcmp(cp.origin, s->origin)) {
			/* Signed with this data directory's key for a log of
			 * another id: the one that was here. */
			if (cli_checkpoint_pinned(s->pins, &cp) &&
			    !s->replaced++)
				snprintf(s->replaced_origin,
					 sizeof(s->replaced_origin), "%s",
					 cp.origin);
			s->foreign++;
			continue;
		}
		if (s->n == s->cap) {
			size_t cap = s->cap ? 2 * s->cap : 8;
			void *p = realloc(s->cp, cap * sizeof(*s->cp));

			if (!p)
				return -ENOMEM;
			s->cp = p;
			s->cap = cap;
		}
		s->cp[s->n++] = cp;
	}
}

static int
git_note(void *payload, const char *commit, const char *text, size_t len)
{
	char where[128];

	snprintf(where, sizeof(where), "the note of %.12s", commit);
	return add_notes(payload, text, len, where);
}

/* Every note under the ref in deploy.dir. */
static int
gather_git(struct cp_set *s, struct ir_ctx *ctx)
{
	const char *deploy = s->cli->cfg->deploy_dir;
	struct ir_git *git = NULL;
	int rc;

	rc = ir_git_open(&git, deploy, ctx);
	if (!rc)
		rc = ir_git_notes(git, CLI_NOTES_REF, git_note, s, ctx);
	ir_git_close(git);
	if (rc)
		return rc;
	if (s->replaced)
		fault(s, "%zu checkpoint%s under %s %s signed with this data "
			 "directory's key for another log (%s), not this one "
			 "(%s): the log was replaced",
		      s->replaced, s->replaced == 1 ? "" : "s", CLI_NOTES_REF,
		      s->replaced == 1 ? "is" : "are", s->replaced_origin,
		      s->origin);
	if (!s->n)
		fault(s, "no checkpoint of this log (%s) under %s in \"%s\"%s",
		      s->origin, CLI_NOTES_REF, deploy,
		      s->foreign ? ", only other logs' ones: this log was "
				   "replaced, or never anchored there"
				 : "");
	return 0;
}

/* Every note in the file src: at most CHECKPOINTS_FILE_MAX bytes. */
#define CHECKPOINTS_FILE_MAX (16u << 20)
static int
gather_file(struct cp_set *s, struct ir_ctx *ctx)
{
	struct ir_buf text = IR_BUF_INIT(CHECKPOINTS_FILE_MAX);
	char chunk[65536];
	size_t got;
	FILE *f = fopen(s->src, "re");
	int rc = 0;

	if (!f)
		return ir_error_set(ctx, -errno, IR_ORIGIN_USAGE, errno,
				    "cannot read \"%s\": %s", s->src,
				    strerror(errno));
	while (!rc && (got = fread(chunk, 1, sizeof(chunk), f)))
		rc = ir_buf_add(&text, chunk, got);
	fclose(f);
	if (rc == -ENOSPC)
		rc = ir_error_set(ctx, -EFBIG, IR_ORIGIN_USAGE, 0,
				  "\"%s\" is larger than %u MiB: no file of "
				  "checkpoints",
				  s->src, CHECKPOINTS_FILE_MAX >> 20);
	if (!rc)
		rc = add_notes(s, (const char *)text.data, text.len, s->src);
	ir_buf_clear(&text);
	if (!rc && !s->n)
		fault(s, "\"%s\" holds no checkpoint", s->src);
	return rc;
}

static int
by_size(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/* The signatures and origins; the sizes to recompute roots at, ascending
 * and each once. */
static int
check_notes(struct cp_set *s, uint64_t **at, size_t *n_at)
{
	char what[512], id[9];
	size_t i;

	for (i = 0; i < s->n && !s->fault[0]; i++) {
		const struct ir_checkpoint *cp = &s->cp[i];

		describe(cp, what, sizeof(what));
		ir_hex(id, cp->key_id, 4);
		if (strcmp(cp->origin, s->origin))
			return fault(s, "the checkpoint of %s is of another "
					"log (%s), not of this one (%s): the "
					"log was replaced",
				     what, cp->origin, s->origin);
		if (!cli_checkpoint_pinned(s->pins, cp))
			return fault(s, "the checkpoint of %s is not signed "
					"by a pinned key (its key id is %s): "
					"refused",
				     what, id);
	}
	*at = calloc(s->n ? s->n : 1, sizeof(**at));
	if (!*at)
		return -ENOMEM;
	for (i = 0; i < s->n; i++)
		(*at)[i] = s->cp[i].size;
	qsort(*at, s->n, sizeof(**at), by_size);
	*n_at = 0;
	for (i = 0; i < s->n; i++)
		if (!*n_at || (*at)[*n_at - 1] != (*at)[i])
			(*at)[(*n_at)++] = (*at)[i];
	return 0;
}

/* Of the recomputed roots, the one at size. */
static const uint8_t *
root_at(const struct ir_ledger_check *c, uint64_t size)
{
	size_t i;

	for (i = 0; i < c->n_found; i++)
		if (c->at[i] == size)
			return c->roots[i];
	return NULL;
}

/* Judge each checkpoint against the recomputed roots; *best the newest
 * that holds. */
static int
judge(struct cp_set *s, struct ir_ledger_check *c,
      const struct ir_checkpoint **best, struct ir_ctx *ctx)
{
	const struct ir_checkpoint *cut = NULL, *rewritten = NULL;
	char what[512], had[IR_SHA256_HEX], is[IR_SHA256_HEX];
	const uint8_t *root;
	uint64_t id = 0, seq = 0;
	size_t i;
	int rc;

	*best = NULL;
	for (i = 0; i < s->n; i++) {
		const struct ir_checkpoint *cp = &s->cp[i];

		root = root_at(c, cp->size);
		if (cp->size > c->size) {
			if (!cut || cp->size > cut->size)
				cut = cp;
		} else if (!root || memcmp(root, cp->root, IR_SHA256_LEN)) {
			if (!rewritten || cp->size < rewritten->size)
				rewritten = cp;
		} else if (!*best || cp->size > (*best)->size) {
			*best = cp;
		}
	}
	if (rewritten) {
		describe(rewritten, what, sizeof(what));
		root = root_at(c, rewritten->size);
		ir_hex(had, rewritten->root, IR_SHA256_LEN);
		ir_hex(is, root ? root : rewritten->root, IR_SHA256_LEN);
		if (rewritten->size) {
			rc = ir_evlog_ledger_leaf(s->cli->log,
						  rewritten->size - 1, &id,
						  &seq, ctx);
			if (rc)
				return rc;
		}
		return fault(s, "log rewritten before INC-%llu seq %llu: the "
				"root of its first %llu events is %.16s…, the "
				"checkpoint of %s signed %.16s…",
			     (unsigned long long)id, (unsigned long long)seq,
			     (unsigned long long)rewritten->size, is, what,
			     had);
	}
	if (cut) {
		describe(cut, what, sizeof(what));
		return fault(s, "log truncated: %llu events, the checkpoint "
				"of %s says %llu",
			     (unsigned long long)c->size, what,
			     (unsigned long long)cut->size);
	}
	return 0;
}

/* The proof that the ledger now extends the tree cp signed. */
static int
prove(struct cp_set *s, const struct ir_ledger_check *c,
      const struct ir_checkpoint *cp, size_t *len, struct ir_ctx *ctx)
{
	uint8_t proof[IR_MERKLE_PROOF_MAX * IR_SHA256_LEN];
	int rc;

	*len = 0;
	if (!cp->size)
		return 0;
	rc = ir_evlog_ledger_proof(s->cli->log, cp->size, c->size, proof, len,
				   ctx);
	if (rc)
		return rc;
	if (!ir_merkle_consistent(cp->size, c->size, cp->root, c->root, proof,
				  *len))
		fault(s, "the ledger's %llu events do not extend the "
			 "checkpoint's %llu: the consistency proof fails",
		      (unsigned long long)c->size,
		      (unsigned long long)cp->size);
	return 0;
}

int
cli_verify_checkpoints(struct cli *cli, const char *src,
		       const struct cli_pins *pins, void *json, char *msg,
		       size_t cap)
{
	struct cp_set s = { .src = src, .cli = cli, .pins = pins };
	struct ir_ledger_check c = { 0 };
	const struct ir_checkpoint *best = NULL;
	uint64_t *at = NULL;
	size_t n_at = 0, len = 0;
	int rc;

	s.from_git = !strcmp(src, "git");
	cli_checkpoint_origin(cli, s.origin, sizeof(s.origin));
	rc = 0;
	if (!pins->n)
		fault(&s, "no pinned key to check signatures against: \"%s/"
			  "keys\" has no ed25519-*.pub (give --key PUB.pem)",
		      cli->data_dir);
	if (!s.fault[0])
		rc = s.from_git ? gather_git(&s, &cli->ctx)
				: gather_file(&s, &cli->ctx);
	if (!rc && !s.fault[0])
		rc = check_notes(&s, &at, &n_at);
	if (!rc && !s.fault[0]) {
		c.at = at;
		c.n_at = n_at;
		c.roots = calloc(n_at ? n_at : 1, sizeof(*c.roots));
		rc = c.roots ? ir_evlog_ledger_verify(cli->log, &c, &cli->ctx)
			     : -ENOMEM;
		/* A ledger that does not match its own events: the plain
		 * check has said so. */
		if (rc == -EBADMSG || rc == -ENOENT) {
			fault(&s, "%s", ir_error_msg(&cli->ctx, rc));
			ir_error_clear(&cli->ctx);
			rc = 0;
		}
	}
	if (!rc && !s.fault[0])
		rc = judge(&s, &c, &best, &cli->ctx);
	if (!rc && !s.fault[0] && best)
		rc = prove(&s, &c, best, &len, &cli->ctx);
	if (!rc && json) {
		json_t *j = json_object();

		json_object_set_new(j, "source", json_string(src));
		json_object_set_new(j, "checked",
				    json_integer((json_int_t)s.n));
		json_object_set_new(j, "ok", json_boolean(!s.fault[0]));
		if (best) {
			char root[IR_SHA256_HEX];

			ir_hex(root, best->root, IR_SHA256_LEN);
			json_object_set_new(j, "size",
					    json_integer((json_int_t)best->size));
			json_object_set_new(j, "root", json_string(root));
			json_object_set_new(j, "when", json_string(best->when));
			json_object_set_new(j, "what", json_string(best->what));
			json_object_set_new(
				j, "unprotected",
				json_integer((json_int_t)(c.size - best->size)));
			json_object_set_new(
				j, "unprotected_only_checkpoints",
				json_boolean(cli_checkpoint_only_records(
					cli, best->size, c.size)));
		}
		if (s.fault[0])
			json_object_set_new(j, "error", json_string(s.fault));
		json_object_set_new(json, "checkpoint", j);
	} else if (!rc && !s.fault[0] && best) {
		char what[512];

		describe(best, what, sizeof(what));
		printf("checkpoint: %zu checked; the newest, of %s, signed %llu "
		       "events: the log holds them unchanged (consistency "
		       "proof of %zu hashes)\n",
		       s.n, what, (unsigned long long)best->size, len);
		if (c.size > best->size &&
		    cli_checkpoint_only_records(cli, best->size, c.size))
			printf("checkpoint: after it, only the checkpoint "
			       "event%s that record%s it\n",
			       c.size - best->size == 1 ? "" : "s",
			       c.size - best->size == 1 ? "s" : "");
		else if (c.size > best->size)
			printf("checkpoint: the %llu event%s after it %s not "
			       "protected by any anchor\n",
			       (unsigned long long)(c.size - best->size),
			       c.size - best->size == 1 ? "" : "s",
			       c.size - best->size == 1 ? "is" : "are");
	}
	if (!rc && s.fault[0])
		snprintf(msg, cap, "%s", s.fault);
	free(c.roots);
	free(at);
	free(s.cp);
	return rc;
}
