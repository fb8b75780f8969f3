/*
 * The event codec: struct ir_event to and from its stored msgpack bytes
 * (schema version 1, docs/events.md).  The only module that includes
 * <msgpack.h> (codec.c: encoding, and decoding into values); codec_view.c
 * reads stored events in place for the long scans.
 */
#ifndef IR_CODEC_H
#define IR_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"
#include "value.h"

#define IR_SCHEMA_VERSION 1
#define IR_HASH_LEN 32

struct ir_event {
	uint64_t seq;
	int64_t ts;    /* wall clock, ns since the epoch */
	uint64_t mono; /* ns since the incident was opened */
	char type[32];
	char step[16];         /* "" when the event is not a step event */
	struct ir_val *data;   /* a map, owned; NULL reads as empty */
	uint8_t prev[IR_HASH_LEN];
};

/* What ir_codec_peek() reads without building the data tree. */
struct ir_event_head {
	uint64_t seq;
	int64_t ts;
	uint64_t mono;
	char type[32];
	char step[16];
	uint8_t prev[IR_HASH_LEN];
};

/* Release ev->data; the struct itself is the caller's. */
void ir_event_clear(struct ir_event *ev);

/* Append the msgpack form of ev to out.  -ENOMEM (also when ev->data
 * recorded a failed allocation), -ENOSPC past out's cap. */
int ir_codec_encode(struct ir_buf *out, const struct ir_event *ev) IR_WUR;

/* Decode one stored event.  On success *out is filled (out->data owned by
 * the caller); -EBADMSG for anything that is not a well-formed version 1
 * event, including lengths larger than the bytes left. */
int ir_codec_decode(struct ir_event *out, const void *p, size_t len) IR_WUR;

/* Decode the fixed fields only (what verify needs); same checks. */
int ir_codec_peek(struct ir_event_head *out, const void *p,
		  size_t len) IR_WUR;

/* Bytes inside a stored record. */
struct ir_codec_span {
	const void *p;
	size_t len;
};

/* Read a stored event in place (codec_view.c, no allocation): the fixed
 * fields into *head and, if data is not NULL, where its data map lies.
 * Same checks as ir_codec_decode() except the data's own contents, which
 * are only checked to be one well-formed map.  0 or -EBADMSG (also for
 * a record whose prev is not its last field). */
int ir_codec_view(struct ir_event_head *head, struct ir_codec_span *data,
		  const void *p, size_t len) IR_WUR;

/* Check that p holds exactly one msgpack object whose every declared length
 * fits in the bytes left; 0 or -EBADMSG.  Run before msgpack-c allocates. */
int ir_codec_check(const void *p, size_t len) IR_WUR;

/* Where the 32 bytes of prev lie in a stored event: the encoder writes
 * prev last ("prev", a bin 8 of 32 bytes), and every reader refuses a
 * record whose prev is not those last bytes.  NULL when the record does
 * not end so.  For the chain check, which needs nothing else. */
const uint8_t *ir_codec_prev_at_end(const void *p, size_t len);

struct ir_jtext;

/* The fields of a step.output event, pointing into the stored bytes (valid
 * as long as they are). */
struct ir_output_view {
	bool is_output;   /* the event is a step.output */
	bool err;         /* stream "err" */
	bool truncated;
	int64_t dropped;  /* 0 unless the recorder's cap was reached */
	const char *line; /* not NUL-terminated */
	size_t line_len;
};

/* One pass over a stored event: its fixed fields and, for step.output,
 * the output fields without copying them.  For the readers of long
 * incidents (reports, timelines), where almost every event is output and
 * building a value tree for each would cost more than the scan.  Same
 * checks as ir_codec_view(). */
int ir_codec_peek_output(struct ir_event_head *head,
			 struct ir_output_view *out, const void *p,
			 size_t len) IR_WUR;

/* The same fields from a record already viewed (head and data from
 * ir_codec_view()): out->is_output is false unless head is a step.output.
 * 0 or -EBADMSG. */
int ir_codec_output_at(struct ir_output_view *out,
		       const struct ir_event_head *head,
		       const struct ir_codec_span *data) IR_WUR;

/* The fields of a note as the readers show them, pointing into the stored
 * bytes: a field that is absent, of another type or empty reads as NULL. */
struct ir_note_view {
	const char *text; /* not NUL-terminated */
	size_t text_len;
	const char *author;
	size_t author_len;
	bool has_corrects; /* "corrects" is an integer >= 0 */
	uint64_t corrects;
};

/* Read a note's data in place (data from ir_codec_view()), as
 * ir_codec_decode() would give its fields, without building the value
 * tree: 0 when that would decode the data, -EBADMSG when it would not,
 * and 1 for data it leaves to ir_codec_decode() (a key holding a NUL).
 * For the timeline of a long incident, where notes are most of it. */
int ir_codec_note_at(struct ir_note_view *note,
		     const struct ir_codec_span *data) IR_WUR;

/* Whether ir_codec_decode() would decode this data (from ir_codec_view())
 * and its fields read in place are the ones it would give: 0 when both,
 * -EBADMSG when it would not decode, 1 when a key holds a NUL (the value
 * tree has rules of its own for those: decode it). */
int ir_codec_decodable(const struct ir_codec_span *data) IR_WUR;

/* ir_codec_decode() of a record already viewed: head and data from
 * ir_codec_view() of it (the record is not walked again). */
int ir_codec_decode_viewed(struct ir_event *out,
			   const struct ir_event_head *head,
			   const struct ir_codec_span *data) IR_WUR;

/* Append the stored event at p as one JSON object (no newline) to out, the
 * bytes jansson would print for ir_jsonval_event() of the decoded event,
 * without building the value tree; *head gets its fixed fields.  Same
 * checks as ir_codec_decode(); -ENOMEM when out could not grow. */
int ir_codec_json(struct ir_jtext *out, struct ir_event_head *head,
		  const void *p, size_t len) IR_WUR;

/* Encode / decode a lone value (a map), used for incident headers. */
int ir_codec_encode_val(struct ir_buf *out, const struct ir_val *v) IR_WUR;
int ir_codec_decode_val(struct ir_val **out, const void *p, size_t len) IR_WUR;

#endif
