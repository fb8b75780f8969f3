/*
 * A small tree of values: what an event's `data` map holds.  It is our own
 * type so that no msgpack or JSON type crosses a header; the codec turns it
 * into msgpack, report/ turns it into JSON.
 *
 * Builders never fail loudly: an allocation failure marks the map as failed
 * and the codec refuses to encode it (-ENOMEM), so building an event stays a
 * list of plain calls.
 */
#ifndef IR_VALUE_H
#define IR_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ir_val_type {
	IR_VAL_NIL = 0,
	IR_VAL_BOOL,
	IR_VAL_INT,
	IR_VAL_UINT,
	IR_VAL_STR,
	IR_VAL_BIN,
	IR_VAL_ARRAY,
	IR_VAL_MAP,
};

struct ir_kv;

struct ir_val {
	enum ir_val_type type;
	bool failed; /* an allocation below this value failed */
	union {
		bool b;
		int64_t i;
		uint64_t u;
		struct {
			char *ptr; /* NUL-terminated for convenience */
			size_t len;
		} str; /* IR_VAL_STR and IR_VAL_BIN */
		struct {
			struct ir_val *items;
			size_t len, cap;
		} arr;
		struct {
			struct ir_kv *items;
			size_t len, cap;
		} map;
	} as;
};

struct ir_kv {
	char *key;
	struct ir_val val;
};

/* A new empty map (or array); NULL only when out of memory. */
struct ir_val *ir_val_map_new(void);
struct ir_val *ir_val_array_new(void);

/* Free a heap value from _new() and everything below it; NULL is fine. */
void ir_val_free(struct ir_val *v);
/* Release what v holds, leaving it NIL (for values inside others). */
void ir_val_clear(struct ir_val *v);
/* A deep copy; NULL when out of memory. */
struct ir_val *ir_val_dup(const struct ir_val *v);

/* Map setters: the key and value are copied.  A key set twice keeps the
 * last value. */
void ir_val_set_str(struct ir_val *map, const char *key, const char *s);
void ir_val_set_strn(struct ir_val *map, const char *key, const char *s,
		     size_t len);
void ir_val_set_bin(struct ir_val *map, const char *key, const void *p,
		    size_t len);
void ir_val_set_int(struct ir_val *map, const char *key, int64_t i);
void ir_val_set_uint(struct ir_val *map, const char *key, uint64_t u);
void ir_val_set_bool(struct ir_val *map, const char *key, bool b);
/* Takes ownership of *v (a heap value from _new), which is freed. */
void ir_val_set_take(struct ir_val *map, const char *key, struct ir_val *v);

/* Array appenders, same rules. */
void ir_val_push_str(struct ir_val *arr, const char *s);
void ir_val_push_int(struct ir_val *arr, int64_t i);
void ir_val_push_take(struct ir_val *arr, struct ir_val *v);

/* Borrowed look-ups; NULL / the default when absent or of another type. */
const struct ir_val *ir_val_get(const struct ir_val *map, const char *key);
const char *ir_val_get_str(const struct ir_val *map, const char *key);
int64_t ir_val_get_int(const struct ir_val *map, const char *key,
		       int64_t dflt);
bool ir_val_get_bool(const struct ir_val *map, const char *key, bool dflt);
/* Integer view of INT or UINT values. */
bool ir_val_as_int(const struct ir_val *v, int64_t *out);

/* Internal: used by the codec to grow containers it decodes into. */
struct ir_val *ir_val_map_slot(struct ir_val *map, const char *key,
			       size_t keylen);
struct ir_val *ir_val_array_slot(struct ir_val *arr);

#endif
