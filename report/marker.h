/*
 * Markers: the moments of an incident worth jumping to, named the same in
 * `incident replay` (a line on the live display, where --pause-at-markers
 * stops) and in an asciicast ("m" events): each step's start, each
 * decision (the target chosen among them), each budget overrun, the close,
 * and last the chain head that ties what was played to the log.
 */
#ifndef IR_MARKER_H
#define IR_MARKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "evlog.h"
#include "state.h"

/* Room for a label: IR_MARKER_COLS characters of up to 4 bytes. */
#define IR_MARKER_COLS 120
#define IR_MARKER_BYTES (4 * IR_MARKER_COLS + 16)

/* The marker ev sets, st being the incident folded up to the event before
 * ev: true with its label in out ("3/9 checkout", "trading active? = yes",
 * "target: deploy-a -> deploy-b", "stop over budget: 7.2s of 5s",
 * "closed: succeeded"), NUL-ended, text
 * from the log sanitized as the terminal display sanitizes it and cut at
 * IR_MARKER_COLS; false (out "") when ev marks nothing or memory ran
 * out. */
bool ir_marker_label(char *out, size_t cap, const struct ir_state *st,
                     const struct ir_event *ev);

/* The last marker: "chain head 8a29b45c45096101… at seq 44" (the start of
 * the SHA-256 of the last record, as `incident verify` prints it). */
void ir_marker_head(char *out, size_t cap, const uint8_t head[IR_HASH_LEN],
                    uint64_t seq);

/* A replay's title: "INC-3 rollback deploy-a -> deploy-b" (the tags when
 * a target was chosen), sanitized as a label is. */
void ir_marker_title(char *out, size_t cap, const struct ir_incident *inc);

#endif
