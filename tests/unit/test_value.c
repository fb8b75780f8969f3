#include "testutil.h"

#include "value.h"

static void
map_set_get(void **state)
{
	struct ir_val *m = ir_val_map_new(), *arr = ir_val_array_new();
	int64_t i;

	ir_val_set_str(m, "s", "hello");
	ir_val_set_int(m, "i", -5);
	ir_val_set_uint(m, "u", 7);
	ir_val_set_bool(m, "b", true);
	ir_val_set_bin(m, "bin", "\0\1\2", 3);
	ir_val_push_str(arr, "a");
	ir_val_push_int(arr, 3);
	ir_val_set_take(m, "arr", arr);
	ir_val_set_str(m, "s", "again"); /* last one wins */

	assert_string_equal(ir_val_get_str(m, "s"), "again");
	assert_int_equal(ir_val_get_int(m, "i", 0), -5);
	assert_int_equal(ir_val_get_int(m, "u", 0), 7);
	assert_true(ir_val_get_bool(m, "b", false));
	assert_int_equal(ir_val_get(m, "bin")->as.str.len, 3);
	assert_int_equal(ir_val_get(m, "arr")->as.arr.len, 2);
	assert_null(ir_val_get(m, "missing"));
	assert_null(ir_val_get_str(m, "i")); /* wrong type */
	assert_int_equal(ir_val_get_int(m, "s", 42), 42);
	assert_false(m->failed);
	assert_int_equal(m->as.map.len, 6);
	assert_true(ir_val_as_int(ir_val_get(m, "u"), &i));
	ir_val_free(m);
}

static void
dup_is_deep(void **state)
{
	struct ir_val *m = ir_val_map_new(), *inner = ir_val_map_new(), *copy;

	ir_val_set_str(inner, "k", "v");
	ir_val_set_take(m, "inner", inner);
	copy = ir_val_dup(m);
	assert_non_null(copy);
	ir_val_free(m);
	assert_string_equal(
		ir_val_get_str(ir_val_get(copy, "inner"), "k"), "v");
	ir_val_free(copy);
}

static void
null_safe(void **state)
{
	ir_val_free(NULL);
	ir_val_clear(NULL);
	assert_null(ir_val_get(NULL, "x"));
	assert_null(ir_val_get_str(NULL, "x"));
	assert_null(ir_val_dup(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(map_set_get),
		cmocka_unit_test(dup_is_deep),
		cmocka_unit_test(null_safe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
