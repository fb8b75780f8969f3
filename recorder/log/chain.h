/*
 * The hash-chain check of one scan, on a second thread.
 *
 * Hashing every stored record costs about as much as decoding it, so a
 * scan that checks the chain (verify, report, export) hands each record to
 * a checker thread and goes on decoding: the two halves run side by side.
 * The checker reads each record's `prev` from its last bytes
 * (ir_codec_prev_at_end(); the reader's own decoding makes sure they are
 * the prev), compares it with the SHA-256 of the record before, and
 * remembers the first that disagrees.  The thread starts with the first
 * full batch (2048 records); a shorter scan checks its records itself when
 * it waits or finishes, which costs less than starting a thread.
 *
 * Private to the event log: the records handed over point into its read
 * transaction, which must stay open until ir_chain_finish() returns.
 */
#ifndef IR_CHAIN_H
#define IR_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "error.h"

struct ir_chain;

/* Start a checker for a chain that begins with 32 zero bytes (seq 1).
 * -ENOMEM.  (When no thread can be started, the records are checked on
 * the caller's thread.) */
int ir_chain_start(struct ir_chain **out) IR_WUR;

/* Hand over the next record, seq 1, 2, 3 ... in order.  Returns 0, or
 * -EBADMSG once the checker has found a fault (ir_chain_finish() says
 * where): the scan may stop early. */
int ir_chain_push(struct ir_chain *c, const void *p, size_t len) IR_WUR;

/* Wait until the first n records handed over have been checked (before
 * the scan lets go of the pages they live in).  Returns at once when the
 * checker has already passed them, as it normally has. */
void ir_chain_wait(struct ir_chain *c, uint64_t n);

/* Check what is left and stop the thread.  0 with the SHA-256 of the last
 * record in head; or -EBADMSG with the seq of the first record whose prev
 * disagrees with the record before (or cannot be read) in *bad_seq. */
int ir_chain_finish(struct ir_chain *c, uint64_t *bad_seq,
		    uint8_t head[IR_HASH_LEN]) IR_WUR;

/* Stop the thread (if running) and release; NULL-safe. */
void ir_chain_free(struct ir_chain *c);

#endif
