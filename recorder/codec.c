#include "codec.h"

#include <limits.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "ir_limits.h"
#include "jsontext.h"

void
ir_event_clear(struct ir_event *ev)
{
	if (!ev)
		return;
	ir_val_free(ev->data);
	ev->data = NULL;
}

/* msgpack's packer ignores nothing, but we pack many calls in a row: keep
 * the first failure and check it once at the end. */
struct writer {
	struct ir_buf *buf;
	int rc;
};

static int
buf_write(void *data, const char *p, size_t len)
{
	struct writer *w = data;
	struct ir_buf *b = w->buf;

	/* The packer writes many small pieces: copy in place while the
	 * buffer has room (and room for the NUL it keeps). */
	if (!w->rc && b->data && b->cap - b->len > len &&
	    (!b->max || b->len + len <= b->max)) {
		memcpy(b->data + b->len, p, len);
		b->len += len;
		b->data[b->len] = '\0';
		return 0;
	}
	if (!w->rc)
		w->rc = ir_buf_add(b, p, len);
	return w->rc ? -1 : 0;
}

static void
pack_str(msgpack_packer *pk, const char *s, size_t len)
{
	msgpack_pack_str(pk, len);
	msgpack_pack_str_body(pk, s, len);
}

static void
pack_cstr(msgpack_packer *pk, const char *s)
{
	pack_str(pk, s, strlen(s));
}

static int
pack_val(msgpack_packer *pk, const struct ir_val *v, int depth)
{
	size_t i;

	if (depth > IR_LIMIT_VALUE_DEPTH || v->failed)
		return -ENOMEM;
	switch (v->type) {
	case IR_VAL_NIL:
		msgpack_pack_nil(pk);
		return 0;
	case IR_VAL_BOOL:
		if (v->as.b)
			msgpack_pack_true(pk);
		else
			msgpack_pack_false(pk);
		return 0;
	case IR_VAL_INT:
		msgpack_pack_int64(pk, v->as.i);
		return 0;
	case IR_VAL_UINT:
		msgpack_pack_uint64(pk, v->as.u);
		return 0;
	case IR_VAL_STR:
		pack_str(pk, v->as.str.ptr, v->as.str.len);
		return 0;
	case IR_VAL_BIN:
		msgpack_pack_bin(pk, v->as.str.len);
		msgpack_pack_bin_body(pk, v->as.str.ptr, v->as.str.len);
		return 0;
	case IR_VAL_ARRAY:
		msgpack_pack_array(pk, v->as.arr.len);
		for (i = 0; i < v->as.arr.len; i++)
			if (pack_val(pk, &v->as.arr.items[i], depth + 1))
				return -ENOMEM;
		return 0;
	case IR_VAL_MAP:
		msgpack_pack_map(pk, v->as.map.len);
		for (i = 0; i < v->as.map.len; i++) {
			pack_cstr(pk, v->as.map.items[i].key);
			if (pack_val(pk, &v->as.map.items[i].val, depth + 1))
				return -ENOMEM;
		}
		return 0;
	}
	return -EINVAL;
}

int
ir_codec_encode(struct ir_buf *out, const struct ir_event *ev)
{
	struct writer w = { out, 0 };
	msgpack_packer pk;
	size_t start = out->len;
	int rc;

	/* Never write what ir_codec_decode() would refuse to read back. */
	if (!ev->type[0] || !ev->seq ||
	    memchr(ev->type, '\0', sizeof(ev->type)) == NULL ||
	    memchr(ev->step, '\0', sizeof(ev->step)) == NULL)
		return -EINVAL;
	msgpack_packer_init(&pk, &w, buf_write);
	msgpack_pack_map(&pk, ev->step[0] ? 8 : 7);
	pack_cstr(&pk, "v");
	msgpack_pack_uint64(&pk, IR_SCHEMA_VERSION);
	pack_cstr(&pk, "seq");
	msgpack_pack_uint64(&pk, ev->seq);
	pack_cstr(&pk, "ts");
	msgpack_pack_int64(&pk, ev->ts);
	pack_cstr(&pk, "mono");
	msgpack_pack_uint64(&pk, ev->mono);
	pack_cstr(&pk, "type");
	pack_cstr(&pk, ev->type);
	if (ev->step[0]) {
		pack_cstr(&pk, "step");
		pack_cstr(&pk, ev->step);
	}
	pack_cstr(&pk, "data");
	if (ev->data) {
		rc = pack_val(&pk, ev->data, 0);
		if (rc)
			goto fail;
	} else {
		msgpack_pack_map(&pk, 0);
	}
	pack_cstr(&pk, "prev");
	msgpack_pack_bin(&pk, IR_HASH_LEN);
	msgpack_pack_bin_body(&pk, ev->prev, IR_HASH_LEN);
	rc = w.rc;
	if (!rc && out->len - start > IR_LIMIT_EVENT_BYTES)
		rc = -ENOSPC;
	if (rc)
		goto fail;
	return 0;
fail:
	out->len = start;
	return rc;
}

