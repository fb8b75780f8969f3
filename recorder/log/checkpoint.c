#include "checkpoint.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* U+2014, the em dash that opens a signature line. */
#define SIG_DASH "\xe2\x80\x94 "

bool
ir_checkpoint_of_event(const struct ir_event *ev, uint64_t *size,
		       const uint8_t **root)
{
	const struct ir_val *r;

	if (strcmp(ev->type, "checkpoint"))
		return false;
	r = ir_val_get(ev->data, "root");
	if (!r || r->type != IR_VAL_BIN || r->as.str.len != IR_SHA256_LEN)
		return false;
	*size = (uint64_t)ir_val_get_int(ev->data, "size", 0);
	*root = (const uint8_t *)r->as.str.ptr;
	return true;
}

void
ir_checkpoint_key_id(const char *name, const uint8_t pub[IR_ED25519_PUB],
		     uint8_t id[4])
{
	uint8_t buf[256 + 2 + IR_ED25519_PUB], h[IR_SHA256_LEN];
	size_t n = strnlen(name, 256);

	memcpy(buf, name, n);
	buf[n] = '\n';
	buf[n + 1] = 0x01; /* Ed25519 */
	memcpy(buf + n + 2, pub, IR_ED25519_PUB);
	ir_sha256(h, buf, n + 2 + IR_ED25519_PUB);
	memcpy(id, h, 4);
}

static int
body_format(struct ir_checkpoint *cp)
{
	char root[64];
	int n;

	ir_base64(root, cp->root, IR_SHA256_LEN);
	n = snprintf(cp->body, sizeof(cp->body),
		     "%s\n%" PRIu64 "\n%s\nincident %s %s\n", cp->origin,
		     cp->size, root, cp->when, cp->what);
	if (n < 0 || (size_t)n >= sizeof(cp->body))
		return -ENAMETOOLONG;
	cp->body_len = (size_t)n;
	return 0;
}

int
ir_checkpoint_sign(struct ir_checkpoint *cp, const struct ir_key *key,
		   struct ir_buf *out)
{
	uint8_t pub[IR_ED25519_PUB], blob[4 + IR_ED25519_SIG];
	char b64[128];
	int rc;

	if (strchr(cp->origin, '\n') || strchr(cp->origin, ' ') ||
	    strchr(cp->what, '\n') || !cp->origin[0])
		return -EINVAL;
	rc = body_format(cp);
	if (rc)
		return rc;
	ir_key_public(key, pub);
	snprintf(cp->key_name, sizeof(cp->key_name), "%s", cp->origin);
	ir_checkpoint_key_id(cp->key_name, pub, cp->key_id);
	rc = ir_key_sign(key, cp->body, cp->body_len, cp->sig);
	if (rc)
		return rc;
	memcpy(blob, cp->key_id, 4);
	memcpy(blob + 4, cp->sig, IR_ED25519_SIG);
	ir_base64(b64, blob, sizeof(blob));
	rc = ir_buf_add(out, cp->body, cp->body_len);
	if (!rc)
		rc = ir_buf_printf(out, "\n" SIG_DASH "%s %s\n", cp->key_name,
				   b64);
	return rc;
}

/* The next line of text from *pos (without its newline): its length, or
 * -1 at the end or for a last line with no newline. */
static long
next_line(const char *text, size_t len, size_t *pos, const char **line)
{
	const char *p = text + *pos, *nl;

	if (*pos >= len)
		return -1;
	nl = memchr(p, '\n', len - *pos);
	if (!nl)
		return -1;
	*line = p;
	*pos += (size_t)(nl - p) + 1;
	return nl - p;
}

static int
bad(struct ir_ctx *ctx, const char *why)
{
	return ir_error_set(ctx, -EBADMSG, IR_ORIGIN_NONE, 0,
			    "not a checkpoint: %s", why);
}

