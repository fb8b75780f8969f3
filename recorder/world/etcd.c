/*
 * etcd's JSON gateway.  Each call builds one JSON request (jansson),
 * sends it to one endpoint after another through ir_http_exchange() until
 * one answers 200, and reads what it needs from the answer.  int64 fields
 * come back as strings (the gateway's protobuf mapping) and fields at
 * their default value are left out, so every read has a default.
 */
#include "etcd.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "health.h"

/* An answer larger than this is refused (a range of every digest of a
 * large fleet stays well below). */
#define ETCD_BODY_MAX (32u * 1024 * 1024)
#define ETCD_ENDPOINTS_MAX 16

struct ir_etcd {
	char *url[ETCD_ENDPOINTS_MAX];
	size_t n;
	size_t cur; /* the one that answered last */
	uint64_t timeout_ms;
	struct ir_buf body;
};

/* ---- base64 ------------------------------------------------------------ */

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *
b64_encode(const void *p, size_t len)
{
	const uint8_t *s = p;
	char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;
	size_t i;

	if (!out)
		return NULL;
	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 |
			     s[i + 2];

		*o++ = b64[v >> 18];
		*o++ = b64[(v >> 12) & 63];
		*o++ = b64[(v >> 6) & 63];
		*o++ = b64[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)s[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)s[i + 1] << 8;
		*o++ = b64[v >> 18];
		*o++ = b64[(v >> 12) & 63];
		*o++ = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

static int
b64_digit(char c)
{
	const char *p = c ? strchr(b64, c) : NULL;

	return p ? (int)(p - b64) : -1;
}

/* Decode s into a new NUL-ended buffer; NULL for bad input or memory. */
static char *
b64_decode(const char *s, size_t *out_len)
{
	size_t len = strlen(s), n = 0, i;
	char *out = malloc(len / 4 * 3 + 4);
	uint32_t v = 0;
	int bits = 0;

	if (!out)
		return NULL;
	for (i = 0; i < len && s[i] != '='; i++) {
		int d = b64_digit(s[i]);

		if (d < 0) {
			free(out);
			return NULL;
		}
		v = v << 6 | (uint32_t)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (char)((v >> bits) & 0xff);
		}
	}
	out[n] = '\0';
	*out_len = n;
	return out;
}

/* ---- the client -------------------------------------------------------- */

int
ir_etcd_new(struct ir_etcd **out, const char *endpoints, uint64_t timeout_ms,
	    struct ir_ctx *ctx)
{
	struct ir_etcd *e = calloc(1, sizeof(*e));
	const char *p = endpoints ? endpoints : "";

	if (!e)
		return -ENOMEM;
	e->timeout_ms = timeout_ms ? timeout_ms : 1000;
	e->body = (struct ir_buf)IR_BUF_INIT(ETCD_BODY_MAX);
	while (*p) {
		size_t len = strcspn(p, ", \t");

		if (len && e->n == ETCD_ENDPOINTS_MAX) {
			ir_etcd_free(e);
			return ir_error_set(ctx, -EINVAL, IR_ORIGIN_CONFIG, 0,
					    "fleet.endpoints: more than %d "
					    "endpoints",
					    ETCD_ENDPOINTS_MAX);
		}
		if (len && strncmp(p, "http://", 7) &&
		    strncmp(p, "https://", 8)) {
			ir_etcd_free(e);
			return ir_error_set(ctx, -EINVAL, IR_ORIGIN_CONFIG, 0,
					    "fleet.endpoints: \"%.*s\" is not "
					    "an http or https URL",
					    (int)len, p);
		}
		if (len) {
			e->url[e->n] = strndup(p, len);
			if (!e->url[e->n++]) {
				ir_etcd_free(e);
				return -ENOMEM;
			}
		}
		p += len;
		p += strspn(p, ", \t");
	}
	if (!e->n) {
		ir_etcd_free(e);
		return ir_error_set(ctx, -EINVAL, IR_ORIGIN_CONFIG, 0,
				    "fleet.endpoints is not set (etcd's "
				    "gateway, e.g. http://127.0.0.1:2379)");
	}
	*out = e;
	return 0;
}

