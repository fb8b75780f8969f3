/*
 * The event log: an append-only, hash-chained log of incidents in an LMDB
 * environment (DATA_DIR/log).  The only module that includes <lmdb.h>; LMDB
 * memory never leaves it, every record is decoded inside its transaction.
 *
 * Every append is one write transaction committed with LMDB's default sync,
 * so an event is durable when the call returns 0.
 */
#ifndef IR_EVLOG_H
#define IR_EVLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "error.h"

struct ir_evlog;

/* The incident header (db `incidents`), kept current by every append. */
struct ir_incident {
	uint64_t id;
	char kind[16];
	char status[16]; /* open, succeeded, failed, aborted */
	int64_t opened;  /* ns since the epoch */
	int64_t closed;  /* 0 while open */
	char from[256];
	char target[256];
	uint64_t events; /* the last seq */
	uint8_t head[IR_HASH_LEN];
};

/* Open (creating) the log under data_dir/log; data_dir and the environment
 * are made with mode 0700.  Stale reader slots are cleared.  *out is the
 * caller's, closed with ir_evlog_close(). */
int ir_evlog_open(struct ir_evlog **out, const char *data_dir,
		  struct ir_ctx *ctx) IR_WUR;
/* Open an existing log only to read it (MDB_RDONLY): nothing under
 * data_dir is created or written, and where lock.mdb cannot be written
 * (a read-only copy or mount) not even LMDB's reader table.  A log that
 * does not exist yet is opened as ir_evlog_open() would.  Appends fail. */
int ir_evlog_open_readonly(struct ir_evlog **out, const char *data_dir,
			   struct ir_ctx *ctx) IR_WUR;
/* A damaged page that the checks at open cannot see may still trip one
 * of LMDB's own assertions while it is read, and LMDB then abort()s the
 * process.  fn, when set, is called first with the file and LMDB's words,
 * so that the caller can say so plainly and end the process itself. */
typedef void (*ir_evlog_damage_fn)(const char *file, const char *what);
void ir_evlog_set_damage_handler(ir_evlog_damage_fn fn);
/* Whether the process is inside LMDB walking the log's pages (never true
 * inside a caller's callback); async-signal-safe, for a fault handler
 * that would name a damaged log rather than crash. */
bool ir_evlog_reading(void);
/* Both opens hold data.mdb to its meta pages before LMDB maps it: a file
 * cut short, one without LMDB's meta pages, or an empty one where the data
 * directory shows that incidents were recorded is -EBADMSG, "the event
 * log DATA_DIR/log/data.mdb is damaged: ...". */
void ir_evlog_close(struct ir_evlog *log);
/* Opening refuses (-EPERM) a log folder or file that others may access;
 * a data directory open to others is only a warning, returned here (NULL
 * when there is none; valid while log is). */
const char *ir_evlog_warning(const struct ir_evlog *log);

/* Start a new incident whose first event is `opened` (type
 * incident.opened, data.kind set).  Fills opened->seq/prev and *out_id. */
int ir_evlog_create(struct ir_evlog *log, uint64_t *out_id,
		    struct ir_event *opened, struct ir_ctx *ctx) IR_WUR;

/* Append n events to incident id in one durable transaction.  Fills each
 * event's seq and prev; the header follows (events, head, and from/target,
 * status/closed from target.chosen and incident.closed).  -ENOENT for an
 * unknown incident. */
int ir_evlog_append(struct ir_evlog *log, uint64_t id,
		    struct ir_event *const *events, size_t n,
		    struct ir_ctx *ctx) IR_WUR;

/* ir_evlog_append(), and then, in the same transaction, seal(payload,
 * head) with the ledger's head once the n events are in: the one event it
 * returns in *extra (or NULL for none) is appended after them before the
 * commit (a close's signed checkpoint rides with the close: one flush to
 * disk, not two).  seal may run again when the map had to grow; it keeps
 * ownership of *extra. */
struct ir_ledger_head;
typedef int (*ir_evlog_seal_fn)(void *payload,
				const struct ir_ledger_head *head,
				struct ir_event **extra);
int ir_evlog_append_sealed(struct ir_evlog *log, uint64_t id,
			   struct ir_event *const *events, size_t n,
			   ir_evlog_seal_fn seal, void *payload,
			   struct ir_ctx *ctx) IR_WUR;

/* Read a header; -ENOENT when there is no such incident. */
int ir_evlog_incident(struct ir_evlog *log, uint64_t id,
		      struct ir_incident *out, struct ir_ctx *ctx) IR_WUR;

/* The highest incident id, 0 when there is none. */
int ir_evlog_last_id(struct ir_evlog *log, uint64_t *out,
		     struct ir_ctx *ctx) IR_WUR;

/* Changes with every write that commits to the log (in this process or
 * another; LMDB's last transaction id): what a cache of something read
 * from it goes by.  0 when it cannot tell. */
uint64_t ir_evlog_generation(struct ir_evlog *log);

/* Called for each incident, newest first; a non-zero return stops the walk
 * and is returned (a positive one as 0). */
typedef int (*ir_evlog_incident_fn)(void *payload,
				    const struct ir_incident *inc);
