/*
 * The fleet's keyspace and protocol in etcd, under
 * /incident/v1/fleet/<F>/ (docs/guide.md, "Fleet"):
 *
 *   plan             the plan (JSON), created once in a transaction
 *   wave, wave_at    the current wave ("0" is phase 0: stop every node)
 *                    and when it began; wave_done when it finished
 *   leader           the leading agent's node name, on its lease
 *   abort            why the run was aborted, by whom
 *   done             the run's end: status, why
 *   slot/<i>         an in-flight slot (i < max_unavailable), on the
 *                    holder's lease
 *   hb/<node>        a node's heartbeat, on its lease
 *   stopped/<node>   a node's phase-0 answer, for a plan
 *   status/<node>    a node's outcome, for a plan and target commit,
 *                    written only while its slot's revision holds
 *   verdict/<node>   the leader's "unknown" for a node, for a plan
 *   digest/<node>/<inc>/<seq>   each event's type, step, ts, SHA-256
 *   head/<node>      the latest mirrored head of the node's log
 *
 * Every write that depends on a state is one transaction comparing it:
 * a slot against the abort key, the wave and the slot's absence; a status
 * against the slot's mod_revision (a fencing token); the leader's writes
 * against the leader key's mod_revision of its election.
 */
#ifndef IR_FLEET_H
#define IR_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "evlog.h"
#include "fleet_rule.h"

struct ir_fleet;
struct ir_etcd;

/* Open the fleet named fleet as node (NULL for an operator), over etcd's
 * gateway at endpoints; timeout_ms bounds each request.  -EINVAL for a
 * fleet name that is not [A-Za-z0-9._-]. */
int ir_fleet_open(struct ir_fleet **out, const char *endpoints,
		  uint64_t timeout_ms, const char *fleet, const char *node,
		  struct ir_ctx *ctx) IR_WUR;
/* Revokes the lease it holds (its heartbeat, slot and leadership go at
 * once), then frees. */
void ir_fleet_close(struct ir_fleet *f);
struct ir_etcd *ir_fleet_etcd(struct ir_fleet *f);
/* The fleet's key for suffix ("plan", "status/a"). */
void ir_fleet_key(const struct ir_fleet *f, char *out, size_t cap,
		  const char *suffix);

/* Write p as the fleet's plan (and wave 0) if there is none, or the one
 * there is done; p->rev gets its revision.  When another plan holds, *won
 * is false and *other gets it (who planned, when, what). */
int ir_fleet_plan_create(struct ir_fleet *f, struct ir_fleet_plan *p,
			 bool *won, struct ir_fleet_plan *other,
			 struct ir_ctx *ctx) IR_WUR;

/* Read the fleet's keys (all but the digests) into *v; *rev (may be
 * NULL) gets the store's revision at the read. */
int ir_fleet_read(struct ir_fleet *f, struct ir_fleet_view *v, int64_t *rev,
		  struct ir_ctx *ctx) IR_WUR;
/* Wait up to wait_ms for a change to the fleet's keys after revision
 * rev: 0 changed, 1 quiet, or a negative errno. */
int ir_fleet_wait(struct ir_fleet *f, int64_t rev, uint64_t wait_ms,
		  struct ir_ctx *ctx) IR_WUR;

/* Keep this node's lease (ttl_s) alive and its heartbeat put; a lease
 * that expired (the process was stopped past it) is replaced, and
 * *renewed says so: the slot and leadership it held are gone. */
int ir_fleet_heartbeat(struct ir_fleet *f, int64_t ttl_s, bool *renewed,
		       struct ir_ctx *ctx) IR_WUR;
/* Become the leader if no one is; *leader says whether this node is. */
int ir_fleet_campaign(struct ir_fleet *f, bool *leader,
		      struct ir_ctx *ctx) IR_WUR;
/* Carry out the leader's next step n, fenced by the election: -ESTALE
 * when this node no longer leads. */