void
ir_etcd_free(struct ir_etcd *e)
{
	size_t i;

	if (!e)
		return;
	for (i = 0; i < e->n; i++)
		free(e->url[i]);
	ir_buf_clear(&e->body);
	free(e);
}

const char *
ir_etcd_endpoint(const struct ir_etcd *e)
{
	return e->url[e->cur];
}

/* What the caller's stream reader is told (a watch, a keepalive). */
struct call {
	const char *path;
	const char *what;
	bool (*enough)(void *payload, const struct ir_buf *body);
	void *payload;
	uint64_t timeout_ms; /* 0: the client's */
	const bool *settled; /* true after an attempt: try no other member */
};

/* The gateway's own error answer, in a few words. */
static void
gateway_error(const struct ir_buf *body, long status, char *out, size_t cap)
{
	json_t *j = json_loadb((const char *)body->data, body->len, 0, NULL);
	const char *msg = json_string_value(json_object_get(j, "message"));

	if (!msg)
		msg = json_string_value(json_object_get(j, "error"));
	snprintf(out, cap, "HTTP %ld%s%s", status, msg ? ": " : "",
		 msg ? msg : "");
	json_decref(j);
}

/* Send req to the endpoints in turn; 0 with the answer parsed into *out
 * (the caller's to json_decref). */
static int
call_json(struct ir_etcd *e, const struct call *c, json_t *req, json_t **out,
	  struct ir_ctx *ctx)
{
	char *text = json_dumps(req, JSON_COMPACT);
	char said[900] = "";
	uint64_t timeout = c->timeout_ms ? c->timeout_ms : e->timeout_ms;
	int rc = -ENOMEM, last = -ETIMEDOUT;
	size_t k;

	json_decref(req);
	if (!text)
		return -ENOMEM;
	for (k = 0; k < e->n; k++) {
		size_t i = (e->cur + k) % e->n;
		struct ir_ctx one = { 0 };
		char url[600], why[300];
		long status = 0;

		snprintf(url, sizeof(url), "%s%s", e->url[i], c->path);
		rc = ir_http_exchange(url, text, timeout / 3 + 1, timeout,
				      c->what, &e->body, c->enough, c->payload,
				      &status, &one);
		if (rc == -ENOSPC || rc == -ENOSYS) {
			ir_error_set(ctx, rc, one.err.origin, 0, "%s",
				     ir_error_msg(&one, rc));
			goto out;
		}
		if (!rc && status == 200) {
			json_error_t jerr;

			*out = json_loadb((const char *)e->body.data,
					  e->body.len, JSON_DISABLE_EOF_CHECK,
					  &jerr);
			if (*out) {
				e->cur = i;
				goto out;
			}
			snprintf(why, sizeof(why), "unreadable answer: %s",
				 jerr.text);
			rc = -EPROTO;
		} else if (!rc) {
			gateway_error(&e->body, status, why, sizeof(why));
			rc = -EIO;
		} else {
			snprintf(why, sizeof(why), "%s",
				 ir_error_msg(&one, rc));
		}
		last = rc;
		ir_str_addf(said, sizeof(said), "%s: %s", e->url[i], why);
		if (c->settled && *c->settled) {
			e->cur = i;
			break;
		}
	}
	/* One member that timed out means the cluster could not answer in
	 * time (no quorum, or none reachable): that is the error to act
	 * on. */
	rc = strstr(said, "timed out") || strstr(said, "Timeout") ? -ETIMEDOUT
								   : last;
	ir_error_set(ctx, rc, IR_ORIGIN_CURL, 0,
		     "etcd: no member answered %s within %llu ms (%s)",
		     c->what, (unsigned long long)timeout, said);
out:
	free(text);
	return rc;
}

static int
call_simple(struct ir_etcd *e, const char *path, const char *what,
	    json_t *req, json_t **out, struct ir_ctx *ctx)
{
	struct call c = { path, what, NULL, NULL, 0, NULL };

	return call_json(e, &c, req, out, ctx);
}

