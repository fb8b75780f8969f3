#include "value.h"

#include <stdlib.h>
#include <string.h>

static void
init_container(struct ir_val *v, enum ir_val_type type)
{
	memset(v, 0, sizeof(*v));
	v->type = type;
}

struct ir_val *
ir_val_map_new(void)
{
	struct ir_val *v = malloc(sizeof(*v));

	if (v)
		init_container(v, IR_VAL_MAP);
	return v;
}

struct ir_val *
ir_val_array_new(void)
{
	struct ir_val *v = malloc(sizeof(*v));

	if (v)
		init_container(v, IR_VAL_ARRAY);
	return v;
}

void
ir_val_clear(struct ir_val *v)
{
	size_t i;

	if (!v)
		return;
	switch (v->type) {
	case IR_VAL_STR:
	case IR_VAL_BIN:
		free(v->as.str.ptr);
		break;
	case IR_VAL_ARRAY:
		for (i = 0; i < v->as.arr.len; i++)
			ir_val_clear(&v->as.arr.items[i]);
		free(v->as.arr.items);
		break;
	case IR_VAL_MAP:
		for (i = 0; i < v->as.map.len; i++) {
			free(v->as.map.items[i].key);
			ir_val_clear(&v->as.map.items[i].val);
		}
		free(v->as.map.items);
		break;
	default:
		break;
	}
	memset(v, 0, sizeof(*v));
}

void
ir_val_free(struct ir_val *v)
{
	ir_val_clear(v);
	free(v);
}

static int
copy_into(struct ir_val *dst, const struct ir_val *src)
{
	size_t i;

	memset(dst, 0, sizeof(*dst));
	dst->type = src->type;
	switch (src->type) {
	case IR_VAL_STR:
	case IR_VAL_BIN:
		dst->as.str.ptr = malloc(src->as.str.len + 1);
		if (!dst->as.str.ptr)
			return -1;
		memcpy(dst->as.str.ptr, src->as.str.ptr, src->as.str.len);
		dst->as.str.ptr[src->as.str.len] = '\0';
		dst->as.str.len = src->as.str.len;
		return 0;
	case IR_VAL_ARRAY:
		for (i = 0; i < src->as.arr.len; i++) {
			struct ir_val *slot = ir_val_array_slot(dst);

			if (!slot || copy_into(slot, &src->as.arr.items[i]))
				return -1;
		}
		return 0;
	case IR_VAL_MAP:
		for (i = 0; i < src->as.map.len; i++) {
			const struct ir_kv *kv = &src->as.map.items[i];
			struct ir_val *slot =
				ir_val_map_slot(dst, kv->key, strlen(kv->key));

			if (!slot || copy_into(slot, &kv->val))
				return -1;
		}
		return 0;
	default:
		dst->as = src->as;
		return 0;
	}
}

struct ir_val *
ir_val_dup(const struct ir_val *v)
{
	struct ir_val *copy;

	if (!v)
		return NULL;
	copy = malloc(sizeof(*copy));
	if (!copy)
		return NULL;
	if (copy_into(copy, v)) {
		ir_val_free(copy);
		return NULL;
	}
	return copy;
}

struct ir_val *
ir_val_map_slot(struct ir_val *map, const char *key, size_t keylen)
{
	struct ir_kv *kv;
	size_t i;

	if (!map || map->type != IR_VAL_MAP)
		return NULL;
	for (i = 0; i < map->as.map.len; i++) {
		kv = &map->as.map.items[i];
		if (strlen(kv->key) == keylen && !memcmp(kv->key, key, keylen)) {
			ir_val_clear(&kv->val);
			return &kv->val;
		}
	}
	if (map->as.map.len == map->as.map.cap) {
		size_t cap = map->as.map.cap ? map->as.map.cap * 2 : 8;
		struct ir_kv *items =
			realloc(map->as.map.items, cap * sizeof(*items));

		if (!items) {
			map->failed = true;
			return NULL;
		}
		map->as.map.items = items;
		map->as.map.cap = cap;
	}
	kv = &map->as.map.items[map->as.map.len];
	kv->key = strndup(key, keylen);
	if (!kv->key) {
		map->failed = true;
		return NULL;
	}
	memset(&kv->val, 0, sizeof(kv->val));
	map->as.map.len++;
	return &kv->val;
}

struct ir_val *
ir_val_array_slot(struct ir_val *arr)
{
	struct ir_val *slot;

	if (!arr || arr->type != IR_VAL_ARRAY)
		return NULL;
	if (arr->as.arr.len == arr->as.arr.cap) {
		size_t cap = arr->as.arr.cap ? arr->as.arr.cap * 2 : 8;
		struct ir_val *items =
			realloc(arr->as.arr.items, cap * sizeof(*items));

		if (!items) {
			arr->failed = true;
			return NULL;
		}
		arr->as.arr.items = items;
		arr->as.arr.cap = cap;
	}
	slot = &arr->as.arr.items[arr->as.arr.len++];
	memset(slot, 0, sizeof(*slot));
	return slot;
}

