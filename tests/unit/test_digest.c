/*
 * test_digest: the background hashes of finished blocks (upload/digest.c)
 * against a real local blob store: what digest_take hands mkfile must be
 * exactly the MD5 state and SHA-1 pieces of the blocks' current bytes, for
 * blocks that finish in order or not, and nothing for a block that a writer
 * opened after it was hashed or that another writer opened meanwhile.
 *
 * Each test opens a fresh store in its own mkdtemp directory under /tmp and
 * removes it afterwards.
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
#include "upload/digest.h"
#include "unit_tmpdir.h"

#define MIB ((size_t)1 << 20)
#define PIECE (4 * MIB)

typedef struct fixture {
    char tmp[64];
    blob_t *blob;
    digest_cache_t *dc;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    if (!unit_tmpdir_make(f->tmp, sizeof(f->tmp), "digest")) {
        free(f);
        return -1;
    }
    f->blob = blob_local_open(f->tmp);
    f->dc = f->blob ? digest_cache_start(f->blob) : NULL;
    *state = f;
    return f->dc ? 0 : -1;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    digest_cache_stop(f->dc);
    if (f->blob)
        f->blob->ops->close(f->blob);
    unit_tmpdir_remove(f->tmp);
    free(f);
    return 0;
}

/* ---- helpers ---- */

/* A file of `count` blocks of the given sizes, with ids and ctx values. */
typedef struct file {
    size_t count;
    size_t len;
    uint8_t *data;
    block_ctx_t blocks[4];
    size_t offs[4];
} file_t;

static void file_make(file_t *file, const size_t *sizes, size_t count, unsigned tag)
{
    unsigned seed = tag;
    memset(file, 0, sizeof(*file));
    file->count = count;
    for (size_t i = 0; i < count; i++) {
        file->offs[i] = file->len;
        file->len += sizes[i];
    }
    file->data = malloc(file->len);
    assert_non_null(file->data);
    for (size_t i = 0; i < file->len; i++)
        file->data[i] = (uint8_t)rand_r(&seed);
    for (size_t i = 0; i < count; i++) {
        block_ctx_t *b = &file->blocks[i];
        snprintf(b->block_id, sizeof(b->block_id), "%02x000000000000000000000000000%03x", tag & 0xff, (unsigned)(i & 0xfff));
        b->index = (int32_t)i;
        b->block_size = (int64_t)sizes[i];
        b->offset = (int64_t)sizes[i];
        memset(b->key_hash, (int)(tag & 0xff), sizeof(b->key_hash));
    }
}

/* Writes `len` bytes as block i's whole content, as a chunk writer would:
 * opened (digest_block_opened first), written, closed.  Returns the gen. */
static uint64_t write_block(fixture_t *f, const block_ctx_t *b, const uint8_t *bytes, size_t len)
{
    uint64_t gen = digest_block_opened(f->dc, b->block_id);
    assert_true(gen != 0);
    blob_writer_t *w = NULL;
    assert_int_equal(f->blob->ops->block_open(f->blob, b->block_id, 0, &w), BLOB_OK);
    assert_int_equal(f->blob->ops->write(w, bytes, len), BLOB_OK);
    assert_int_equal(f->blob->ops->sync(w), BLOB_OK);
    f->blob->ops->writer_close(w);
    return gen;
}

static void put_block(fixture_t *f, const file_t *file, size_t i)
{
    uint64_t gen = write_block(f, &file->blocks[i], file->data + file->offs[i], (size_t)file->blocks[i].offset);
    digest_block_done(f->dc, &file->blocks[i], gen);
}

/*
 * digest_take for the whole file: asserts how many blocks the MD5 state
 * covers and which blocks came with pieces, that those pieces are the
 * SHA-1s of the block's 4 MiB pieces, and that the MD5 state, fed the rest
 * of the file, gives the file's MD5.
 */
