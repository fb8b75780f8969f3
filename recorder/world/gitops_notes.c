/*
 * Git notes through libgit2: where a checkpoint of the log is anchored on
 * the deployed commit (refs/notes/incident-checkpoints), in the deploy
 * repository, which is pushed and cloned off the machine.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gitops_lib.h"

int
ir_git_note_append(struct ir_git *git, const char *ref, const char *commit,
		   const char *text, const char *author, struct ir_ctx *ctx)
{
	git_signature *sig = NULL;
	git_note *old = NULL;
	git_oid oid, note_id;
	char *joined = NULL;
	const char *msg = text;
	int rc;

	if (!git || !ref || !commit || !text || !author)
		return -EINVAL;
	rc = git_oid_fromstr(&oid, commit);
	if (rc < 0)
		return ir_git_fail(ctx, rc, "commit \"%s\"", commit);
	rc = git_signature_now(&sig, author, "incident@localhost");
	if (rc < 0)
		return ir_git_fail(ctx, rc, "the note's author");
	/* As `git notes append`: a paragraph after what is there. */
	rc = git_note_read(&old, git->repo, ref, &oid);
	if (rc == 0) {
		const char *was = git_note_message(old);
		size_t n = strlen(was);

		while (n && was[n - 1] == '\n')
			n--;
		joined = malloc(n + 2 + strlen(text) + 1);
		if (!joined) {
			rc = -ENOMEM;
			goto out;
		}
		memcpy(joined, was, n);
		memcpy(joined + n, "\n\n", 2);
		strcpy(joined + n + 2, text);
		msg = joined;
	} else if (rc != GIT_ENOTFOUND) {
		rc = ir_git_fail(ctx, rc, "the note of %s under %s", commit,
				 ref);
		goto out;
	}
	rc = git_note_create(&note_id, git->repo, ref, sig, sig, &oid, msg, 1);
	if (rc < 0)
		rc = ir_git_fail(ctx, rc, "cannot write the note of %s under %s",
				 commit, ref);
	else
		rc = 0;
out:
	free(joined);
	git_note_free(old);
	git_signature_free(sig);
	return rc;
}

struct notes_walk {
	struct ir_git *git;
	ir_git_note_fn fn;
	void *payload;
	int rc;
};

static int
note_one(const git_oid *blob_id, const git_oid *object_id, void *payload)
{
	struct notes_walk *w = payload;
	char commit[IR_GIT_OID_HEX];
	git_blob *blob = NULL;
	int rc;

	rc = git_blob_lookup(&blob, w->git->repo, blob_id);
	if (rc < 0)
		return rc;
	ir_git_oid_hex(commit, object_id);
	w->rc = w->fn(w->payload, commit, git_blob_rawcontent(blob),
		      (size_t)git_blob_rawsize(blob));
	git_blob_free(blob);
	/* Stop libgit2's walk; ours is in w->rc. */
	return w->rc ? GIT_EUSER : 0;
}

int
ir_git_notes(struct ir_git *git, const char *ref, ir_git_note_fn fn,
	     void *payload, struct ir_ctx *ctx)
{
	struct notes_walk w = { git, fn, payload, 0 };
	int rc;

	if (!git || !ref || !fn)
		return -EINVAL;
	rc = git_note_foreach(git->repo, ref, note_one, &w);
	if (rc == GIT_EUSER)
		return w.rc;
	if (rc == GIT_ENOTFOUND)
		return 0;
	if (rc < 0)
		return ir_git_fail(ctx, rc, "the notes under %s", ref);
	return 0;
}