static int
parse_body(struct ir_checkpoint *cp, struct ir_ctx *ctx)
{
	const char *line[4];
	long n[4];
	size_t pos = 0;
	char num[24], *end;
	int i, got;

	for (i = 0; i < 4; i++) {
		n[i] = next_line(cp->body, cp->body_len, &pos, &line[i]);
		if (n[i] <= 0)
			return bad(ctx, "it has fewer than four lines");
	}
	if ((size_t)n[0] >= sizeof(cp->origin) || (size_t)n[1] >= sizeof(num))
		return bad(ctx, "its origin or size is too long");
	memcpy(cp->origin, line[0], (size_t)n[0]);
	cp->origin[n[0]] = '\0';
	memcpy(num, line[1], (size_t)n[1]);
	num[n[1]] = '\0';
	errno = 0;
	cp->size = strtoull(num, &end, 10);
	if (errno || *end || num[0] < '0' || num[0] > '9' ||
	    (num[0] == '0' && num[1]))
		return bad(ctx, "its second line is not a tree size");
	got = ir_unbase64(cp->root, sizeof(cp->root), line[2], (size_t)n[2]);
	if (got != IR_SHA256_LEN)
		return bad(ctx, "its third line is not a SHA-256 root");
	/* Our extension line, when it is there: "incident WHEN WHAT". */
	cp->when[0] = cp->what[0] = '\0';
	if (n[3] > 9 && !memcmp(line[3], "incident ", 9)) {
		char ext[256];
		const char *sp;

		snprintf(ext, sizeof(ext), "%.*s", (int)n[3] - 9, line[3] + 9);
		sp = strchr(ext, ' ');
		snprintf(cp->when, sizeof(cp->when), "%.*s",
			 sp ? (int)(sp - ext) : (int)strlen(ext), ext);
		snprintf(cp->what, sizeof(cp->what), "%s", sp ? sp + 1 : "");
	}
	return 0;
}

int
ir_checkpoint_parse(struct ir_checkpoint *cp, const char *text, size_t len,
		    size_t *pos, struct ir_ctx *ctx)
{
	const char *line, *start;
	uint8_t blob[4 + IR_ED25519_SIG + 8];
	bool found = false;
	size_t at;
	long n;
	int got;

	memset(cp, 0, sizeof(*cp));
	/* Blank lines between notes. */
	for (;;) {
		at = *pos;
		n = next_line(text, len, &at, &line);
		if (n < 0)
			return *pos >= len ? 1 : bad(ctx, "no newline at its end");
		if (n)
			break;
		*pos = at;
	}
	start = text + *pos;
	while ((n = next_line(text, len, pos, &line)) > 0)
		;
	if (n < 0)
		return bad(ctx, "no blank line before its signature");
	cp->body_len = (size_t)(line - start);
	if (cp->body_len >= sizeof(cp->body))
		return bad(ctx, "its body is too long");
	memcpy(cp->body, start, cp->body_len);
	if (parse_body(cp, ctx))
		return -EBADMSG;
	/* The signature lines: ours is the first one that decodes. */
	while (*pos < len && !memcmp(text + *pos, SIG_DASH, 4)) {
		const char *sp;

		n = next_line(text, len, pos, &line);
		if (n < 0)
			return bad(ctx, "no newline after a signature");
		sp = n > 4 ? memchr(line + 4, ' ', (size_t)n - 4) : NULL;
		if (!sp || found)
			continue;
		got = ir_unbase64(blob, sizeof(blob), sp + 1,
				  (size_t)(line + n - sp - 1));
		if (got != 4 + IR_ED25519_SIG)
			continue;
		snprintf(cp->key_name, sizeof(cp->key_name), "%.*s",
			 (int)(sp - line - 4), line + 4);
		memcpy(cp->key_id, blob, 4);
		memcpy(cp->sig, blob + 4, IR_ED25519_SIG);
		found = true;
	}
	if (!found)
		return bad(ctx, "it has no Ed25519 signature line");
	return 0;
}

bool
ir_checkpoint_signed_by(const struct ir_checkpoint *cp,
			const uint8_t pub[IR_ED25519_PUB])
{
	uint8_t id[4];

	ir_checkpoint_key_id(cp->key_name, pub, id);
	return !memcmp(id, cp->key_id, 4) &&
	       ir_sig_check(pub, cp->body, cp->body_len, cp->sig);
}
