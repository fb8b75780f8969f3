/*
 * The world table: everything the executor touches outside its own log
 * goes through it (clocks, processes, HTTP, git, archives, files, the
 * report, the history the rules read, identity and the crash-test hook),
 * so the same executor serves a real rollback, a resume, a dry run over a
 * world that plans instead of acting (plan.h) and a test driving it with
 * a table of its own.  ir_effects_real wires the real adapters: posix_spawn
 * and /proc, libcurl, libgit2, libarchive, the file system and the clocks.
 * No step includes an adapter; each reaches the world through run->fx.
 */
#ifndef IR_EFFECTS_H
#define IR_EFFECTS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ir_archive.h"
#include "buf.h"
#include "error.h"
#include "evlog.h"
#include "files.h"
#include "gitops.h"
#include "health.h"
#include "proc.h"
#include "value.h"


#define IR_CHECKPOINT_SIGN 1u
#define IR_CHECKPOINT_KEEP 2u
#define IR_CHECKPOINT_CLOSE 4u

struct ir_effects {
	void *self;

	/* Clocks, ns; sleep, ms. */
	int64_t (*wall)(void *self);
	uint64_t (*mono)(void *self);
	void (*sleep_ms)(void *self, uint64_t ms);

	/* Processes (see proc.h). */
	int (*proc_run)(void *self, const struct ir_proc_opts *opts,
			struct ir_proc_result *out, struct ir_ctx *ctx);
	int (*proc_find)(void *self, const char *pattern, pid_t *pids,
			 size_t max, size_t *n, struct ir_ctx *ctx);
	/* A sleep of up to ms that ends once every one of pids (found by
	 * proc_find) has exited; NULL: sleep_ms. */
	void (*proc_wait_gone)(void *self, const pid_t *pids, size_t n,
			       uint64_t ms);
	bool (*group_alive)(void *self, pid_t pgid);
	int (*group_reap)(void *self, pid_t pgid, uint64_t wait_ms,
			  uint64_t grace_ms);

	/* HTTP (see health.h). */
	int (*http_get)(void *self, const char *url, uint64_t connect_ms,
			uint64_t total_ms, struct ir_http_result *out,
			struct ir_ctx *ctx);
	/* A webhook POST (see health.h); NULL: notifications are off. */
	int (*http_post_json)(void *self, const char *url, const char *json,
			      uint64_t timeout_ms, struct ir_ctx *ctx);

	/* Git: the deployment's work tree (see gitops.h). */
	int (*git_open)(void *self, const char *workdir, struct ir_git **out,
			struct ir_ctx *ctx);
	void (*git_close)(void *self, struct ir_git *git);
	int (*git_tags)(void *self, struct ir_git *git, const char *pattern,
			struct ir_git_tag **out, size_t *n, struct ir_ctx *ctx);
	int (*git_head)(void *self, struct ir_git *git,
			char commit[IR_GIT_OID_HEX], char *subject, size_t cap,
			bool *detached, struct ir_ctx *ctx);
	int (*git_tag_commit)(void *self, struct ir_git *git, const char *tag,
			      char commit[IR_GIT_OID_HEX], struct ir_ctx *ctx);
	int (*git_status)(void *self, struct ir_git *git, ir_git_status_fn fn,
			  void *payload, struct ir_ctx *ctx);
	int (*git_diff)(void *self, struct ir_git *git, struct ir_buf *out,
			struct ir_ctx *ctx);
	int (*git_conflicts)(void *self, struct ir_git *git, const char *tag,
			     const char *owned_dir, struct ir_buf *paths,
			     size_t *n, struct ir_ctx *ctx);
	int (*git_checkout)(void *self, struct ir_git *git, const char *tag,
			    bool force, const char *owned_dir,
			    struct ir_buf *conflicts, struct ir_ctx *ctx);
	int (*git_lock_file)(void *self, struct ir_git *git, const char *name,
			     bool *exists, int64_t *mtime_ns,
			     struct ir_ctx *ctx);
	int (*git_lock_remove)(void *self, struct ir_git *git,
			       const char *name, struct ir_ctx *ctx);

