/* The target choice: a pure function of tags, HEAD and TAG, and the
 * record the checkout step keeps of its input. */
#include "testutil.h"

#include <string.h>

#include "target.h"

/* Five tags, oldest first; t3 and t4 share a commit. */
static struct ir_tag_input tags[] = {
	{ "deploy-1", "c1", false, NULL, true, false },
	{ "deploy-2", "c2", true, "INC-3 rolled back from it", true, false },
	{ "deploy-3", "c3", false, NULL, true, false },
	{ "deploy-4", "c4", false, NULL, true, false },
	{ "deploy-5", "c5", false, NULL, true, false },
};

static struct ir_target_input
input(const char *head)
{
	struct ir_target_input in = { tags, 5, head, "deploy-*", NULL, NULL,
				      NULL };

	return in;
}

static void
deployed_is_newest_at_head(void **state)
{
	struct ir_tag_input two[] = {
		{ "deploy-a", "c9", false, NULL, true, false },
		{ "deploy-b", "c9", false, NULL, true, false },
	};

	(void)state;
	assert_int_equal(ir_target_deployed(tags, 5, "c4"), 3);
	assert_int_equal(ir_target_deployed(tags, 5, "nope"), 5);
	assert_int_equal(ir_target_deployed(two, 2, "c9"), 1);
}

static void
newest_older_not_known_bad(void **state)
{
	struct ir_target_input in = input("c3");
	struct ir_ctx ctx = { 0 };
	struct ir_target t;

	(void)state;
	/* From deploy-3: deploy-2 is known-bad, passed over and named. */
	assert_int_equal(ir_target_choose(&in, &t, &ctx), 0);
	assert_string_equal(t.from, "deploy-3");
	assert_string_equal(t.to, "deploy-1");
	assert_string_equal(t.to_commit, "c1");
	assert_int_equal(t.skipped->as.arr.len, 1);
	assert_string_equal(ir_val_get_str(&t.skipped->as.arr.items[0], "tag"),
			    "deploy-2");
	assert_string_equal(ir_val_get_str(&t.skipped->as.arr.items[0], "why"),
			    "INC-3 rolled back from it");
	ir_val_free(t.skipped);

	/* Untagged HEAD: the newest tag of all. */
	in = input("c0");
	assert_int_equal(ir_target_choose(&in, &t, &ctx), 0);
	assert_string_equal(t.from, "");
	assert_string_equal(t.to, "deploy-5");
	ir_val_free(t.skipped);
}

static void
same_commit_is_not_a_target(void **state)
{
	struct ir_tag_input same[] = {
		{ "deploy-1", "c1", false, NULL, true, false },
		{ "deploy-2", "c2", false, NULL, true, false },
		{ "deploy-3", "c2", false, NULL, true, false },
	};
	struct ir_target_input in = { same, 3, "c2", "deploy-*", NULL, NULL,
				      NULL };
	struct ir_ctx ctx = { 0 };
	struct ir_target t;

	(void)state;
	assert_int_equal(ir_target_choose(&in, &t, &ctx), 0);
	assert_string_equal(t.from, "deploy-3");
	assert_string_equal(t.to, "deploy-1");
	ir_val_free(t.skipped);
}

static void
none_left(void **state)
{
	struct ir_target_input in = input("c2");
	struct ir_ctx ctx = { 0 };
	struct ir_target t;

	(void)state;
	tags[0].known_bad = true;
	assert_int_equal(ir_target_choose(&in, &t, &ctx), -ENOENT);
	tags[0].known_bad = false;
	assert_non_null(strstr(ctx.err.msg, "older than deploy-2"));
	assert_non_null(strstr(ctx.err.msg, "\"deploy-*\""));
	assert_null(t.skipped);
}

static void
asked_tag_is_classified(void **state)
{
	struct ir_tag_input bad = { "deploy-2", "c2", true, "marked bad", true, false };
	struct ir_tag_input cur = { "deploy-4", "c4", false, NULL, true, false };
	struct ir_tag_input newer = { "deploy-5", "c5", false, NULL, true, false };
	struct ir_target_input in = input("c4");
	struct ir_ctx ctx = { 0 };
	struct ir_target t;

	(void)state;
	in.asked = &bad;
	assert_int_equal(ir_target_choose(&in, &t, &ctx), 0);
	assert_string_equal(t.to, "deploy-2");
	assert_true(t.known_bad);
	assert_string_equal(t.note, "deploy-2 is known-bad (marked bad)");
	ir_val_free(t.skipped);

	in.asked = &cur;
	assert_int_equal(ir_target_choose(&in, &t, &ctx), 0);
	assert_false(t.known_bad);
	assert_non_null(strstr(t.note, "deploy-4 is the deployed tag"));
	ir_val_free(t.skipped);

	in.asked = &newer;
	assert_int_equal(ir_target_choose(&in, &t, &ctx), 0);
	assert_string_equal(t.note, "deploy-5 is newer than the deployed "
				    "deploy-4: a roll-forward, not a rollback");
	ir_val_free(t.skipped);
}