/* An int64 the gateway sends as a string (or a number); 0 when absent. */
static int64_t
j_int(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	if (json_is_string(v))
		return strtoll(json_string_value(v), NULL, 10);
	if (json_is_integer(v))
		return (int64_t)json_integer_value(v);
	return 0;
}

static json_t *
j_b64(const char *s)
{
	char *enc = b64_encode(s, strlen(s));
	json_t *j = enc ? json_string(enc) : NULL;

	free(enc);
	return j;
}

static json_t *
j_i64(int64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%lld", (long long)v);
	return json_string(num);
}

void
ir_etcd_kvs_clear(struct ir_etcd_kvs *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		free(r->kv[i].key);
		free(r->kv[i].value);
	}
	free(r->kv);
	memset(r, 0, sizeof(*r));
}

const struct ir_etcd_kv *
ir_etcd_kvs_find(const struct ir_etcd_kvs *r, const char *key)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->kv[i].key, key))
			return &r->kv[i];
	return NULL;
}

void
ir_etcd_prefix_end(char *out, size_t cap, const char *prefix)
{
	size_t len;

	snprintf(out, cap, "%s", prefix);
	len = strlen(out);
	if (len)
		out[len - 1] = (char)(out[len - 1] + 1);
}

/* Append the kvs of a range answer to r. */
static int
add_kvs(struct ir_etcd_kvs *r, const json_t *answer)
{
	const json_t *kvs = json_object_get(answer, "kvs"), *kv;
	size_t i;

	json_array_foreach (kvs, i, kv) {
		const char *k = json_string_value(json_object_get(kv, "key"));
		const char *v = json_string_value(json_object_get(kv, "value"));
		struct ir_etcd_kv *x;
		size_t klen;

		if (r->n == r->cap) {
			size_t cap = r->cap ? 2 * r->cap : 16;
			void *p = realloc(r->kv, cap * sizeof(*r->kv));

			if (!p)
				return -ENOMEM;
			r->kv = p;
			r->cap = cap;
		}
		x = &r->kv[r->n];
		memset(x, 0, sizeof(*x));
		x->key = b64_decode(k ? k : "", &klen);
		x->value = b64_decode(v ? v : "", &x->value_len);
		if (!x->key || !x->value) {
			free(x->key);
			free(x->value);
			return -EPROTO;
		}
		x->create_rev = j_int(kv, "create_revision");
		x->mod_rev = j_int(kv, "mod_revision");
		x->version = j_int(kv, "version");
		x->lease = j_int(kv, "lease");
		r->n++;
	}
	return 0;
}

static int64_t
header_rev(const json_t *answer)
{
	return j_int(json_object_get(answer, "header"), "revision");
}

static json_t *
range_req(const char *key, const char *end)
{
	json_t *req = json_object();

	json_object_set_new(req, "key", j_b64(key));
	if (end)
		json_object_set_new(req, "range_end", j_b64(end));
	return req;
}

int
ir_etcd_range(struct ir_etcd *e, const char *key, const char *end,
	      struct ir_etcd_kvs *out, struct ir_ctx *ctx)
{
	json_t *ans = NULL;
	int rc;

	rc = call_simple(e, "/v3/kv/range", "a range", range_req(key, end),
			 &ans, ctx);
	if (rc)
		return rc;
	out->revision = header_rev(ans);
	rc = add_kvs(out, ans);
	json_decref(ans);
	if (rc == -EPROTO)
		ir_error_set(ctx, rc, IR_ORIGIN_CURL, 0,
			     "etcd: a range answered bad base64");
	return rc;
}

static json_t *
put_req(const char *key, const char *value, int64_t lease)
{
	json_t *req = json_object();

	json_object_set_new(req, "key", j_b64(key));
	json_object_set_new(req, "value", j_b64(value));
	if (lease)
		json_object_set_new(req, "lease", j_i64(lease));
	return req;
}

int
ir_etcd_put(struct ir_etcd *e, const char *key, const char *value,
	    int64_t lease, int64_t *rev, struct ir_ctx *ctx)
{
	json_t *ans = NULL;
	int rc;

	rc = call_simple(e, "/v3/kv/put", "a put", put_req(key, value, lease),
			 &ans, ctx);
	if (rc)
		return rc;
	if (rev)
		*rev = header_rev(ans);
	json_decref(ans);
	return 0;
}

