/*
 * Ed25519 signatures and base64 (OpenSSL's libcrypto): a key in a PEM
 * file, a one-shot EVP_DigestSign over a message, a check against a raw
 * public key.
 */
#ifndef IR_SIGN_H
#define IR_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define IR_ED25519_PUB 32
#define IR_ED25519_SIG 64

struct ir_key;

/* Read the private key at path (PEM, PKCS#8).  A file others may read
 * (any group or other permission) is refused with -EPERM, as one that is
 * not an Ed25519 key is with -EINVAL. */
int ir_key_load(struct ir_key **out, const char *path,
		struct ir_ctx *ctx) IR_WUR;
/* Make a new key and write it to path (mode 0600, never over a file
 * that exists: -EEXIST). */
int ir_key_create(struct ir_key **out, const char *path,
		  struct ir_ctx *ctx) IR_WUR;
void ir_key_free(struct ir_key *key);
void ir_key_public(const struct ir_key *key, uint8_t pub[IR_ED25519_PUB]);
int ir_key_sign(const struct ir_key *key, const void *msg, size_t len,
		uint8_t sig[IR_ED25519_SIG]) IR_WUR;

/* Whether sig is key pub's signature of msg. */
bool ir_sig_check(const uint8_t pub[IR_ED25519_PUB], const void *msg,
		  size_t len, const uint8_t sig[IR_ED25519_SIG]);

/* A public key as PEM (SubjectPublicKeyInfo, what `openssl pkeyutl
 * -pubin` reads) into out (NUL-terminated, at most cap bytes): its
 * length, or -ENOSPC.  And back: -EINVAL for what is not one. */
int ir_pub_to_pem(const uint8_t pub[IR_ED25519_PUB], char *out, size_t cap);
int ir_pub_from_pem(uint8_t pub[IR_ED25519_PUB], const char *pem,
		    size_t len) IR_WUR;

/* Base64 (standard alphabet, padded) of n bytes into out, which holds
 * 4 * ((n + 2) / 3) + 1; its length. */
size_t ir_base64(char *out, const uint8_t *p, size_t n);
/* Decode at most cap bytes: the count, or -EINVAL. */
int ir_unbase64(uint8_t *out, size_t cap, const char *s, size_t len) IR_WUR;

#endif