/* What is recorded is enough to choose again, the same way. */
static void
record_reads_back_to_the_same_choice(void **state)
{
	struct ir_tag_input asked = { "deploy-5", "c5", false, NULL, true, false }, back_asked;
	const char *heads[] = { "c3", "c4", "c0", "c5" };
	size_t h;

	(void)state;
	for (h = 0; h < 8; h++) {
		struct ir_target_input in = input(heads[h % 4]), back;
		struct ir_tag_input *back_tags = NULL;
		struct ir_target t1, t2;
		struct ir_ctx ctx = { 0 };
		struct ir_val *rec;

		in.asked = h >= 4 ? &asked : NULL;
		assert_int_equal(ir_target_choose(&in, &t1, &ctx), 0);
		rec = ir_target_record(&in, &t1);
		assert_int_equal(ir_target_read(rec, &back, &back_tags,
						&back_asked),
				 0);
		assert_true(back.n <= in.n);
		assert_int_equal(ir_target_choose(&back, &t2, &ctx), 0);
		assert_string_equal(t1.from, t2.from);
		assert_string_equal(t1.to, t2.to);
		assert_string_equal(t1.note, t2.note);
		assert_int_equal(t1.skipped->as.arr.len,
				 t2.skipped->as.arr.len);
		free(back_tags);
		ir_val_free(rec);
		ir_val_free(t1.skipped);
		ir_val_free(t2.skipped);
	}
}

static void
a_record_with_tags_left_out_is_refused(void **state)
{
	struct ir_val *rec = ir_val_map_new();
	struct ir_target_input back;
	struct ir_tag_input *back_tags, asked;

	(void)state;
	ir_val_set_str(rec, "head", "c1");
	ir_val_set_take(rec, "tags", ir_val_array_new());
	ir_val_set_uint(rec, "omitted", 3);
	assert_int_equal(ir_target_read(rec, &back, &back_tags, &asked),
			 -EINVAL);
	ir_val_free(rec);
}

/* Each verdict costs a look through the log: only those the choice
 * reads are asked for. */
static void
count_consult(void *payload, struct ir_tag_input *tag)
{
	unsigned *calls = payload;

	(*calls)++;
	tag->known_bad = !strcmp(tag->name, "deploy-2");
	tag->why = tag->known_bad ? "bad" : NULL;
}

static void
only_the_verdicts_read_are_asked_for(void **state)
{
	struct ir_tag_input lazy[5];
	struct ir_target_input in = input("c3");
	struct ir_ctx ctx = { 0 };
	struct ir_target t;
	struct ir_val *rec;
	unsigned calls = 0;
	size_t i;

	(void)state;
	for (i = 0; i < 5; i++) {
		lazy[i] = tags[i];
		lazy[i].known_bad = false;
		lazy[i].consulted = false;
	}
	in.tags = lazy;
	in.consult = count_consult;
	in.payload = &calls;
	assert_int_equal(ir_target_choose(&in, &t, &ctx), 0);
	assert_string_equal(t.to, "deploy-1");
	assert_int_equal(calls, 2); /* deploy-2, then deploy-1 */
	assert_false(lazy[3].consulted);
	/* The record says what was read, and only that. */
	rec = ir_target_record(&in, &t);
	assert_non_null(ir_val_get(&ir_val_get(rec, "tags")->as.arr.items[1],
				   "known_bad"));
	assert_null(ir_val_get(&ir_val_get(rec, "tags")->as.arr.items[2],
			       "known_bad"));
	ir_val_free(rec);
	ir_val_free(t.skipped);
}

/* A known-good tag older than a never-tried one is preferred, and the
 * choice says which rule made it. */
static void
newest_known_good_first(void **state)
{
	/* Not consulted yet: the record holds only what the choice read. */
	struct ir_tag_input five[] = {
		{ "deploy-1", "c1", false, NULL, false, false },
		{ "deploy-2", "c2", false, "passed health in INC-4", false,
		  true },
		{ "deploy-3", "c3", false, NULL, false, false },
		{ "deploy-4", "c4", true, "INC-5 rolled back from it", false,
		  false },
		{ "deploy-5", "c5", false, NULL, false, false },
	};
	struct ir_target_input in = { five, 5, "c5", "deploy-*", NULL, NULL,
				      NULL };
	struct ir_ctx ctx = { 0 };
	struct ir_target t;
	struct ir_val *rec;

	(void)state;
	assert_int_equal(ir_target_choose(&in, &t, &ctx), 0);
	assert_string_equal(t.to, "deploy-2");
	assert_string_equal(t.rule, "known-good");
	assert_non_null(strstr(t.why, "passed health in INC-4"));
	/* The known-bad one passed over is named; the untried one is not. */
	assert_int_equal(t.skipped->as.arr.len, 1);
	assert_string_equal(ir_val_get_str(&t.skipped->as.arr.items[0], "tag"),
			    "deploy-4");
	/* The record holds what the choice read, from the chosen tag up. */
	rec = ir_target_record(&in, &t);
	assert_int_equal(ir_val_get(rec, "tags")->as.arr.len, 4);
	ir_val_free(rec);
	ir_val_free(t.skipped);

	/* No known-good: the newest not known-bad, as before. */
	five[1].known_good = false;
	assert_int_equal(ir_target_choose(&in, &t, &ctx), 0);
	assert_string_equal(t.to, "deploy-3");
	assert_string_equal(t.rule, "not known-bad");
	ir_val_free(t.skipped);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(newest_known_good_first),
		cmocka_unit_test(deployed_is_newest_at_head),
		cmocka_unit_test(newest_older_not_known_bad),
		cmocka_unit_test(same_commit_is_not_a_target),
		cmocka_unit_test(none_left),
		cmocka_unit_test(asked_tag_is_classified),
		cmocka_unit_test(record_reads_back_to_the_same_choice),
		cmocka_unit_test(a_record_with_tags_left_out_is_refused),
		cmocka_unit_test(only_the_verdicts_read_are_asked_for),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
