/*
 * test_hash_follow: a chunk's MD5 computed by a hashing thread that reads
 * the block back while it is written (upload/hash_follow.c), against a real
 * local blob store and a real pool: the digest equals the MD5 of exactly
 * the bytes written from the start offset on, whatever the write sizes; a
 * follower cancelled mid-way, or whose pool is busy, is freed cleanly (the
 * sanitizer build checks the memory).
 */
#define _GNU_SOURCE /* nftw, in unit_tmpdir.h */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blob/blob.h"
#include "common/workpool.h"
#include "upload/hash_follow.h"
#include "unit_tmpdir.h"

#define ID "0123456789abcdef0123456789abcdef"
#define LEN (3 * 1024 * 1024 + 12345)

typedef struct fixture {
    char tmp[64];
    blob_t *blob;
    workpool_t *pool;
    uint8_t *data;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    *state = f;
    if (!unit_tmpdir_make(f->tmp, sizeof(f->tmp), "follow"))
        return -1;
    f->blob = blob_local_open(f->tmp);
    f->pool = workpool_new(2);
    f->data = malloc(LEN);
    if (!f->blob || !f->pool || !f->data)
        return -1;
    unsigned seed = 9;
    for (size_t i = 0; i < LEN; i++)
        f->data[i] = (uint8_t)rand_r(&seed);
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    if (f->pool)
        workpool_free(f->pool);
    if (f->blob)
        f->blob->ops->close(f->blob);
    unit_tmpdir_remove(f->tmp);
    free(f->data);
    free(f);
    return 0;
}

/* Writes data[from, to) to the block in `step`-byte writes, telling f. */
static void write_following(fixture_t *f, blob_writer_t *w, hash_follow_t *h, size_t from, size_t to, size_t step)
{
    for (size_t off = from; off < to; off += step) {
        size_t n = to - off < step ? to - off : step;
        assert_int_equal(f->blob->ops->write(w, f->data + off, n), BLOB_OK);
        hash_follow_written(h, n);
    }
}

static void md5_of(const uint8_t *data, size_t len, unsigned char out[16])
{
    assert_int_equal(EVP_Digest(data, len, out, NULL, EVP_md5(), NULL), 1);
}

/* A first chunk and a later one (appended at its offset), in writes of
 * several sizes: each digest is the MD5 of that chunk's bytes only. */
static void test_digest_of_each_chunk(void **state)
{
    fixture_t *f = *state;
    static const size_t steps[] = {333, 4096, 65536, 1000000, LEN};
    size_t cut = 1024 * 1024 + 7;
    for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
        size_t step = steps[s];
        unsigned char got[16], want[16];
        blob_writer_t *w = NULL;
        assert_int_equal(f->blob->ops->block_open(f->blob, ID, 0, &w), BLOB_OK);
        hash_follow_t *h = hash_follow_start(f->pool, f->blob, ID, 0);
        assert_non_null(h);
        write_following(f, w, h, 0, cut, step);
        assert_true(hash_follow_finish(h, got));
        md5_of(f->data, cut, want);
        assert_memory_equal(got, want, 16);
        f->blob->ops->writer_close(w);

        assert_int_equal(f->blob->ops->block_open(f->blob, ID, (int64_t)cut, &w), BLOB_OK);
        h = hash_follow_start(f->pool, f->blob, ID, (int64_t)cut);
        assert_non_null(h);
        write_following(f, w, h, cut, LEN, step);
        assert_true(hash_follow_finish(h, got));
        md5_of(f->data + cut, LEN - cut, want);
        assert_memory_equal(got, want, 16);
        f->blob->ops->writer_close(w);
    }
}

/* An empty chunk is MD5 of nothing; cancelled followers, with a job
 * running or not, free everything. */
static void test_empty_and_cancel(void **state)
{
    fixture_t *f = *state;
    blob_writer_t *w = NULL;
    assert_int_equal(f->blob->ops->block_open(f->blob, ID, 0, &w), BLOB_OK);
    hash_follow_t *h = hash_follow_start(f->pool, f->blob, ID, 0);
    assert_non_null(h);
    unsigned char got[16], want[16];
    assert_true(hash_follow_finish(h, got));
    md5_of(NULL, 0, want);
    assert_memory_equal(got, want, 16);

    for (int round = 0; round < 20; round++) {
        h = hash_follow_start(f->pool, f->blob, ID, 0);
        assert_non_null(h);
        if (round == 0)
            assert_int_equal(f->blob->ops->write(w, f->data, LEN), BLOB_OK);
        hash_follow_written(h, LEN);
        hash_follow_cancel(h);
    }
    hash_follow_cancel(NULL);
    f->blob->ops->writer_close(w);
}

/* A block that does not exist cannot be followed. */
static void test_missing_block(void **state)
{
    fixture_t *f = *state;
    assert_null(hash_follow_start(f->pool, f->blob, "ffffffffffffffffffffffffffffffff", 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_digest_of_each_chunk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_and_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_block, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
