#include "jsonval.h"

#include <stdint.h>
#include <stdlib.h>

#include "hash.h"

static json_t *
hex_string(const void *p, size_t len)
{
	char *hex = malloc(2 * len + 1);
	json_t *j;

	if (!hex)
		return NULL;
	ir_hex(hex, p, len);
	j = json_stringn(hex, 2 * len);
	free(hex);
	return j;
}

json_t *
ir_jsonval_from(const struct ir_val *v)
{
	json_t *j = NULL;
	size_t i;

	if (!v)
		return json_null();
	switch (v->type) {
	case IR_VAL_NIL:
		return json_null();
	case IR_VAL_BOOL:
		return json_boolean(v->as.b);
	case IR_VAL_INT:
		return json_integer(v->as.i);
	case IR_VAL_UINT:
		/* jansson integers are signed 64-bit; larger ones become
		 * reals rather than wrapping. */
		if (v->as.u > (uint64_t)INT64_MAX)
			return json_real((double)v->as.u);
		return json_integer((json_int_t)v->as.u);
	case IR_VAL_STR:
		/* Not valid UTF-8 (process output can be anything): keep the
		 * bytes readable rather than dropping the field. */
		j = json_stringn(v->as.str.ptr, v->as.str.len);
		if (!j) {
			char *copy = malloc(v->as.str.len + 1);

			if (!copy)
				return NULL;
			for (i = 0; i < v->as.str.len; i++) {
				unsigned char c = (unsigned char)v->as.str.ptr[i];

				copy[i] = c < 0x80 && c ? (char)c : '?';
			}
			copy[v->as.str.len] = '\0';
			j = json_string(copy);
			free(copy);
		}
		return j;
	case IR_VAL_BIN:
		return hex_string(v->as.str.ptr, v->as.str.len);
	case IR_VAL_ARRAY:
		j = json_array();
		for (i = 0; j && i < v->as.arr.len; i++)
			if (json_array_append_new(
				    j, ir_jsonval_from(&v->as.arr.items[i]))) {
				json_decref(j);
				return NULL;
			}
		return j;
	case IR_VAL_MAP:
		j = json_object();
		for (i = 0; j && i < v->as.map.len; i++)
			if (json_object_set_new(
				    j, v->as.map.items[i].key,
				    ir_jsonval_from(&v->as.map.items[i].val))) {
				json_decref(j);
				return NULL;
			}
		return j;
	}
	return NULL;
}

json_t *
ir_jsonval_event(const struct ir_event *ev)
{
	json_t *j = json_object();

	if (!j)
		return NULL;
	if (json_object_set_new(j, "v", json_integer(IR_SCHEMA_VERSION)) ||
	    json_object_set_new(j, "seq", json_integer((json_int_t)ev->seq)) ||
	    json_object_set_new(j, "ts", json_integer(ev->ts)) ||
	    json_object_set_new(j, "mono",
				json_integer((json_int_t)ev->mono)) ||
	    json_object_set_new(j, "type", json_string(ev->type)) ||
	    (ev->step[0] &&
	     json_object_set_new(j, "step", json_string(ev->step))) ||
	    json_object_set_new(j, "data",
				ev->data ? ir_jsonval_from(ev->data)
					 : json_object()) ||
	    json_object_set_new(j, "prev", hex_string(ev->prev, IR_HASH_LEN))) {
		json_decref(j);
		return NULL;
	}
	return j;
}
