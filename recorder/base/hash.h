/*
 * SHA-256 (OpenSSL's libcrypto), one-shot and streaming.
 */
#ifndef IR_HASH_H
#define IR_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define IR_SHA256_LEN 32
#define IR_SHA256_HEX (2 * IR_SHA256_LEN + 1)

struct ir_sha256;

/* out = SHA-256(p[0..len)). */
void ir_sha256(uint8_t out[IR_SHA256_LEN], const void *p, size_t len);

/* Streaming: _new (NULL when out of memory), _update, _final (the context
 * may be reused after _final), _free (NULL-safe). */
struct ir_sha256 *ir_sha256_new(void);
void ir_sha256_update(struct ir_sha256 *h, const void *p, size_t len);
void ir_sha256_final(struct ir_sha256 *h, uint8_t out[IR_SHA256_LEN]);
void ir_sha256_free(struct ir_sha256 *h);

/* Initialise SHA-256 (OpenSSL's first fetch) on a thread now, from the
 * main thread, before hashing; ir_sha256_release() joins it (also from
 * the main thread, before exit). */
void ir_sha256_preload(void);
void ir_sha256_release(void);

/* Lower-case hex of n bytes into out (2n+1 bytes). */
void ir_hex(char *out, const uint8_t *p, size_t n);

#endif