int
ir_etcd_delete(struct ir_etcd *e, const char *key, const char *end,
	       int64_t *deleted, struct ir_ctx *ctx)
{
	json_t *ans = NULL;
	int rc;

	rc = call_simple(e, "/v3/kv/deleterange", "a delete",
			 range_req(key, end), &ans, ctx);
	if (rc)
		return rc;
	if (deleted)
		*deleted = j_int(ans, "deleted");
	json_decref(ans);
	return 0;
}

/* ---- transactions ------------------------------------------------------ */

static json_t *
cmp_json(const struct ir_etcd_cmp *c)
{
	static const char *const target[] = { "VERSION", "CREATE", "MOD",
					      "VALUE" };
	static const char *const field[] = { "version", "create_revision",
					     "mod_revision", "value" };
	static const char *const result[] = { "EQUAL", "GREATER", "LESS",
					      "NOT_EQUAL" };
	json_t *j = json_object();

	json_object_set_new(j, "key", j_b64(c->key));
	json_object_set_new(j, "target", json_string(target[c->target]));
	json_object_set_new(j, "result", json_string(result[c->result]));
	if (c->target == IR_ETCD_VALUE)
		json_object_set_new(j, "value",
				    j_b64(c->value ? c->value : ""));
	else
		json_object_set_new(j, field[c->target], j_i64(c->num));
	return j;
}

static json_t *
op_json(const struct ir_etcd_op *op)
{
	json_t *j = json_object();

	switch (op->kind) {
	case IR_ETCD_OP_PUT:
		json_object_set_new(j, "request_put",
				    put_req(op->key, op->value ? op->value : "",
					    op->lease));
		break;
	case IR_ETCD_OP_DELETE:
		json_object_set_new(j, "request_delete_range",
				    range_req(op->key, op->end));
		break;
	case IR_ETCD_OP_GET:
		json_object_set_new(j, "request_range",
				    range_req(op->key, op->end));
		break;
	}
	return j;
}

static json_t *
ops_json(const struct ir_etcd_op *ops, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, op_json(&ops[i]));
	return a;
}

int
ir_etcd_txn(struct ir_etcd *e, const struct ir_etcd_cmp *cmp, size_t ncmp,
	    const struct ir_etcd_op *then, size_t nthen,
	    const struct ir_etcd_op *els, size_t nels,
	    struct ir_etcd_txn_result *out, struct ir_ctx *ctx)
{
	json_t *req, *cmps, *ans = NULL, *resp;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	if (nthen > IR_ETCD_TXN_OPS || nels > IR_ETCD_TXN_OPS)
		return ir_error_set(ctx, -E2BIG, IR_ORIGIN_USAGE, 0,
				    "etcd: more than %d operations in one "
				    "transaction",
				    IR_ETCD_TXN_OPS);
	req = json_object();
	cmps = json_array();
	for (i = 0; i < ncmp; i++)
		json_array_append_new(cmps, cmp_json(&cmp[i]));
	json_object_set_new(req, "compare", cmps);
	json_object_set_new(req, "success", ops_json(then, nthen));
	json_object_set_new(req, "failure", ops_json(els, nels));
	rc = call_simple(e, "/v3/kv/txn", "a transaction", req, &ans, ctx);
	if (rc)
		return rc;
	out->succeeded = json_is_true(json_object_get(ans, "succeeded"));
	out->revision = header_rev(ans);
	json_array_foreach (json_object_get(ans, "responses"), i, resp) {
		const json_t *r = json_object_get(resp, "response_range");

		if (r && !rc)
			rc = add_kvs(&out->got, r);
	}
	json_decref(ans);
	return rc;
}

/* ---- leases ------------------------------------------------------------ */

int
ir_etcd_lease_grant(struct ir_etcd *e, int64_t ttl_s, int64_t *id,
		    struct ir_ctx *ctx)
{
	json_t *req = json_object(), *ans = NULL;
	int rc;

