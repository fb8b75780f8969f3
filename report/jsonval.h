/*
 * Our values as JSON (jansson): binary fields become lower-case hex.
 * Shared by the JSON report and `export --format jsonl`.
 */
#ifndef IR_JSONVAL_H
#define IR_JSONVAL_H

#include <jansson.h>

#include "codec.h"
#include "value.h"

/* A new JSON value for v (NULL when out of memory). */
json_t *ir_jsonval_from(const struct ir_val *v);

/* The whole event as a JSON object: v, seq, ts, mono, type, step (if any),
 * data, prev (hex). */
json_t *ir_jsonval_event(const struct ir_event *ev);

#endif
