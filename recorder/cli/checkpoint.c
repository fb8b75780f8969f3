/*
 * Signed checkpoints of the ledger (checkpoint.h): the key, the signer the
 * executor's world calls after each step's commit and at each close, the
 * anchors (DATA_DIR/checkpoints/latest, a git note on the deployed commit)
 * and `incident checkpoint`.
 *
 * The key is DATA_DIR/keys/checkpoint.key (made on first use, mode 0600)
 * or [checkpoint] key.  Every public key that ever signed is kept beside it
 * as DATA_DIR/keys/ed25519-<fingerprint>.pub: those are the pinned keys
 * verify --checkpoint checks signatures against, so a rotated key's
 * checkpoints stay verifiable.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.h"
#include "cli.h"
#include "gitops.h"
#include "hash.h"
#include "sign.h"

static void
key_path(const struct cli *cli, char *buf, size_t cap)
{
	if (cli->cfg && cli->cfg->checkpoint_key)
		snprintf(buf, cap, "%s", cli->cfg->checkpoint_key);
	else
		snprintf(buf, cap, "%s/keys/checkpoint.key", cli->data_dir);
}

/* The name a public key is pinned under: the first 8 bytes of its
 * SHA-256, in hex. */
static void
fingerprint(const uint8_t pub[IR_ED25519_PUB], char out[17])
{
	uint8_t h[IR_SHA256_LEN];

	ir_sha256(h, pub, IR_ED25519_PUB);
	ir_hex(out, h, 8);
}

/* Write (once) DATA_DIR/keys/ed25519-<fingerprint>.pub for pub. */
static int
pin(struct cli *cli, const uint8_t pub[IR_ED25519_PUB], struct ir_ctx *ctx)
{
	char dir[4200], path[4300], fp[17], pem[256];
	int fd, n;

	snprintf(dir, sizeof(dir), "%s/keys", cli->data_dir);
	n = cli_mkdir(dir, ctx);
	if (n)
		return n;
	fingerprint(pub, fp);
	snprintf(path, sizeof(path), "%s/ed25519-%s.pub", dir, fp);
	/* Pinned already (as every run after the first finds it): no PEM
	 * to encode, which costs OpenSSL 3 about 0.4 ms. */
	if (!access(path, F_OK))
		return 0;
	n = ir_pub_to_pem(pub, pem, sizeof(pem));
	if (n < 0)
		return n;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0644);
	if (fd < 0)
		return errno == EEXIST ? 0
				       : ir_error_set(ctx, -errno,
						      IR_ORIGIN_OS, errno,
						      "cannot write \"%s\": %s",
						      path, strerror(errno));
	if (write(fd, pem, (size_t)n) != n || fsync(fd)) {
		int e = errno ? errno : EIO;

		close(fd);
		unlink(path);
		return ir_error_set(ctx, -e, IR_ORIGIN_OS, e,
				    "cannot write \"%s\": %s", path,
				    strerror(e));
	}
	close(fd);
	return 0;
}

/* cli->ckey := the key at path (new: made there), its public half
 * pinned. */
static int
take_key(struct cli *cli, const char *path, bool new, struct ir_ctx *ctx)
{
	uint8_t pub[IR_ED25519_PUB];
	int rc;

	rc = new ? ir_key_create(&cli->ckey, path, ctx)
		 : ir_key_load(&cli->ckey, path, ctx);
	if (rc)
		return rc;
	ir_key_public(cli->ckey, pub);
	return pin(cli, pub, ctx);
}

/* The signing key, loaded once; the default one is made on first use. */
static int
signer(struct cli *cli, struct ir_ctx *ctx)
{
	char path[4200], dir[4200];
	int rc;

	if (cli->ckey)
		return 0;
	key_path(cli, path, sizeof(path));
	rc = take_key(cli, path, false, ctx);
	if (rc == -ENOENT && !cli->ckey &&
	    !(cli->cfg && cli->cfg->checkpoint_key)) {
		ctx->err.code = 0;
		snprintf(dir, sizeof(dir), "%s/keys", cli->data_dir);
		rc = cli_mkdir(dir, ctx);
		if (!rc)
			rc = take_key(cli, path, true, ctx);
	}
	return rc;
}