	json_object_set_new(req, "TTL", j_i64(ttl_s));
	json_object_set_new(req, "ID", j_i64(0));
	rc = call_simple(e, "/v3/lease/grant", "a lease grant", req, &ans,
			 ctx);
	if (rc)
		return rc;
	*id = j_int(ans, "ID");
	json_decref(ans);
	if (!*id)
		return ir_error_set(ctx, -EPROTO, IR_ORIGIN_CURL, 0,
				    "etcd: a lease grant answered no ID");
	return 0;
}

/* A streamed answer: enough once its first message is whole. */
static bool
first_message(void *payload, const struct ir_buf *body)
{
	(void)payload;
	return body->len && memchr(body->data, '\n', body->len);
}

int
ir_etcd_lease_keepalive(struct ir_etcd *e, int64_t id, int64_t *ttl,
			struct ir_ctx *ctx)
{
	struct call c = { "/v3/lease/keepalive", "a lease keepalive",
			  first_message, NULL, 0, NULL };
	json_t *req = json_object(), *ans = NULL, *res;
	int rc;

	json_object_set_new(req, "ID", j_i64(id));
	rc = call_json(e, &c, req, &ans, ctx);
	if (rc)
		return rc;
	res = json_object_get(ans, "result");
	*ttl = j_int(res ? res : ans, "TTL");
	json_decref(ans);
	if (*ttl <= 0)
		return ir_error_set(ctx, -ENOENT, IR_ORIGIN_CURL, 0,
				    "etcd: lease %llx has expired",
				    (unsigned long long)id);
	return 0;
}

int
ir_etcd_lease_revoke(struct ir_etcd *e, int64_t id, struct ir_ctx *ctx)
{
	json_t *req = json_object(), *ans = NULL;
	int rc;

	json_object_set_new(req, "ID", j_i64(id));
	rc = call_simple(e, "/v3/lease/revoke", "a lease revoke", req, &ans,
			 ctx);
	json_decref(ans);
	return rc;
}

/* ---- watch ------------------------------------------------------------- */

struct watch_state {
	bool created;
	bool changed;
	int64_t rev;
	size_t parsed; /* bytes of the stream read as messages */
};

/* Read each whole message of the stream: the first says the watch was
 * created, any with events ends the wait. */
static bool
watch_enough(void *payload, const struct ir_buf *body)
{
	struct watch_state *w = payload;
	const char *p = (const char *)body->data;

	for (;;) {
		const char *nl = memchr(p + w->parsed, '\n',
					body->len - w->parsed);
		json_t *m, *res;
		size_t len;

		if (!nl)
			return false;
		len = (size_t)(nl - (p + w->parsed));
		m = json_loadb(p + w->parsed, len, 0, NULL);
		w->parsed += len + 1;
		res = json_object_get(m, "result");
		if (json_is_true(json_object_get(res, "created")))
			w->created = true;
		if (json_array_size(json_object_get(res, "events"))) {
			w->changed = true;
			w->rev = header_rev(res);
		}
		json_decref(m);
		if (w->changed)
			return true;
	}
}

int
ir_etcd_watch(struct ir_etcd *e, const char *key, const char *end,
	      int64_t start_rev, uint64_t wait_ms, int64_t *rev,
	      struct ir_ctx *ctx)
{
	struct watch_state w = { 0 };
	struct call c = { "/v3/watch", "a watch", watch_enough, &w, 0,
			  &w.created };
	json_t *req = json_object(), *create = range_req(key, end);
	json_t *ans = NULL;
	struct ir_ctx quiet = { 0 };
	int rc;

	if (start_rev)
		json_object_set_new(create, "start_revision",
				    j_i64(start_rev));
	json_object_set_new(req, "create_request", create);
	c.timeout_ms = wait_ms;
	rc = call_json(e, &c, req, &ans, &quiet);
	json_decref(ans);
	if (w.changed) {
		if (rev)
			*rev = w.rev;
		return 0;
	}
	if (w.created)
		return 1;
	if (!rc)
		rc = -EPROTO;
	return ir_error_set(ctx, rc, quiet.err.origin, 0, "%s",
			    ir_error_msg(&quiet, rc));
}
