/*
 * The fleet module's private half: the handle and the helpers fleet.c
 * (plan, leader, slots, statuses) and fleet_mirror.c (each node's log
 * mirrored as digests) share.  Not for use outside recorder/fleet/.
 */
#ifndef IR_FLEET_LIB_H
#define IR_FLEET_LIB_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "etcd.h"
#include "fleet.h"

struct ir_fleet {
	struct ir_etcd *etcd;
	char name[IR_FLEET_NAME];
	char node[IR_FLEET_NAME];
	char prefix[IR_FLEET_NAME + 32];
	int64_t lease;      /* 0: none yet */
	int64_t leader_rev; /* our election's mod_revision, 0: not leading */
	/* The last signed checkpoint the mirror saw in incident cp_inc: the
	 * head carries it, so etcd also witnesses the ledger's root. */
	uint64_t cp_inc, cp_size;
	char cp_root[65];
};

/* A key of node: "<prefix><what>/<node>". */
void ir_fleet_node_key(const struct ir_fleet *f, char *out, size_t cap,
		       const char *what, const char *node);
/* j as compact JSON text (caller frees; NULL without memory); j is
 * released. */
char *ir_fleet_dump(json_t *j);
/* o's integer member key (0 when absent), its string into out. */
int64_t ir_fleet_jint(const json_t *o, const char *key);
void ir_fleet_jstr(char *out, size_t cap, const json_t *o, const char *key);
/* A key's value as JSON (NULL: none, or not JSON). */
json_t *ir_fleet_parse(const struct ir_etcd_kv *kv);
/* What follows "<prefix><what>" in key, or NULL when key is not one. */
const char *ir_fleet_suffix_of(const struct ir_fleet *f, const char *key,
			       const char *what);

#endif
