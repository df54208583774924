/*
 * test_client_record: the resume record of `vodup upload`
 * (client/client_record.c): the derived fileId, the JSON round trip, and
 * every way a record is refused so that it is never reused for other bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "client/client_record.h"

#define MIB (1024LL * 1024)

static const client_identity_t ident = {.dev = 2049, .ino = 1234567, .size = 10 * MIB + 5, .mtime_ns = 1795552941097099048LL};

static void test_file_id_valid(void **state)
{
    (void)state;
    assert_true(client_file_id_valid("a"));
    assert_true(client_file_id_valid("match-2024_07"));
    assert_true(client_file_id_valid("0123456789abcdef0123456789ABCDEF"));
    assert_false(client_file_id_valid(""));
    assert_false(client_file_id_valid(NULL));
    assert_false(client_file_id_valid("0123456789abcdef0123456789ABCDEF0")); /* 33 */
    assert_false(client_file_id_valid("a b"));
    assert_false(client_file_id_valid("a.b"));
    assert_false(client_file_id_valid("a/b"));
}

static void test_file_id_derive(void **state)
{
    (void)state;
    char a[CLIENT_FILE_ID_MAX + 1], b[CLIENT_FILE_ID_MAX + 1];
    assert_true(client_file_id_derive("http://h:1", "AK", "/v/clip.mp4", &ident, a));
    assert_int_equal(strlen(a), 32);
    assert_true(client_file_id_valid(a));
    /* Stable: the same inputs give the same id. */
    assert_true(client_file_id_derive("http://h:1", "AK", "/v/clip.mp4", &ident, b));
    assert_string_equal(a, b);
    /* Any change of identity, path, endpoint or key gives another. */
    client_identity_t other = ident;
    other.mtime_ns++;
    assert_true(client_file_id_derive("http://h:1", "AK", "/v/clip.mp4", &other, b));
    assert_string_not_equal(a, b);
    other = ident;
    other.size++;
    assert_true(client_file_id_derive("http://h:1", "AK", "/v/clip.mp4", &other, b));
    assert_string_not_equal(a, b);
    other = ident;
    other.ino++;
    assert_true(client_file_id_derive("http://h:1", "AK", "/v/clip.mp4", &other, b));
    assert_string_not_equal(a, b);
    assert_true(client_file_id_derive("http://h:1", "AK", "/v/clip2.mp4", &ident, b));
    assert_string_not_equal(a, b);
    assert_true(client_file_id_derive("http://h:2", "AK", "/v/clip.mp4", &ident, b));
    assert_string_not_equal(a, b);
    assert_true(client_file_id_derive("http://h:1", "AK2", "/v/clip.mp4", &ident, b));
    assert_string_not_equal(a, b);
    /* Fields are separated: moving a byte from one to the next changes the id. */
    assert_true(client_file_id_derive("http://h:1A", "K", "/v/clip.mp4", &ident, b));
    assert_string_not_equal(a, b);
}

static void test_block_count(void **state)
{
    (void)state;
    assert_int_equal(client_block_count(0, 4 * MIB), 0);
    assert_int_equal(client_block_count(1, 4 * MIB), 1);
    assert_int_equal(client_block_count(4 * MIB, 4 * MIB), 1);
    assert_int_equal(client_block_count(4 * MIB + 1, 4 * MIB), 2);
    assert_int_equal(client_block_count(100 * MIB, 8 * MIB), 13);
}