int
ir_codec_encode_val(struct ir_buf *out, const struct ir_val *v)
{
	struct writer w = { out, 0 };
	msgpack_packer pk;
	int rc;

	msgpack_packer_init(&pk, &w, buf_write);
	rc = pack_val(&pk, v, 0);
	return rc ? rc : w.rc;
}

/*
 * msgpack-c allocates a container's slots from its declared count before it
 * has seen the elements, so a 5-byte record could ask for gigabytes.  Walk
 * the headers first: every declared length must fit in what is left.
 */
int
ir_codec_check(const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t off = 0, pending = 1;

	while (pending) {
		uint64_t n = 0, skip = 0, items = 0;
		uint8_t t;

		if (off >= len)
			return -EBADMSG;
		t = b[off++];
		pending--;
#define NEED(k)                                                               \
	do {                                                                  \
		if (len - off < (k))                                          \
			return -EBADMSG;                                      \
	} while (0)
#define BE(k)                                                                 \
	do {                                                                  \
		NEED(k);                                                      \
		n = 0;                                                        \
		for (int i_ = 0; i_ < (k); i_++)                              \
			n = n << 8 | b[off++];                                \
	} while (0)
		if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 ||
		    t == 0xc3) {
			continue;
		} else if (t >= 0x80 && t <= 0x8f) {
			items = 2ULL * (t & 0x0f);
		} else if (t >= 0x90 && t <= 0x9f) {
			items = t & 0x0f;
		} else if (t >= 0xa0 && t <= 0xbf) {
			skip = t & 0x1f;
		} else {
			switch (t) {
			case 0xc4: case 0xd9: BE(1); skip = n; break;
			case 0xc5: case 0xda: BE(2); skip = n; break;
			case 0xc6: case 0xdb: BE(4); skip = n; break;
			case 0xc7: BE(1); skip = n + 1; break;
			case 0xc8: BE(2); skip = n + 1; break;
			case 0xc9: BE(4); skip = n + 1; break;
			case 0xca: case 0xce: case 0xd2: skip = 4; break;
			case 0xcb: case 0xcf: case 0xd3: skip = 8; break;
			case 0xcc: case 0xd0: skip = 1; break;
			case 0xcd: case 0xd1: skip = 2; break;
			case 0xd4: skip = 2; break;
			case 0xd5: skip = 3; break;
			case 0xd6: skip = 5; break;
			case 0xd7: skip = 9; break;
			case 0xd8: skip = 17; break;
			case 0xdc: BE(2); items = n; break;
			case 0xdd: BE(4); items = n; break;
			case 0xde: BE(2); items = 2 * n; break;
			case 0xdf: BE(4); items = 2 * n; break;
			default: return -EBADMSG; /* 0xc1, never used */
			}
		}
#undef BE
#undef NEED
		if (skip > len - off)
			return -EBADMSG;
		off += skip;
		/* Each element takes at least one byte. */
		if (items > len - off || pending + items > len - off)
			return -EBADMSG;
		pending += items;
	}
	return off == len ? 0 : -EBADMSG;
}

static bool
key_is(const msgpack_object_kv *kv, const char *key)
{
	size_t n = strlen(key);

	return kv->key.type == MSGPACK_OBJECT_STR &&
	       kv->key.via.str.size == n &&
	       !memcmp(kv->key.via.str.ptr, key, n);
}

static int
copy_name(char *dst, size_t cap, const msgpack_object *o)
{
	if (o->type != MSGPACK_OBJECT_STR || o->via.str.size >= cap ||
	    memchr(o->via.str.ptr, '\0', o->via.str.size))
		return -EBADMSG;
	memcpy(dst, o->via.str.ptr, o->via.str.size);
	dst[o->via.str.size] = '\0';
	return 0;
}

