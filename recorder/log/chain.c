#include "chain.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

/*
 * Records travel in batches through a small ring, so the two threads meet
 * (lock, signal) once per batch rather than once per record.
 */
#define BATCH 2048
#define SLOTS 4

struct batch {
	size_t n;
	struct {
		const void *p;
		size_t len;
	} rec[BATCH];
};

struct ir_chain {
	pthread_t thread;
	bool running;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct batch slots[SLOTS];
	uint64_t filled;   /* batches handed over (the one at filled % SLOTS
			      is being filled) */
	uint64_t checked;  /* batches the checker is done with */
	uint64_t pushed;   /* records handed over (or being filled) */
	uint64_t passed;   /* records in the batches checked */
	bool closing;      /* no more batches will come */
	bool broken;       /* the checker found a fault */

	/* The checker's own (read by the scan only after the join or under
	 * the lock). */
	struct ir_sha256 *sha;
	uint8_t last[IR_HASH_LEN]; /* SHA-256 of the record before */
	uint64_t seq;              /* records checked */
	uint64_t bad_seq;
};

static bool
check_batch(struct ir_chain *c, const struct batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		/* The reader checks that these bytes are the record's prev
		 * (ir_codec_view()); here they only need to be found. */
		const uint8_t *prev = ir_codec_prev_at_end(b->rec[i].p,
							   b->rec[i].len);

		c->seq++;
		if (!prev || memcmp(prev, c->last, IR_HASH_LEN)) {
			c->bad_seq = c->seq;
			return false;
		}
		ir_sha256_update(c->sha, b->rec[i].p, b->rec[i].len);
		ir_sha256_final(c->sha, c->last);
	}
	return true;
}

static void *
checker(void *arg)
{
	struct ir_chain *c = arg;
	bool ok = true;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		const struct batch *b;

		while (c->checked == c->filled && !c->closing)
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->checked == c->filled)
			break;
		b = &c->slots[c->checked % SLOTS];
		pthread_mutex_unlock(&c->mu);
		if (ok)
			ok = check_batch(c, b);
		pthread_mutex_lock(&c->mu);
		c->checked++;
		c->passed += b->n;
		if (!ok)
			c->broken = true;
		pthread_cond_broadcast(&c->cv);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

int
ir_chain_start(struct ir_chain **out)
{
	struct ir_chain *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->sha = ir_sha256_new();
	if (!c->sha) {
		free(c);
		return -ENOMEM;
	}
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	*out = c;
	return 0;
}

/* Without a checker thread: check the batch being filled here. */
static bool
check_here(struct ir_chain *c)
{
	struct batch *b = &c->slots[c->filled % SLOTS];

	if (!c->broken && !check_batch(c, b))
		c->broken = true;
	c->passed += b->n;
	b->n = 0;
	return !c->broken;
}

/* Hand the batch being filled to the checker (if it holds anything) and
 * wait for a free slot to fill next.  The checker starts with the first
 * full batch: a scan of fewer records (a rollback's report) checks them
 * itself at the end rather than pay for a thread. */
static bool
hand_over(struct ir_chain *c)
{
	bool broken;

	if (!c->running) {
		if (c->slots[c->filled % SLOTS].n < BATCH ||
		    pthread_create(&c->thread, NULL, checker, c))
			return check_here(c);
		c->running = true;
	}
	pthread_mutex_lock(&c->mu);
	if (c->slots[c->filled % SLOTS].n) {
		c->filled++;
		pthread_cond_broadcast(&c->cv);
	}
	while (c->filled - c->checked == SLOTS)
		pthread_cond_wait(&c->cv, &c->mu);
	c->slots[c->filled % SLOTS].n = 0;
	broken = c->broken;
	pthread_mutex_unlock(&c->mu);
	return !broken;
}

int
ir_chain_push(struct ir_chain *c, const void *p, size_t len)
{
	struct batch *b = &c->slots[c->filled % SLOTS];

	b->rec[b->n].p = p;
	b->rec[b->n].len = len;
	c->pushed++;
	if (++b->n < BATCH)
		return 0;
	return hand_over(c) ? 0 : -EBADMSG;
}

void
ir_chain_wait(struct ir_chain *c, uint64_t n)
{
	if (n > c->pushed)
		n = c->pushed;
	pthread_mutex_lock(&c->mu);
	if (c->passed >= n) {
		pthread_mutex_unlock(&c->mu);
		return;
	}
	pthread_mutex_unlock(&c->mu);
	/* Hand over the batch being filled: the checker may need it. */
	hand_over(c);
	pthread_mutex_lock(&c->mu);
	while (c->passed < n && c->checked != c->filled)
		pthread_cond_wait(&c->cv, &c->mu);
	pthread_mutex_unlock(&c->mu);
}

static void
stop(struct ir_chain *c)
{
	if (!c->running)
		return;
	pthread_mutex_lock(&c->mu);
	c->closing = true;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	c->running = false;
}

int
ir_chain_finish(struct ir_chain *c, uint64_t *bad_seq,
		uint8_t head[IR_HASH_LEN])
{
	hand_over(c);
	stop(c);
	if (c->bad_seq) {
		*bad_seq = c->bad_seq;
		return -EBADMSG;
	}
	memcpy(head, c->last, IR_HASH_LEN);
	return 0;
}

void
ir_chain_free(struct ir_chain *c)
{
	if (!c)
		return;
	stop(c);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	ir_sha256_free(c->sha);
	free(c);
}
