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

/* Unpack the one object at p with msgpack-c: bytes already walked by
 * ir_codec_check() (or ir_codec_view(), which walks the same way), so that
 * it asks for no more than the bytes hold. */
static int
unpack_walked(msgpack_unpacked *u, const void *p, size_t len)
{
	size_t off = 0;

	if (msgpack_unpack_next(u, p, len, &off) != MSGPACK_UNPACK_SUCCESS ||
	    off != len)
		return -EBADMSG;
	return 0;
}

/* The same for bytes nobody has walked yet. */
static int
unpack(msgpack_unpacked *u, const void *p, size_t len)
{
	if (len > IR_LIMIT_EVENT_BYTES || ir_codec_check(p, len))
		return -EBADMSG;
	return unpack_walked(u, p, len);
}

int
ir_codec_decode_viewed(struct ir_event *out, const struct ir_event_head *h,
		       const struct ir_codec_span *data)
{
	struct ir_val *tree = NULL;
	msgpack_unpacked u;
	int rc;

	/* msgpack-c builds the data, which the view has walked already. */
	msgpack_unpacked_init(&u);
	rc = unpack_walked(&u, data->p, data->len);
	if (rc)
		goto out;
	tree = ir_val_map_new();
	if (!tree) {
		rc = -ENOMEM;
		goto out;
	}
	rc = to_val(tree, &u.data, 0);
	if (rc)
		goto out;
	out->seq = h->seq;
	out->ts = h->ts;
	out->mono = h->mono;
	memcpy(out->type, h->type, sizeof(out->type));
	memcpy(out->step, h->step, sizeof(out->step));
	memcpy(out->prev, h->prev, sizeof(out->prev));
	out->data = tree;
	tree = NULL;
out:
	ir_val_free(tree);
	msgpack_unpacked_destroy(&u);
	return rc;
}

int
ir_codec_decode(struct ir_event *out, const void *p, size_t len)
{
	struct ir_event_head h;
	struct ir_codec_span data;

	/* The fixed fields are read in place. */
	if (ir_codec_view(&h, &data, p, len))
		return -EBADMSG;
	return ir_codec_decode_viewed(out, &h, &data);
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