static int
get_u64(const msgpack_object *o, uint64_t *out)
{
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		*out = o->via.u64;
		return 0;
	}
	return -EBADMSG;
}

static int
get_i64(const msgpack_object *o, int64_t *out)
{
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    o->via.u64 <= INT64_MAX) {
		*out = (int64_t)o->via.u64;
		return 0;
	}
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*out = o->via.i64;
		return 0;
	}
	return -EBADMSG;
}

/* Fill the fixed fields; *data points at the data map (not converted). */
static int
read_head(struct ir_event_head *h, const msgpack_object *root,
	  const msgpack_object **data)
{
	unsigned seen = 0;
	uint64_t v = 0;
	uint32_t i;

	if (root->type != MSGPACK_OBJECT_MAP)
		return -EBADMSG;
	memset(h, 0, sizeof(*h));
	*data = NULL;
	for (i = 0; i < root->via.map.size; i++) {
		const msgpack_object_kv *kv = &root->via.map.ptr[i];
		int rc = 0;

		if (key_is(kv, "v")) {
			rc = get_u64(&kv->val, &v);
			seen |= 1;
		} else if (key_is(kv, "seq")) {
			rc = get_u64(&kv->val, &h->seq);
			seen |= 2;
		} else if (key_is(kv, "ts")) {
			rc = get_i64(&kv->val, &h->ts);
			seen |= 4;
		} else if (key_is(kv, "mono")) {
			rc = get_u64(&kv->val, &h->mono);
			seen |= 8;
		} else if (key_is(kv, "type")) {
			rc = copy_name(h->type, sizeof(h->type), &kv->val);
			seen |= 16;
		} else if (key_is(kv, "step")) {
			rc = copy_name(h->step, sizeof(h->step), &kv->val);
		} else if (key_is(kv, "data")) {
			if (kv->val.type != MSGPACK_OBJECT_MAP)
				return -EBADMSG;
			*data = &kv->val;
			seen |= 32;
		} else if (key_is(kv, "prev")) {
			if (kv->val.type != MSGPACK_OBJECT_BIN ||
			    kv->val.via.bin.size != IR_HASH_LEN)
				return -EBADMSG;
			memcpy(h->prev, kv->val.via.bin.ptr, IR_HASH_LEN);
			seen |= 64;
		}
		if (rc)
			return rc;
	}
	if (seen != 127 || v != IR_SCHEMA_VERSION || !h->type[0] || !h->seq)
		return -EBADMSG;
	return 0;
}

static int
to_val(struct ir_val *dst, const msgpack_object *o, int depth)
{
	uint32_t i;

	if (depth > IR_LIMIT_VALUE_DEPTH)
		return -EBADMSG;
	memset(dst, 0, sizeof(*dst));
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		return 0;
	case MSGPACK_OBJECT_BOOLEAN:
		dst->type = IR_VAL_BOOL;
		dst->as.b = o->via.boolean;
		return 0;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		dst->type = IR_VAL_UINT;
		dst->as.u = o->via.u64;
		return 0;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		dst->type = IR_VAL_INT;
		dst->as.i = o->via.i64;
		return 0;
	case MSGPACK_OBJECT_STR:
	case MSGPACK_OBJECT_BIN:
		dst->type = o->type == MSGPACK_OBJECT_STR ? IR_VAL_STR
							  : IR_VAL_BIN;
		dst->as.str.ptr = malloc(o->via.str.size + 1);
		if (!dst->as.str.ptr) {
			dst->type = IR_VAL_NIL;
			return -ENOMEM;
		}
		memcpy(dst->as.str.ptr, o->via.str.ptr, o->via.str.size);
		dst->as.str.ptr[o->via.str.size] = '\0';
		dst->as.str.len = o->via.str.size;
		return 0;
	case MSGPACK_OBJECT_ARRAY:
		dst->type = IR_VAL_ARRAY;
		for (i = 0; i < o->via.array.size; i++) {
			struct ir_val *slot = ir_val_array_slot(dst);
			int rc;

			if (!slot)
				return -ENOMEM;
			rc = to_val(slot, &o->via.array.ptr[i], depth + 1);
			if (rc)
				return rc;
		}
		return 0;
	case MSGPACK_OBJECT_MAP:
		dst->type = IR_VAL_MAP;
		for (i = 0; i < o->via.map.size; i++) {
			const msgpack_object_kv *kv = &o->via.map.ptr[i];
			struct ir_val *slot;
			int rc;

			if (kv->key.type != MSGPACK_OBJECT_STR)
				return -EBADMSG;
			slot = ir_val_map_slot(dst, kv->key.via.str.ptr,
					       kv->key.via.str.size);
			if (!slot)
				return -ENOMEM;
			rc = to_val(slot, &kv->val, depth + 1);
			if (rc)
				return rc;
		}
		return 0;
	default:
		return -EBADMSG;
	}
}

