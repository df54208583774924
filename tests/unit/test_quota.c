/* Unit tests for upload/quota: the staged-bytes ledger and owner block ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "upload/quota.h"

static void test_block_id_names_its_owner(void **state)
{
    (void)state;
    static const quota_owner_t owners[] = {{0, 0}, {1, 1}, {42, 0xabcdef}, {0xffffffffffffLL, 0xffffff}};
    for (size_t i = 0; i < sizeof(owners) / sizeof(owners[0]); i++) {
        char id[BLOB_ID_LEN + 1], again[BLOB_ID_LEN + 1];
        assert_true(block_id_make(&owners[i], id));
        assert_int_equal(strlen(id), BLOB_ID_LEN);
        assert_int_equal(strspn(id, "0123456789abcdef"), BLOB_ID_LEN);
        quota_owner_t o;
        block_id_owner(id, &o);
        assert_int_equal(o.account_id, owners[i].account_id);
        assert_int_equal(o.token, owners[i].token);
        assert_true(block_id_make(&owners[i], again));
        assert_string_not_equal(id, again); /* the rest is random */
    }
}

static void test_take_respects_both_bounds(void **state)
{
    (void)state;
    quota_t *q = quota_new(100, 60, 0);
    quota_owner_t a = {7, 1}, b = {7, 2}, other = {8, 1};
    assert_int_equal(quota_take(q, &a, 60), QUOTA_OK);
    assert_int_equal(quota_take(q, &a, 1), QUOTA_TOKEN);
    assert_int_equal(quota_take(q, &b, 40), QUOTA_OK);
    assert_int_equal(quota_take(q, &b, 1), QUOTA_ACCOUNT);
    assert_int_equal(quota_take(q, &other, 60), QUOTA_OK); /* accounts are apart */
    assert_int_equal(quota_account_used(q, 7), 100);
    quota_give(q, &a, 60);
    assert_int_equal(quota_used(q, &a), 0);
    assert_int_equal(quota_account_used(q, 7), 40);
    assert_int_equal(quota_take(q, &b, 20), QUOTA_OK);
    quota_free(q);
}

static void test_block_set_moves_the_charge(void **state)
{
    (void)state;
    quota_t *q = quota_new(1000, 1000, 0);
    quota_owner_t o = {5, 9};
    char id[BLOB_ID_LEN + 1];
    assert_true(block_id_make(&o, id));
    quota_block_set(q, id, 300);
    assert_int_equal(quota_used(q, &o), 300);
    quota_block_set(q, id, 500); /* more acknowledged */
    assert_int_equal(quota_used(q, &o), 500);
    quota_block_set(q, id, 200); /* cut back to an earlier ctx */
    assert_int_equal(quota_account_used(q, 5), 200);
    assert_int_equal(quota_take(q, &o, 800), QUOTA_OK);
    assert_int_equal(quota_take(q, &o, 1), QUOTA_ACCOUNT);
    quota_block_set(q, id, 0); /* gone: mkfile or the sweep */
    assert_int_equal(quota_used(q, &o), 800);
    quota_block_set(q, id, 0); /* twice is harmless */
    assert_int_equal(quota_used(q, &o), 800);
    quota_free(q);
}

static void test_preauth_bound(void **state)
{
    (void)state;
    quota_t *q = quota_new(1, 1, 100);
    assert_true(quota_preauth_take(q, 70));
    assert_false(quota_preauth_take(q, 31));
    assert_true(quota_preauth_take(q, 30));
    quota_preauth_give(q, 100);
    assert_true(quota_preauth_take(q, 100));
    quota_free(q);
}

static void test_token_of_is_stable_and_24_bits(void **state)
{
    (void)state;
    uint32_t a = quota_token_of("AK:sig:policy", 13);
    assert_int_equal(a, quota_token_of("AK:sig:policy", 13));
    assert_true(a <= 0xffffff);
    assert_int_not_equal(a, quota_token_of("AK:sig:policz", 13));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_block_id_names_its_owner),
        cmocka_unit_test(test_take_respects_both_bounds),
        cmocka_unit_test(test_block_set_moves_the_charge),
        cmocka_unit_test(test_preauth_bound),
        cmocka_unit_test(test_token_of_is_stable_and_24_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