void
cli_checkpoint_origin(struct cli *cli, char *out, size_t cap)
{
	char host[256] = "localhost", id[2 * IR_EVLOG_ID_LEN + 1];

	gethostname(host, sizeof(host) - 1);
	host[strcspn(host, " \n")] = '\0';
	ir_hex(id, ir_evlog_id(cli->log), IR_EVLOG_ID_LEN);
	snprintf(out, cap, "%s/incident/%s", host, id);
}

/* DATA_DIR/checkpoints/latest := p[0, len), whole: the note is written
 * over DATA_DIR/checkpoints/previous (the one before last), in place,
 * and the two names are then exchanged in one rename (RENAME_EXCHANGE),
 * so a reader finds the one or the other note whole, never half.  No
 * file is created or removed after the first two: on an ext4 mounted
 * with discard, a new file and a rename over an old one cost a rollback
 * about 0.4 ms per checkpoint (perf: inode allocation and the discard of
 * the old inode's block).  Not synced: the note is a copy (the log holds
 * its root, the git note and the webhook carry it off the machine). */
static int
keep_latest(const char *dir, const void *p, size_t len, struct ir_ctx *ctx)
{
	char latest[4300], previous[4300];
	const char *path = latest;
	struct stat st;
	ssize_t n;
	int fd, e = 0;

	snprintf(latest, sizeof(latest), "%s/latest", dir);
	snprintf(previous, sizeof(previous), "%s/previous", dir);
	if (access(latest, F_OK))
		fd = open(latest, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				  O_CLOEXEC,
			  0644);
	else
		fd = open(path = previous,
			  O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		goto fail;
	n = pwrite(fd, p, len, 0);
	/* Cut only what the old note had beyond the new one: a truncate to
	 * the same size still walks ext4's truncate path. */
	if (n != (ssize_t)len)
		e = n < 0 ? errno : ENOSPC;
	else if (fstat(fd, &st))
		e = errno;
	else if (st.st_size > (off_t)len && ftruncate(fd, (off_t)len))
		e = errno;
	if (close(fd) && !e)
		e = errno;
	if (e) {
		errno = e;
		goto fail;
	}
	if (path == latest)
		return 0;
	if (!renameat2(AT_FDCWD, previous, AT_FDCWD, latest, RENAME_EXCHANGE))
		return 0;
	/* A file system without the exchange: previous goes, as a rename. */
	if ((errno == EINVAL || errno == ENOSYS) && !rename(previous, latest))
		return 0;
fail:
	e = errno;
	return ir_error_set(ctx, -e, IR_ORIGIN_OS, e, "cannot write \"%s\": %s",
			    path, strerror(e));
}

/* Sign head as cp (what: when it was taken) into note. */
static int
sign_only(struct cli *cli, const struct ir_ledger_head *head,
	  const char *what, struct ir_checkpoint *cp, struct ir_buf *note,
	  struct ir_ctx *ctx)
{
	struct timespec now;
	int rc;

	rc = signer(cli, ctx);
	if (rc)
		return rc;
	memset(cp, 0, sizeof(*cp));
	cli_checkpoint_origin(cli, cp->origin, sizeof(cp->origin));
	cp->size = head->size;
	memcpy(cp->root, head->root, sizeof(cp->root));
	clock_gettime(CLOCK_REALTIME, &now);
	cli_utc(cp->when, sizeof(cp->when),
		(int64_t)now.tv_sec * 1000000000 + now.tv_nsec);
	snprintf(cp->what, sizeof(cp->what), "%s", what);
	rc = ir_checkpoint_sign(cp, cli->ckey, note);
	if (rc)
		return ir_error_set(ctx, rc, IR_ORIGIN_OS, 0,
				    "cannot sign the checkpoint: %s",
				    strerror(-rc));
	return 0;
}

static int
keep_note(struct cli *cli, const struct ir_buf *note, struct ir_ctx *ctx)
{
	char dir[4200];
	int rc;

	snprintf(dir, sizeof(dir), "%s/checkpoints", cli->data_dir);
	rc = cli_mkdir(dir, ctx);
	if (rc)
		return rc;
	return keep_latest(dir, note->data, note->len, ctx);
}

/* The deployed commit's note gets the close's checkpoint. */
static int
anchor_git(struct cli *cli, const char *note, struct ir_ctx *ctx)
{
	char commit[IR_GIT_OID_HEX];
	struct ir_git *git = NULL;
	int rc;

	rc = ir_git_open(&git, cli->cfg->deploy_dir, ctx);
	if (!rc)
		rc = ir_git_head(git, commit, NULL, 0, NULL, ctx);
	if (!rc)
		rc = ir_git_note_append(git, CLI_NOTES_REF, commit, note,
					"incident", ctx);
	ir_git_close(git);
	return rc;
}

/* The note is kept, and at a close with git-notes anchored on the
 * deployed commit. */
static int
keep_all(struct cli *cli, const struct ir_buf *note, bool close,
	 struct ir_ctx *ctx)
{
	int rc = keep_note(cli, note, ctx);

	if (!rc && close && cli->cfg->checkpoint_git_notes)
		rc = anchor_git(cli, (const char *)note->data, ctx);
	return rc;
}

int
cli_world_checkpoint(void *self, const struct ir_ledger_head *head,
		     const char *what, unsigned how, struct ir_ctx *ctx)
{
	struct cli *cli = self;
	bool close = how & IR_CHECKPOINT_CLOSE;
	struct ir_checkpoint cp;
	struct ir_buf note = { 0 };
	int rc = 0;

	if ((how & IR_CHECKPOINT_SIGN) && (how & IR_CHECKPOINT_KEEP)) {
		rc = sign_only(cli, head, what, &cp, &note, ctx);
		if (!rc)
			rc = keep_all(cli, &note, close, ctx);
		ir_buf_clear(&note);
	} else if (how & IR_CHECKPOINT_SIGN) {
		ir_buf_clear(&cli->cp_note);
		rc = sign_only(cli, head, what, &cp, &cli->cp_note, ctx);
	} else if ((how & IR_CHECKPOINT_KEEP) && cli->cp_note.len) {
		rc = keep_all(cli, &cli->cp_note, close, ctx);
		ir_buf_clear(&cli->cp_note);
	}
	return rc;
}

/*
 * The pinned public keys: every DATA_DIR/keys/ed25519-*.pub, and the one
 * in extra (a PEM file: verify --key) when given.
 */
static int
add_pin(struct cli_pins *p, const char *path, struct ir_ctx *ctx)
{
	char pem[1024];
	size_t n;
	FILE *f;
	int rc;

	f = fopen(path, "re");
	if (!f)
		return ir_error_set(ctx, -errno, IR_ORIGIN_OS, errno,
				    "cannot read \"%s\": %s", path,
				    strerror(errno));
	n = fread(pem, 1, sizeof(pem), f);
	fclose(f);
	if (p->n == CLI_PINS_MAX)
		return 0;
	rc = ir_pub_from_pem(p->pub[p->n], pem, n);
	if (rc)
		return ir_error_set(ctx, -EINVAL, IR_ORIGIN_USAGE, 0,
				    "\"%s\" is no Ed25519 public key (PEM)",
				    path);
	p->n++;
	return 0;
}

int
cli_checkpoint_pins(struct cli *cli, const char *extra, struct cli_pins *p,
		    struct ir_ctx *ctx)
{
	char dir[4200], path[4500];
	struct dirent *e;
	DIR *d;
	int rc = 0;

	p->n = 0;
	if (extra)
		return add_pin(p, extra, ctx);
	snprintf(dir, sizeof(dir), "%s/keys", cli->data_dir);
	d = opendir(dir);
	if (!d)
		return 0;
	while (!rc && (e = readdir(d))) {
		size_t n = strlen(e->d_name);

		if (strncmp(e->d_name, "ed25519-", 8) || n < 12 ||
		    strcmp(e->d_name + n - 4, ".pub"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		rc = add_pin(p, path, ctx);
	}
	closedir(d);
	return rc;
}

bool
cli_checkpoint_pinned(const struct cli_pins *p, const struct ir_checkpoint *cp)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (ir_checkpoint_signed_by(cp, p->pub[i]))
			return true;
	return false;
}

/* --rotate-key: pin the old key's public half (already done when it
 * signed), remove the private one, make a new one. */
static int
rotate(struct cli *cli, struct ir_ctx *ctx)
{
	char path[4200];
	int rc;

	rc = signer(cli, ctx);
	if (rc)
		return rc;
	ir_key_free(cli->ckey);
	cli->ckey = NULL;
	key_path(cli, path, sizeof(path));
	if (unlink(path))
		return ir_error_set(ctx, -errno, IR_ORIGIN_OS, errno,
				    "cannot remove the old key \"%s\": %s",
				    path, strerror(errno));
	return take_key(cli, path, true, ctx);
}

static int
type_of(void *payload, const struct ir_event *ev, const void *raw, size_t len)
{
	snprintf(payload, 32, "%s", ev->type);
	return 1;
}

bool
cli_checkpoint_only_records(struct cli *cli, uint64_t from, uint64_t to)
{
	uint64_t i, id, seq;

	if (to <= from || to - from > 16)
		return false;
	for (i = from; i < to; i++) {
		struct ir_ctx ctx = { 0 };
		char type[32] = "";

		if (ir_evlog_ledger_leaf(cli->log, i, &id, &seq, &ctx) ||
		    ir_evlog_scan(cli->log, id, seq, 0, type_of, type, &ctx) ||
		    strcmp(type, "checkpoint"))
			return false;
	}
	return true;
}

/* DATA_DIR/checkpoints/latest, when it holds a note of this log. */
static bool
latest(struct cli *cli, struct ir_checkpoint *cp, char *text, size_t cap)
{
	struct ir_ctx ignored = { 0 };
	char path[4300], want[256];
	size_t n, pos = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/checkpoints/latest", cli->data_dir);
	f = fopen(path, "re");
	if (!f)
		return false;
	n = fread(text, 1, cap - 1, f);
	fclose(f);
	text[n] = '\0';
	cli_checkpoint_origin(cli, want, sizeof(want));
	return !ir_checkpoint_parse(cp, text, n, &pos, &ignored) &&
	       !strcmp(cp->origin, want);
}

static void
print_json(const struct ir_checkpoint *cp, const char *note, bool signed_now)
{
	char root[IR_SHA256_HEX];
	json_t *j = json_object();

	ir_hex(root, cp->root, sizeof(cp->root));
	json_object_set_new(j, "origin", json_string(cp->origin));
	json_object_set_new(j, "size", json_integer((json_int_t)cp->size));
	json_object_set_new(j, "root", json_string(root));
	json_object_set_new(j, "when", json_string(cp->when));
	json_object_set_new(j, "what", json_string(cp->what));
	json_object_set_new(j, "signed_now", json_boolean(signed_now));
	json_object_set_new(j, "note", json_string(note));
	cli_print_json(j);
}

int
cmd_checkpoint(struct cli *cli)
{
	struct ir_ledger_head head;
	struct ir_checkpoint cp;
	struct ir_buf note = { 0 };
	char text[IR_CHECKPOINT_BODY_MAX + 512], actor[300], what[400];
	bool rotate_key = false, fresh;
	int i, rc;

	for (i = 1; i < cli->argc; i++) {
		if (cli_flag(cli, &i, "--rotate-key"))
			rotate_key = true;
		else
			return cli_unexpected(cli, i);
	}
	rc = cli_open_log_readonly(cli);
	if (!rc)
		rc = ir_evlog_ledger_head(cli->log, &head, &cli->ctx);
	if (rc == -ENOENT)
		rc = ir_error_set(&cli->ctx, rc, IR_ORIGIN_LMDB, 0,
				  "the log has no ledger yet: it is made the "
				  "first time a command writes to the log");
	if (!rc && rotate_key)
		rc = rotate(cli, &cli->ctx);
	if (rc)
		return cli_fail(cli, rc);
	/* The latest, when it is of the ledger as it is now; else one
	 * signed now. */
	fresh = rotate_key || !latest(cli, &cp, text, sizeof(text)) ||
		(cp.size == head.size ? memcmp(cp.root, head.root, 32) != 0
				      : !cli_checkpoint_only_records(
						cli, cp.size, head.size));
	if (fresh) {
		cli_actor(actor, sizeof(actor));
		/* Cut to the note's field by sign_only. */
		snprintf(what, sizeof(what), "%s by %s",
			 rotate_key ? "key rotated" : "asked", actor);
		rc = sign_only(cli, &head, what, &cp, &note, &cli->ctx);
		if (!rc)
			rc = keep_note(cli, &note, &cli->ctx);
		if (rc) {
			ir_buf_clear(&note);
			return cli_fail(cli, rc);
		}
		snprintf(text, sizeof(text), "%s", (const char *)note.data);
		ir_buf_clear(&note);
	}
	if (cli->json)
		print_json(&cp, text, fresh);
	else
		fputs(text, stdout);
	return IR_EXIT_OK;
}