static int
unpack(msgpack_unpacked *u, const void *p, size_t len)
{
	size_t off = 0;

	if (len > IR_LIMIT_EVENT_BYTES || ir_codec_check(p, len))
		return -EBADMSG;
	if (msgpack_unpack_next(u, p, len, &off) != MSGPACK_UNPACK_SUCCESS ||
	    off != len)
		return -EBADMSG;
	return 0;
}

int
ir_codec_peek(struct ir_event_head *out, const void *p, size_t len)
{
	struct ir_event_head h;
	const msgpack_object *data;
	msgpack_unpacked u;
	int rc;

	msgpack_unpacked_init(&u);
	rc = unpack(&u, p, len);
	if (!rc)
		rc = read_head(&h, &u.data, &data);
	if (!rc)
		*out = h;
	msgpack_unpacked_destroy(&u);
	return rc;
}

int
ir_codec_decode(struct ir_event *out, const void *p, size_t len)
{
	struct ir_event_head h;
	const msgpack_object *data;
	struct ir_val *tree = NULL;
	msgpack_unpacked u;
	int rc;

	msgpack_unpacked_init(&u);
	rc = unpack(&u, p, len);
	if (rc)
		goto out;
	rc = read_head(&h, &u.data, &data);
	if (rc)
		goto out;
	tree = ir_val_map_new();
	if (!tree) {
		rc = -ENOMEM;
		goto out;
	}
	rc = to_val(tree, data, 0);
	if (rc)
		goto out;
	out->seq = h.seq;
	out->ts = h.ts;
	out->mono = h.mono;
	memcpy(out->type, h.type, sizeof(out->type));
	memcpy(out->step, h.step, sizeof(out->step));
	memcpy(out->prev, h.prev, sizeof(out->prev));
	out->data = tree;
	tree = NULL;
out:
	ir_val_free(tree);
	msgpack_unpacked_destroy(&u);
	return rc;
}

int
ir_codec_decode_val(struct ir_val **out, const void *p, size_t len)
{
	struct ir_val *tree = NULL;
	msgpack_unpacked u;
	int rc;

	msgpack_unpacked_init(&u);
	rc = unpack(&u, p, len);
	if (rc)
		goto out;
	if (u.data.type != MSGPACK_OBJECT_MAP) {
		rc = -EBADMSG;
		goto out;
	}
	tree = ir_val_map_new();
	if (!tree) {
		rc = -ENOMEM;
		goto out;
	}
	rc = to_val(tree, &u.data, 0);
	if (rc)
		goto out;
	*out = tree;
	tree = NULL;
out:
	ir_val_free(tree);
	msgpack_unpacked_destroy(&u);
	return rc;
}

