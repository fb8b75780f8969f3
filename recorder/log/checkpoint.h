/*
 * A checkpoint of the ledger as a C2SP signed note
 * (c2sp.org/tlog-checkpoint, c2sp.org/signed-note): the body is the
 * origin, the tree size and its root in base64, one line each, and one
 * extension line of ours ("incident TIME WHAT"); after a blank line, the
 * signature line "— NAME BASE64(key id || Ed25519 signature of the
 * body)".  The key id is the first 4 bytes of SHA-256(NAME || "\n" ||
 * 0x01 || public key).
 */
#ifndef IR_CHECKPOINT_H
#define IR_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "codec.h"
#include "error.h"
#include "hash.h"
#include "sign.h"

#define IR_CHECKPOINT_BODY_MAX 1024

struct ir_checkpoint {
	char origin[256]; /* HOST/incident/LOG-ID */
	uint64_t size;
	uint8_t root[IR_SHA256_LEN];
	char when[32];  /* UTC, RFC 3339 */
	char what[128]; /* "INC-7 after backup", "INC-7 closed" */
	/* As read from a note: */
	char body[IR_CHECKPOINT_BODY_MAX];
	size_t body_len;
	char key_name[256];
	uint8_t key_id[4];
	uint8_t sig[IR_ED25519_SIG];
};

/* Sign cp's fields (origin, size, root, when, what) with key under
 * cp->origin as the key's name, and append the note to out. */
int ir_checkpoint_sign(struct ir_checkpoint *cp, const struct ir_key *key,
		       struct ir_buf *out) IR_WUR;

/* Read the next note from text[*pos, len), skipping blank lines before
 * it: 0 and *pos past it, 1 at the end, or -EBADMSG (ctx says why). */
int ir_checkpoint_parse(struct ir_checkpoint *cp, const char *text,
			size_t len, size_t *pos, struct ir_ctx *ctx) IR_WUR;

/* Whether cp bears a good signature of pub under its key name. */
bool ir_checkpoint_signed_by(const struct ir_checkpoint *cp,
			     const uint8_t pub[IR_ED25519_PUB]);

void ir_checkpoint_key_id(const char *name, const uint8_t pub[IR_ED25519_PUB],
			  uint8_t id[4]);

/* Whether ev (decoded) is a `checkpoint` event that names a signed root
 * (not one that says why none was signed): the ledger's size and root it
 * records (borrowed from ev). */
bool ir_checkpoint_of_event(const struct ir_event *ev, uint64_t *size,
			    const uint8_t **root);

#endif