static void test_ctx_valid(void **state)
{
    (void)state;
    assert_true(client_ctx_valid("AYIihnNG-m6TIcTSPYFg--gAAAAA_x"));
    assert_false(client_ctx_valid(""));
    assert_false(client_ctx_valid("a,b"));
    assert_false(client_ctx_valid("a/b"));
    assert_false(client_ctx_valid("a b"));
    assert_false(client_ctx_valid("a%b"));
    char longer[CLIENT_CTX_MAX + 2];
    memset(longer, 'a', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    assert_false(client_ctx_valid(longer));
}

static void make_record(client_record_t *r)
{
    assert_true(client_record_init(r, "/v/clip.mp4", "http://h:1", "AK", "fid-1", &ident, 4 * MIB));
    assert_int_equal(r->block_count, 3);
    r->ctx[0] = strdup("ctx0");
    r->ctx[2] = strdup("ctx2");
    snprintf(r->md5, sizeof(r->md5), "%s", "0123456789abcdef0123456789abcdef");
    snprintf(r->video_id, sizeof(r->video_id), "%s", "01a20f4b9434cb7c038b451aaa5af20d");
}

static void test_round_trip(void **state)
{
    (void)state;
    client_record_t r, back;
    make_record(&r);
    char *json = client_record_to_json(&r);
    assert_non_null(json);
    assert_true(client_record_from_json(json, strlen(json), &back));
    assert_string_equal(back.path, "/v/clip.mp4");
    assert_string_equal(back.endpoint, "http://h:1");
    assert_string_equal(back.access_key, "AK");
    assert_string_equal(back.file_id, "fid-1");
    assert_true(client_identity_equal(&back.identity, &ident));
    assert_string_equal(back.md5, r.md5);
    assert_string_equal(back.video_id, r.video_id);
    assert_int_equal(back.block_size, 4 * MIB);
    assert_int_equal(back.block_count, 3);
    assert_string_equal(back.ctx[0], "ctx0");
    assert_null(back.ctx[1]);
    assert_string_equal(back.ctx[2], "ctx2");
    assert_true(client_record_matches(&back, "/v/clip.mp4", "http://h:1", "AK", &ident));
    client_identity_t changed = ident;
    changed.mtime_ns += 1;
    assert_false(client_record_matches(&back, "/v/clip.mp4", "http://h:1", "AK", &changed));
    assert_false(client_record_matches(&back, "/v/other.mp4", "http://h:1", "AK", &ident));
    assert_false(client_record_matches(&back, "/v/clip.mp4", "http://h:2", "AK", &ident));
    assert_false(client_record_matches(&back, "/v/clip.mp4", "http://h:1", "AK2", &ident));
    free(json);
    client_record_free(&back);
    client_record_free(&r);
}

/* Replaces member `key` of the record's JSON with `value` (NULL: removes it). */
static char *mutate(const char *json, const char *key, json_t *value)
{
    json_t *o = json_loads(json, 0, NULL);
    assert_non_null(o);
    if (value)
        json_object_set_new(o, key, value);
    else
        json_object_del(o, key);
    char *out = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return out;
}

static void test_refused(void **state)
{
    (void)state;
    client_record_t r, back;
    make_record(&r);
    char *json = client_record_to_json(&r);
    struct {
        const char *key;
        json_t *value;
    } cases[] = {
        {"version", json_integer(2)},
        {"version", NULL},
        {"md5", json_string("not-hex")},
        {"md5", json_string("0123456789ABCDEF0123456789ABCDEF")}, /* stored lowercase only */
        {"blockSize", json_integer(0)},
        {"fileId", json_string("has space")},
        {"blocks", json_pack("[s,n]", "a", NULL)},            /* wrong count for the size */
        {"blocks", json_pack("[s,n,s]", "a", NULL, "b,c")},   /* a ctx with a comma */
        {"blocks", json_pack("[s,n,i]", "a", NULL, 7)},       /* not a string */
        {"identity", json_pack("{s:i}", "dev", 1)},
        {"path", json_integer(1)},
        {"videoId", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *bad = mutate(json, cases[i].key, cases[i].value);
        assert_false(client_record_from_json(bad, strlen(bad), &back));
        free(bad);
    }
    assert_false(client_record_from_json("", 0, &back));
    assert_false(client_record_from_json("{", 1, &back));
    assert_false(client_record_from_json("[]", 2, &back));
    /* A truncated record (a crash without fsync) does not parse. */
    assert_false(client_record_from_json(json, strlen(json) / 2, &back));
    free(json);
    client_record_free(&r);
}

static void test_save_load_purge(void **state)
{
    (void)state;
    char dir[] = "/tmp/vodup-test-record-XXXXXX";
    assert_non_null(mkdtemp(dir));
    client_record_t r, back;
    make_record(&r);
    char file[512], other[512], tmp[600];
    snprintf(file, sizeof(file), "%s/fid-1.json", dir);
    char *json = client_record_to_json(&r);
    char err[256];
    assert_true(client_record_save(file, json, err, sizeof(err)));
    struct stat st;
    assert_int_equal(stat(file, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_true(client_record_load(file, &back));
    assert_string_equal(back.ctx[2], "ctx2");
    client_record_free(&back);

    /* A record of another file stays; the same path with another identity goes. */
    client_record_t o;
    client_identity_t old = ident;
    old.mtime_ns -= 1000;
    assert_true(client_record_init(&o, "/v/other.mp4", "http://h:1", "AK", "fid-2", &old, 4 * MIB));
    char *ojson = client_record_to_json(&o);
    snprintf(other, sizeof(other), "%s/fid-2.json", dir);
    assert_true(client_record_save(other, ojson, err, sizeof(err)));
    assert_int_equal(client_record_purge(dir, "/v/other.mp4", &old), 0);
    assert_int_equal(client_record_purge(dir, "/v/clip.mp4", &ident), 0);
    assert_int_equal(access(file, F_OK), 0);
    assert_int_equal(client_record_purge(dir, "/v/clip.mp4", &old), 1);
    assert_int_equal(access(file, F_OK), -1);
    assert_int_equal(access(other, F_OK), 0);

    /* A temp file left by a process that is gone is removed. */
    snprintf(tmp, sizeof(tmp), "%s/fid-2.json.tmp999999999", dir);
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    fclose(f);
    client_record_purge(dir, "/v/none", &ident);
    assert_int_equal(access(tmp, F_OK), -1);

    unlink(other);
    rmdir(dir);
    free(ojson);
    free(json);
    client_record_free(&o);
    client_record_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_id_valid), cmocka_unit_test(test_file_id_derive),
        cmocka_unit_test(test_block_count),   cmocka_unit_test(test_ctx_valid),
        cmocka_unit_test(test_round_trip),    cmocka_unit_test(test_refused),
        cmocka_unit_test(test_save_load_purge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