int ir_fleet_lead(struct ir_fleet *f, const struct ir_fleet_view *v,
		  const struct ir_fleet_next *n, int64_t now,
		  struct ir_ctx *ctx) IR_WUR;

/* Phase 0: this node's answer to the stop (status: succeeded, failed),
 * for v's plan. */
int ir_fleet_stopped(struct ir_fleet *f, const struct ir_fleet_view *v,
		     const char *status, uint64_t inc, int64_t now,
		     struct ir_ctx *ctx) IR_WUR;

struct ir_fleet_slot {
	unsigned index;
	int64_t rev; /* the slot key's mod_revision: the fencing token */
};

/* Take a free slot for v's current wave in one transaction that also
 * checks there is no abort, the wave is still this node's, and the node
 * is not counted unknown.  0 taken; -EAGAIN every slot is in use;
 * -ECANCELED an abort, another wave or another plan (said in ctx). */
int ir_fleet_slot_take(struct ir_fleet *f, const struct ir_fleet_view *v,
		       struct ir_fleet_slot *out, struct ir_ctx *ctx) IR_WUR;

/* The node's outcome (succeeded, failed, held) with the commit it rolled
 * back to and its incident, written and the slot freed in one transaction
 * that holds only while the slot is still this holder's: -ESTALE when it
 * is not (the lease expired). */
struct ir_fleet_outcome {
	const char *status;
	const char *commit;
	uint64_t inc;
	const char *head; /* hex SHA-256 of the incident's last event */
	uint64_t events;
};
int ir_fleet_status_put(struct ir_fleet *f, const struct ir_fleet_view *v,
			const struct ir_fleet_slot *slot,
			const struct ir_fleet_outcome *o, int64_t now,
			struct ir_ctx *ctx) IR_WUR;

/* Put the abort key (by, why) unless one is there; *first says whether
 * this call put it. */
int ir_fleet_abort(struct ir_fleet *f, const char *by, const char *why,
		   int64_t now, bool *first, struct ir_ctx *ctx) IR_WUR;

/* Mirror incident inc's events after seq *mirrored into digest keys
 * (type, step, ts, SHA-256 of the stored bytes; never data or output),
 * at most IR_ETCD_TXN_OPS operations per transaction, each with the head
 * key; *mirrored follows each transaction that went through, so a call
 * that fails part-way goes on from there next time. */
int ir_fleet_mirror(struct ir_fleet *f, struct ir_evlog *log, uint64_t inc,
		    uint64_t *mirrored, int64_t now, struct ir_ctx *ctx) IR_WUR;

/* One mirrored event, as the report reads it. */
struct ir_fleet_digest {
	char node[IR_FLEET_NAME];
	uint64_t inc, seq;
	char type[32];
	char step[16];
	int64_t ts;
	char sha256[65];
	int64_t rev; /* etcd's mod_revision of the digest key */
};

struct ir_fleet_digests {
	struct ir_fleet_digest *d;
	size_t n, cap;
};

/* Every mirrored digest (of node, or of all with NULL), by node, incident
 * and seq. */
int ir_fleet_digests_read(struct ir_fleet *f, const char *node,
			  struct ir_fleet_digests *out,
			  struct ir_ctx *ctx) IR_WUR;
void ir_fleet_digests_clear(struct ir_fleet_digests *d);

/* A node's mirrored head (head/<node>): -ENOENT when none. */
struct ir_fleet_head {
	uint64_t inc, seq;
	char sha256[65];
	int64_t ts;          /* the last event's */
	int64_t mirrored_ts; /* when it was mirrored (the node's clock) */
	uint64_t checkpoint_size; /* the last signed checkpoint, 0: none */
	char checkpoint_root[65];
};
int ir_fleet_head_read(struct ir_fleet *f, const char *node,
		       struct ir_fleet_head *out, struct ir_ctx *ctx) IR_WUR;

#endif