static void take_and_check(fixture_t *f, const file_t *file, size_t want_md5_blocks, const bool *want_pieces)
{
    EVP_MD_CTX *md5 = EVP_MD_CTX_new();
    assert_non_null(md5);
    assert_int_equal(EVP_DigestInit_ex(md5, EVP_md5(), NULL), 1);
    digest_known_t known;
    assert_true(digest_take(f->dc, file->blocks, file->count, md5, &known));
    assert_int_equal(known.md5_blocks, want_md5_blocks);
    size_t from = want_md5_blocks ? file->offs[want_md5_blocks - 1] + (size_t)file->blocks[want_md5_blocks - 1].offset : 0;
    assert_int_equal(EVP_DigestUpdate(md5, file->data + from, file->len - from), 1);
    uint8_t got[16], want[16];
    assert_int_equal(EVP_DigestFinal_ex(md5, got, NULL), 1);
    assert_int_equal(EVP_Digest(file->data, file->len, want, NULL, EVP_md5(), NULL), 1);
    assert_memory_equal(got, want, 16);
    for (size_t i = 0; i < file->count; i++) {
        if (!want_pieces[i]) {
            assert_null(known.pieces[i]);
            continue;
        }
        assert_non_null(known.pieces[i]);
        size_t len = (size_t)file->blocks[i].offset;
        for (size_t p = 0; p * PIECE < len; p++) {
            size_t n = len - p * PIECE < PIECE ? len - p * PIECE : PIECE;
            uint8_t sha1[20];
            assert_int_equal(EVP_Digest(file->data + file->offs[i] + p * PIECE, n, sha1, NULL, EVP_sha1(), NULL), 1);
            assert_memory_equal(known.pieces[i] + p * DIGEST_SHA1_LEN, sha1, 20);
        }
    }
    digest_known_free(&known, file->count);
    EVP_MD_CTX_free(md5);
}

/* ---- tests ---- */

static void test_in_order(void **state)
{
    fixture_t *f = *state;
    static const size_t sizes[] = {2 * PIECE, PIECE, 1000};
    static const bool all[] = {true, true, true};
    file_t file;
    file_make(&file, sizes, 3, 1);
    for (size_t i = 0; i < file.count; i++)
        put_block(f, &file, i);
    digest_wait_idle(f->dc);
    take_and_check(f, &file, 3, all);
    /* Taken means consumed: a second mkfile of the same blocks hashes itself. */
    static const bool none[] = {false, false, false};
    take_and_check(f, &file, 0, none);
    free(file.data);
}

/* Blocks that finish early wait for their turn in the MD5. */
static void test_out_of_order(void **state)
{
    fixture_t *f = *state;
    static const size_t sizes[] = {PIECE, PIECE, PIECE, 5};
    static const bool all[] = {true, true, true, true};
    file_t file;
    file_make(&file, sizes, 4, 2);
    static const size_t order[] = {3, 1, 0, 2};
    for (size_t k = 0; k < 4; k++)
        put_block(f, &file, order[k]);
    digest_wait_idle(f->dc);
    take_and_check(f, &file, 4, all);
    free(file.data);
}

/* A missing block 0 (finished before a restart, say): pieces, no MD5. */
static void test_no_first_block(void **state)
{
    fixture_t *f = *state;
    static const size_t sizes[] = {PIECE, PIECE, 77};
    static const bool later[] = {false, true, true};
    file_t file;
    file_make(&file, sizes, 3, 3);
    blob_writer_t *w = NULL;
    assert_int_equal(f->blob->ops->block_open(f->blob, file.blocks[0].block_id, 0, &w), BLOB_OK);
    assert_int_equal(f->blob->ops->write(w, file.data, sizes[0]), BLOB_OK);
    f->blob->ops->writer_close(w);
    put_block(f, &file, 1);
    put_block(f, &file, 2);
    digest_wait_idle(f->dc);
    take_and_check(f, &file, 0, later);
    free(file.data);
}

/* A block opened again after it was hashed (a chunk re-sent with an older
 * ctx) has new bytes: its pieces and every MD5 that covered it are void. */