static void
fill_bytes(struct ir_val *parent, struct ir_val *slot, enum ir_val_type type,
	   const void *p, size_t len)
{
	if (!slot)
		return;
	slot->type = type;
	slot->as.str.ptr = malloc(len + 1);
	if (!slot->as.str.ptr) {
		slot->type = IR_VAL_NIL;
		parent->failed = true;
		return;
	}
	if (len)
		memcpy(slot->as.str.ptr, p, len);
	slot->as.str.ptr[len] = '\0';
	slot->as.str.len = len;
}

void
ir_val_set_strn(struct ir_val *map, const char *key, const char *s,
		size_t len)
{
	fill_bytes(map, ir_val_map_slot(map, key, strlen(key)), IR_VAL_STR, s,
		   len);
}

void
ir_val_set_str(struct ir_val *map, const char *key, const char *s)
{
	if (!s)
		s = "";
	ir_val_set_strn(map, key, s, strlen(s));
}

void
ir_val_set_bin(struct ir_val *map, const char *key, const void *p, size_t len)
{
	fill_bytes(map, ir_val_map_slot(map, key, strlen(key)), IR_VAL_BIN, p,
		   len);
}

void
ir_val_set_int(struct ir_val *map, const char *key, int64_t i)
{
	struct ir_val *slot = ir_val_map_slot(map, key, strlen(key));

	if (slot) {
		slot->type = IR_VAL_INT;
		slot->as.i = i;
	}
}

void
ir_val_set_uint(struct ir_val *map, const char *key, uint64_t u)
{
	struct ir_val *slot = ir_val_map_slot(map, key, strlen(key));

	if (slot) {
		slot->type = IR_VAL_UINT;
		slot->as.u = u;
	}
}

void
ir_val_set_bool(struct ir_val *map, const char *key, bool b)
{
	struct ir_val *slot = ir_val_map_slot(map, key, strlen(key));

	if (slot) {
		slot->type = IR_VAL_BOOL;
		slot->as.b = b;
	}
}

static void
take_into(struct ir_val *parent, struct ir_val *slot, struct ir_val *v)
{
	if (!v) {
		parent->failed = true;
		return;
	}
	if (!slot) {
		ir_val_free(v);
		return;
	}
	*slot = *v;
	if (v->failed)
		parent->failed = true;
	free(v);
}

void
ir_val_set_take(struct ir_val *map, const char *key, struct ir_val *v)
{
	take_into(map, ir_val_map_slot(map, key, strlen(key)), v);
}

void
ir_val_push_str(struct ir_val *arr, const char *s)
{
	if (!s)
		s = "";
	fill_bytes(arr, ir_val_array_slot(arr), IR_VAL_STR, s, strlen(s));
}

void
ir_val_push_int(struct ir_val *arr, int64_t i)
{
	struct ir_val *slot = ir_val_array_slot(arr);

	if (slot) {
		slot->type = IR_VAL_INT;
		slot->as.i = i;
	}
}

void
ir_val_push_take(struct ir_val *arr, struct ir_val *v)
{
	take_into(arr, ir_val_array_slot(arr), v);
}

const struct ir_val *
ir_val_get(const struct ir_val *map, const char *key)
{
	size_t i;

	if (!map || map->type != IR_VAL_MAP)
		return NULL;
	for (i = 0; i < map->as.map.len; i++)
		if (!strcmp(map->as.map.items[i].key, key))
			return &map->as.map.items[i].val;
	return NULL;
}

const char *
ir_val_get_str(const struct ir_val *map, const char *key)
{
	const struct ir_val *v = ir_val_get(map, key);

	return v && v->type == IR_VAL_STR ? v->as.str.ptr : NULL;
}

bool
ir_val_as_int(const struct ir_val *v, int64_t *out)
{
	if (!v)
		return false;
	if (v->type == IR_VAL_INT) {
		*out = v->as.i;
		return true;
	}
	if (v->type == IR_VAL_UINT && v->as.u <= INT64_MAX) {
		*out = (int64_t)v->as.u;
		return true;
	}
	return false;
}

int64_t
ir_val_get_int(const struct ir_val *map, const char *key, int64_t dflt)
{
	int64_t i;

	return ir_val_as_int(ir_val_get(map, key), &i) ? i : dflt;
}

bool
ir_val_get_bool(const struct ir_val *map, const char *key, bool dflt)
{
	const struct ir_val *v = ir_val_get(map, key);

	return v && v->type == IR_VAL_BOOL ? v->as.b : dflt;
}