	/* Archives (see ir_archive.h). */
	int (*archive_create)(void *self, struct ir_archive_writer **out,
			      const char *final_path, const char *exclude,
			      struct ir_ctx *ctx);
	int (*archive_add_path)(void *self, struct ir_archive_writer *w,
				const char *root, const char *rel,
				struct ir_ctx *ctx);
	int (*archive_add_bytes)(void *self, struct ir_archive_writer *w,
				 const char *name, const void *p, size_t len,
				 struct ir_ctx *ctx);
	int (*archive_add_file_as)(void *self, struct ir_archive_writer *w,
				   const char *name, const char *path,
				   struct ir_ctx *ctx);
	int (*archive_finish)(void *self, struct ir_archive_writer *w,
			      struct ir_archive_info *out, struct ir_ctx *ctx);
	void (*archive_abort)(void *self, struct ir_archive_writer *w);
	int (*archive_extract)(void *self, const char *path, const char *dest,
			       const struct ir_extract_opts *opts,
			       struct ir_extract_info *out,
			       struct ir_ctx *ctx);

	/* Files (see files.h).  file_mode: 0 and *mode, or -errno. */
	int (*file_mode)(void *self, const char *path, unsigned *mode);
	int (*dir_make)(void *self, const char *path, struct ir_ctx *ctx);
	int (*dir_list)(void *self, const char *dir, ir_files_list_fn fn,
			void *payload, struct ir_ctx *ctx);
	int (*file_remove)(void *self, const char *path, struct ir_ctx *ctx);
	int (*files_diff)(void *self, const char *src, const char *dst,
			  ir_files_diff_fn fn, void *payload,
			  struct ir_ctx *ctx);
	int (*files_replace_dir)(void *self, const char *src, const char *dst,
				 struct ir_ctx *ctx);
	/* The last `lines` lines of a log file, as an array of strings (an
	 * empty one when it cannot be read). */
	struct ir_val *(*log_tail)(void *self, const char *path,
				   unsigned lines);

	/* The report: writes DATA_DIR/reports/INC-<id>.md (NULL: none). */
	int (*report_write)(void *self, uint64_t id, struct ir_ctx *ctx);
	/* History the rules read: tag's verdict (DESIGN.md, "Known-good and
	 * known-bad"), *bad or *good, and why ("INC-3 rolled back from it",
	 * "passed health in INC-2"); NULL: no tag has one. */
	void (*verdict)(void *self, const char *tag, bool *bad, bool *good,
			char *why, size_t cap);

	/* Sign a checkpoint of the ledger at head and keep it where
	 * checkpoints are kept (DATA_DIR/checkpoints/latest; at a close,
	 * also the anchors configured: a git note on the deployed commit).
	 * what says when ("INC-7 after backup").  how: IR_CHECKPOINT_SIGN
	 * and/or IR_CHECKPOINT_KEEP (the note the last SIGN alone made;
	 * head and what unused), and IR_CHECKPOINT_CLOSE.  The close's is
	 * signed inside the transaction that commits it and kept once that
	 * is durable: an anchor never names events a crash could still
	 * take back.  NULL: none is signed.
	 * SIGN | KEEP is called on the recorder's signer thread while the
	 * executor goes on: it must not use what the executor's thread
	 * uses meanwhile (the event log, the terminal). */
	int (*checkpoint)(void *self, const struct ir_ledger_head *head,
			  const char *what, unsigned how, struct ir_ctx *ctx);

	/* Identity: the pid the log records (NULL: 0). */
	pid_t (*pid)(void *self);
	/* The crash tests' hook, called once a step's step.started is
	 * durable (NULL: none).  The real one kills the process with
	 * SIGKILL when INCIDENT_TEST_CRASH_AT names the step and this is
	 * its first attempt. */
	void (*crash_point)(void *self, const char *step, unsigned attempt);
};

/* The table that acts on the real world.  Its operations ignore self, so
 * a caller may copy it and set self, report_write and verdict. */
extern const struct ir_effects ir_effects_real;


#endif