int ir_evlog_incidents(struct ir_evlog *log, ir_evlog_incident_fn fn,
		       void *payload, struct ir_ctx *ctx) IR_WUR;

enum {
	IR_EVLOG_DECODE = 1, /* decode data (else ev->data is NULL) */
	IR_EVLOG_CHAIN = 2,  /* check every prev against the bytes before
				(from seq 1 only; on a second thread, see
				chain.h) */
	IR_EVLOG_RAW = 4,    /* decode nothing: ev holds only seq (from the
				key); the caller decodes raw (with
				IR_EVLOG_CHAIN, through ir_codec_view() or
				a reader on it, which makes sure the prev
				the chain checks is the record's own) */
};

/* Called for each event in seq order.  ev and raw are valid only during
 * the call.  A non-zero return stops the scan as in ir_evlog_incidents. */
typedef int (*ir_evlog_event_fn)(void *payload, const struct ir_event *ev,
				 const void *raw, size_t len);

/* Scan the events of incident id from seq `from` (1 for all) in one read
 * snapshot.  Always checked: each record decodes, seqs are contiguous, the
 * count and (for IR_EVLOG_CHAIN) the head agree with the header.  Returns
 * -EBADMSG naming incident and seq for the first fault.  The chain is
 * checked alongside the callbacks, a batch or so behind them: when it
 * breaks, fn may already have seen a few events past the break, so a
 * caller acts on what it read only once the scan has returned 0. */
int ir_evlog_scan(struct ir_evlog *log, uint64_t id, uint64_t from,
		  unsigned flags, ir_evlog_event_fn fn, void *payload,
		  struct ir_ctx *ctx) IR_WUR;

/* An incident's events, decoded, in one array. */
struct ir_event_list {
	struct ir_event *ev;
	size_t n, cap;
	bool drop_output; /* step.output is kept without its data */
};

/* Read every event of incident id into l (chain checked, as
 * ir_evlog_scan with IR_EVLOG_DECODE | IR_EVLOG_CHAIN); set
 * l->drop_output first to keep only the place of output lines.  Clear l
 * with ir_event_list_clear() whatever the result. */
int ir_evlog_load(struct ir_evlog *log, uint64_t id, struct ir_event_list *l,
		  struct ir_ctx *ctx) IR_WUR;
void ir_event_list_clear(struct ir_event_list *l);

/* For IR_EVLOG_RAW callers: check the fixed fields they decoded (decode_rc
 * is the decoder's result) against what the scan knows (key->seq).  0, or
 * -EBADMSG (-ENOMEM passed on) with a message naming incident and seq. */
int ir_evlog_check_raw(uint64_t id, const struct ir_event *key,
		       const struct ir_event_head *head, int decode_rc,
		       struct ir_ctx *ctx) IR_WUR;

/*
 * The ledger: one Merkle tree over every event of every incident, in
 * commit order (RFC 6962 hashing, merkle.h), written in the transaction
 * that appends.  A leaf is an event's incident id, seq and the SHA-256 of
 * its stored bytes.  A log written before the ledger enters it whole, in
 * key order, the first time it is opened to write; one opened only
 * read-only since has none (-ENOENT).
 */
#define IR_EVLOG_ID_LEN 16
struct ir_ledger_head {
	uint64_t size; /* leaves: events entered */
	uint8_t root[IR_HASH_LEN];
};
int ir_evlog_ledger_head(struct ir_evlog *log, struct ir_ledger_head *out,
			 struct ir_ctx *ctx) IR_WUR;
/* The log's own random id, made with it (16 zero bytes without a
 * ledger): a checkpoint names the log it is of. */
const uint8_t *ir_evlog_id(const struct ir_evlog *log);
/* Which event leaf `index` (from 0) stands for. */
int ir_evlog_ledger_leaf(struct ir_evlog *log, uint64_t index, uint64_t *id,
			 uint64_t *seq, struct ir_ctx *ctx) IR_WUR;
/* The consistency proof from the tree of m leaves to that of n (merkle.h:
 * ir_merkle_consistency). */
int ir_evlog_ledger_proof(struct ir_evlog *log, uint64_t m, uint64_t n,
			  uint8_t *proof, size_t *len,
			  struct ir_ctx *ctx) IR_WUR;

/* Check the whole ledger against the events in one read snapshot: every
 * leaf names an event that is there, with the bytes it was committed
 * with; each incident's events are in it once, in order, all of them;
 * the stored edge is the leaves' own.  -EBADMSG naming the first fault.
 * On the way, the root at each size in at[] (ascending) as recomputed
 * from the leaves. */
struct ir_ledger_check {
	const uint64_t *at;
	size_t n_at;
	uint8_t (*roots)[IR_HASH_LEN]; /* n_at of them, the caller's */
	size_t n_found;                /* sizes the ledger reached */
	uint64_t size;                 /* the leaves */
	uint8_t root[IR_HASH_LEN];
};
int ir_evlog_ledger_verify(struct ir_evlog *log, struct ir_ledger_check *c,
			   struct ir_ctx *ctx) IR_WUR;

/* Current map size in bytes (for tests of map growth). */
size_t ir_evlog_mapsize(struct ir_evlog *log);

#endif