static void test_reopened_block(void **state)
{
    fixture_t *f = *state;
    static const size_t sizes[] = {PIECE, PIECE, 300};
    file_t file;
    file_make(&file, sizes, 3, 4);
    uint8_t *junk = malloc(PIECE);
    assert_non_null(junk);
    memset(junk, 0xee, PIECE);
    put_block(f, &file, 0);
    uint64_t gen = write_block(f, &file.blocks[1], junk, PIECE);
    digest_block_done(f->dc, &file.blocks[1], gen);
    put_block(f, &file, 2);
    digest_wait_idle(f->dc);
    /* The right bytes now, by a writer that has not finished the block. */
    write_block(f, &file.blocks[1], file.data + sizes[0], PIECE);
    digest_wait_idle(f->dc);
    static const bool want[] = {true, false, true};
    take_and_check(f, &file, 0, want);
    free(junk);
    free(file.data);
}

/* A writer that finishes a block another writer opened since it did must
 * not have it hashed: the other writer's bytes may be anything. */
static void test_stale_writer(void **state)
{
    fixture_t *f = *state;
    static const size_t sizes[] = {1000};
    file_t file;
    file_make(&file, sizes, 1, 5);
    uint64_t first = digest_block_opened(f->dc, file.blocks[0].block_id);
    uint64_t second = write_block(f, &file.blocks[0], file.data, sizes[0]);
    assert_true(second != first);
    digest_block_done(f->dc, &file.blocks[0], first);
    digest_wait_idle(f->dc);
    static const bool none[] = {false};
    take_and_check(f, &file, 0, none);
    free(file.data);
}

/* Without the client's block index there is no order to keep an MD5 in. */
static void test_no_index(void **state)
{
    fixture_t *f = *state;
    static const size_t sizes[] = {PIECE, 10};
    static const bool all[] = {true, true};
    file_t file;
    file_make(&file, sizes, 2, 6);
    file.blocks[0].index = file.blocks[1].index = -1;
    put_block(f, &file, 0);
    put_block(f, &file, 1);
    digest_wait_idle(f->dc);
    take_and_check(f, &file, 0, all);
    free(file.data);
}

/* More blocks than the table holds: the oldest go, the newest stay usable. */
static void test_bounded(void **state)
{
    fixture_t *f = *state;
    block_ctx_t b = {.index = -1, .block_size = 1, .offset = 1};
    for (unsigned i = 0; i < DIGEST_MAX_BLOCKS + 50; i++) {
        snprintf(b.block_id, sizeof(b.block_id), "%08x000000000000000000000000", i);
        uint64_t gen = digest_block_opened(f->dc, b.block_id);
        assert_true(gen != 0);
        if (i + 1 == DIGEST_MAX_BLOCKS + 50) {
            static const uint8_t one = 'x';
            write_block(f, &b, &one, 1);
            gen = digest_block_opened(f->dc, b.block_id);
            digest_block_done(f->dc, &b, gen);
        }
    }
    digest_wait_idle(f->dc);
    file_t file = {.count = 1, .len = 1, .data = (uint8_t *)"x", .blocks = {b}};
    static const bool last[] = {true};
    take_and_check(f, &file, 0, last);
}

/* No cache (NULL): every call is a no-op and mkfile hashes everything. */
static void test_null_cache(void **state)
{
    (void)state;
    block_ctx_t b = {.block_id = "00000000000000000000000000000001", .index = 0, .block_size = 1, .offset = 1};
    assert_int_equal(digest_block_opened(NULL, b.block_id), 0);
    digest_block_done(NULL, &b, 1);
    digest_wait_idle(NULL);
    digest_known_t known;
    assert_true(digest_take(NULL, &b, 1, NULL, &known));
    assert_int_equal(known.md5_blocks, 0);
    assert_null(known.pieces[0]);
    digest_known_free(&known, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_first_block, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopened_block, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounded, setup, teardown),
        cmocka_unit_test(test_null_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
