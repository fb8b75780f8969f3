/*
 * Hard limits on every buffer filled from outside: process output, HTTP
 * bodies, msgpack records, archive entries, configuration.  One place, so a
 * reviewer can see at a glance how much an input may cost us.
 */
#ifndef IR_LIMITS_H
#define IR_LIMITS_H

/* One step.output line; longer lines are cut and marked. */
#define IR_LIMIT_OUTPUT_LINE (4 * 1024)
/* Lines of output recorded per step; the rest is counted, not stored. */
#define IR_LIMIT_OUTPUT_LINES 10000
/* Group commit of step.output: flush after this many lines or this long.
 * A burst of 4,096 lines costs at most 16 MiB pending (4 KiB lines) and
 * amortises the two flushes of an LMDB commit well (measured here: 256
 * gives ~210k lines/s, 1,024 ~410-630k/s, 4,096 ~840k/s; the spread is the
 * disk's flush latency).  The 50 ms tick bounds the delay either way. */
#define IR_LIMIT_OUTPUT_BATCH 4096
#define IR_LIMIT_OUTPUT_BATCH_MS 50

/* One stored event (msgpack bytes). */
#define IR_LIMIT_EVENT_BYTES (1024 * 1024)
/* Nesting depth of a decoded msgpack value. */
#define IR_LIMIT_VALUE_DEPTH 16
/* Strings in config values, tags, paths. */
#define IR_LIMIT_STRING 4096

/* HTTP: the body kept of a probe, and the body read at most. */
#define IR_LIMIT_HTTP_BODY_KEPT 1024
#define IR_LIMIT_HTTP_BODY_READ (64 * 1024)

/* Process scan: matching processes reported. */
#define IR_LIMIT_PIDS 256
/* /proc/PID/cmdline read at most. */
#define IR_LIMIT_CMDLINE (64 * 1024)

/* Git: deploy tags listed at most, and the patch text of local changes
 * (cut at a line boundary and marked). */
#define IR_LIMIT_GIT_TAGS 100000
/* Tags the checkout step records of the window its choice read. */
#define IR_LIMIT_TARGET_TAGS 512
#define IR_LIMIT_GIT_DIFF_BYTES (64 * 1024 * 1024)

/* Configuration file size. */
#define IR_LIMIT_CONFIG_BYTES (1024 * 1024)

/* Log tail read by the verify step. */
#define IR_LIMIT_LOG_LINES 1000
#define IR_LIMIT_LOG_TAIL_BYTES (256 * 1024)

/* Archive extraction. */
#define IR_LIMIT_ARCHIVE_BYTES (8ULL * 1024 * 1024 * 1024)
#define IR_LIMIT_ARCHIVE_ENTRIES 1000000
#define IR_LIMIT_ARCHIVE_PATH 4096
#define IR_LIMIT_ARCHIVE_RATIO 1000
/* The ratio cap applies only past this many uncompressed bytes, so a small,
 * highly compressible archive (a log of repeated lines) still extracts. */
#define IR_LIMIT_ARCHIVE_RATIO_FLOOR (16ULL * 1024 * 1024)
/* Folder depth walked, copied or extracted: each level holds a descriptor. */
#define IR_LIMIT_TREE_DEPTH 256

/* Event log map: initial size and the step it grows by. */
#define IR_LIMIT_MAP_INITIAL (64ULL * 1024 * 1024)
#define IR_LIMIT_MAP_MAX (64ULL * 1024 * 1024 * 1024)

/* A rollback that succeeded this recently, whose target is still
 * deployed, makes a new rollback ask first (or need --force). */
#define IR_LIMIT_RECENT_ROLLBACK_MS (10 * 60 * 1000)

/* Reports: items kept per list (decisions, notes, backups, step runs ...),
 * bytes kept of one log string, samples kept for a median, and output lines
 * shown inside one collapsed run of the HTML timeline. */
#define IR_LIMIT_REPORT_ITEMS 256
#define IR_LIMIT_REPORT_TEXT 4096
#define IR_LIMIT_REPORT_SAMPLES 10000
#define IR_LIMIT_REPORT_RUN_LINES 200
/* Runs of step output indexed by the report's first pass (beyond: the
 * timeline pass reads every event). */
#define IR_LIMIT_REPORT_RUNS 65536
/* Folding (`incident report` without --full): a series of one kind longer
 * than IR_LIMIT_REPORT_FOLD (the notes; the observations of one kind; the
 * timeline rows of one event type, step and observation kind; the lines of
 * one run of step output) keeps its first and its last
 * IR_LIMIT_REPORT_FOLD_KEEP and says how many are left out between them.
 * Twenty rows are still read at a glance; a million never are.  Kinds are
 * told apart up to IR_LIMIT_REPORT_KINDS, the rest fold together as one. */
#define IR_LIMIT_REPORT_FOLD 20
#define IR_LIMIT_REPORT_FOLD_KEEP 10
#define IR_LIMIT_REPORT_KINDS 64

#endif
