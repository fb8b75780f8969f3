#include "hash.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct ir_sha256 {
	EVP_MD_CTX *md;
};

/* EVP_sha256() looks the algorithm up on every call (OpenSSL 3), which
 * costs more than hashing a small event: fetch it once. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void
fetch_sha256(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *
md(void)
{
	pthread_once(&sha256_once, fetch_sha256);
	return sha256_md ? sha256_md : EVP_sha256();
}

/* The first fetch also initialises OpenSSL (its configuration, every
 * algorithm's name): about a millisecond, which a rollback spends on a
 * second core while it starts. */
static pthread_t warm_thread;
static bool warming;

static void *
warm(void *arg)
{
	(void)arg;
	md();
	return NULL;
}

void
ir_sha256_preload(void)
{
	if (!warming && !pthread_create(&warm_thread, NULL, warm, NULL))
		warming = true;
}

void
ir_sha256_release(void)
{
	if (warming)
		pthread_join(warm_thread, NULL);
	warming = false;
}

void
ir_sha256(uint8_t out[IR_SHA256_LEN], const void *p, size_t len)
{
	unsigned int n = IR_SHA256_LEN;

	EVP_Digest(p, len, out, &n, md(), NULL);
}

struct ir_sha256 *
ir_sha256_new(void)
{
	struct ir_sha256 *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->md = EVP_MD_CTX_new();
	if (!h->md || !EVP_DigestInit_ex(h->md, md(), NULL)) {
		ir_sha256_free(h);
		return NULL;
	}
	return h;
}

void
ir_sha256_update(struct ir_sha256 *h, const void *p, size_t len)
{
	EVP_DigestUpdate(h->md, p, len);
}

void
ir_sha256_final(struct ir_sha256 *h, uint8_t out[IR_SHA256_LEN])
{
	unsigned int n = IR_SHA256_LEN;

	EVP_DigestFinal_ex(h->md, out, &n);
	EVP_DigestInit_ex(h->md, md(), NULL);
}

void
ir_sha256_free(struct ir_sha256 *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->md);
	free(h);
}

void
ir_hex(char *out, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}