static int
obj_json(struct ir_jtext *w, const msgpack_object *o, int depth)
{
	uint32_t i;

	if (depth > IR_LIMIT_VALUE_DEPTH)
		return -EBADMSG;
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		ir_jtext_lit(w, "null");
		return 0;
	case MSGPACK_OBJECT_BOOLEAN:
		if (o->via.boolean)
			ir_jtext_lit(w, "true");
		else
			ir_jtext_lit(w, "false");
		return 0;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		ir_jtext_u64(w, o->via.u64);
		return 0;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		ir_jtext_i64(w, o->via.i64);
		return 0;
	case MSGPACK_OBJECT_STR:
		ir_jtext_str(w, o->via.str.ptr, o->via.str.size);
		return 0;
	case MSGPACK_OBJECT_BIN:
		ir_jtext_hex(w, o->via.bin.ptr, o->via.bin.size);
		return 0;
	case MSGPACK_OBJECT_ARRAY:
		ir_jtext_lit(w, "[");
		for (i = 0; i < o->via.array.size; i++) {
			if (i)
				ir_jtext_lit(w, ",");
			if (obj_json(w, &o->via.array.ptr[i], depth + 1))
				return -EBADMSG;
		}
		ir_jtext_lit(w, "]");
		return 0;
	case MSGPACK_OBJECT_MAP:
		ir_jtext_lit(w, "{");
		for (i = 0; i < o->via.map.size; i++) {
			const msgpack_object_kv *kv = &o->via.map.ptr[i];

			if (kv->key.type != MSGPACK_OBJECT_STR)
				return -EBADMSG;
			if (i)
				ir_jtext_lit(w, ",");
			ir_jtext_str(w, kv->key.via.str.ptr,
				     kv->key.via.str.size);
			ir_jtext_lit(w, ":");
			if (obj_json(w, &kv->val, depth + 1))
				return -EBADMSG;
		}
		ir_jtext_lit(w, "}");
		return 0;
	default:
		return -EBADMSG;
	}
}

int
ir_codec_json(struct ir_jtext *out, struct ir_event_head *head,
	      const void *p, size_t len)
{
	const msgpack_object *data;
	struct ir_event_head h;
	msgpack_unpacked u;
	size_t start = out->len;
	int rc;

	msgpack_unpacked_init(&u);
	rc = unpack(&u, p, len);
	if (!rc)
		rc = read_head(&h, &u.data, &data);
	if (rc)
		goto out;
	ir_jtext_lit(out, "{\"v\":1,\"seq\":");
	ir_jtext_u64(out, h.seq);
	ir_jtext_lit(out, ",\"ts\":");
	ir_jtext_i64(out, h.ts);
	ir_jtext_lit(out, ",\"mono\":");
	ir_jtext_u64(out, h.mono);
	ir_jtext_lit(out, ",\"type\":");
	ir_jtext_str(out, h.type, strlen(h.type));
	if (h.step[0]) {
		ir_jtext_lit(out, ",\"step\":");
		ir_jtext_str(out, h.step, strlen(h.step));
	}
	ir_jtext_lit(out, ",\"data\":");
	rc = obj_json(out, data, 0);
	if (rc)
		goto out;
	ir_jtext_lit(out, ",\"prev\":");
	ir_jtext_hex(out, h.prev, IR_HASH_LEN);
	ir_jtext_lit(out, "}");
	if (out->failed)
		rc = -ENOMEM;
	else
		*head = h;
out:
	if (rc && !out->failed)
		out->len = start;
	msgpack_unpacked_destroy(&u);
	return rc;
}

int
ir_codec_peek_output(struct ir_event_head *head, struct ir_output_view *out,
		     const void *p, size_t len)
{
	const msgpack_object *data;
	struct ir_event_head h;
	struct ir_output_view v;
	msgpack_unpacked u;
	uint32_t i;
	int rc;

	memset(&v, 0, sizeof(v));
	msgpack_unpacked_init(&u);
	rc = unpack(&u, p, len);
	if (!rc)
		rc = read_head(&h, &u.data, &data);
	if (rc || strcmp(h.type, "step.output"))
		goto done;
	v.is_output = true;
	for (i = 0; i < data->via.map.size; i++) {
		const msgpack_object_kv *kv = &data->via.map.ptr[i];

		if (key_is(kv, "line") && kv->val.type == MSGPACK_OBJECT_STR) {
			/* msgpack-c points strings into the input. */
			v.line = kv->val.via.str.ptr;
			v.line_len = kv->val.via.str.size;
		} else if (key_is(kv, "stream") &&
			   kv->val.type == MSGPACK_OBJECT_STR) {
			v.err = kv->val.via.str.size == 3 &&
				!memcmp(kv->val.via.str.ptr, "err", 3);
		} else if (key_is(kv, "dropped")) {
			if (get_i64(&kv->val, &v.dropped))
				v.dropped = 0;
		} else if (key_is(kv, "truncated") &&
			   kv->val.type == MSGPACK_OBJECT_BOOLEAN) {
			v.truncated = kv->val.via.boolean;
		}
	}
done:
	if (!rc) {
		*head = h;
		*out = v;
	}
	msgpack_unpacked_destroy(&u);
	return rc;
}
