/* Unit tests for upload/return_body (returnBody templates) and
 * http/playback's Range parser: pure functions of the upload endpoint. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "http/playback.h"
#include "upload/return_body.h"

/* Custom variables an uploader chose, the hostile ones included. */
static const char *const test_xn[] = {"x:user", "x:empty", "x:foo", "x:name", "x:hash", "x:a&b", "x:utf8"};
static const char *const test_xv[] = {"alice", "", "1&hash=FAKE", "a b+c#d?e%f", "hash", "v", "vid\xc3\xa9o"};

static return_vars_t test_vars(void)
{
    return (return_vars_t){.bucket = "b", .key = "video/k.mp4", .fname = "k.mp4", .hash = "Fh",
                           .mime_type = "video/mp4", .fsize = 1234, .x_names = test_xn, .x_values = test_xv,
                           .x_count = sizeof(test_xn) / sizeof(test_xn[0])};
}

static void test_return_body(void **state)
{
    (void)state;
    return_vars_t v = test_vars();
    static const struct {
        const char *tmpl, *want;
    } cases[] = {
        {"", ""},
        {"plain", "plain"},
        {"key=$(key)&hash=$(hash)", "key=video%2Fk.mp4&hash=Fh"},
        {"b=$(bucket)&n=$(fname)&s=$(fsize)&m=$(mimeType)", "b=b&n=k.mp4&s=1234&m=video%2Fmp4"},
        {"u=$(x:user)&e=$(x:empty)&z=$(x:missing)", "u=alice&e=&z="},
        {"unknown=$(nope)", "unknown="},
        {"open=$(key", "open=$(key"},
        {"$(key)$(key)", "video%2Fk.mp4video%2Fk.mp4"},
        /* Template text is the owner's and stays as written. */
        {"a=1+2&b=%41", "a=1+2&b=%41"},
        /* A value never adds or changes a field (issue 10, finding 9). */
        {"foo=$(x:foo)", "foo=1%26hash%3DFAKE"},
        {"n=$(x:name)", "n=a%20b%2Bc%23d%3Fe%25f"},
        {"$(x:foo)=1", "1%26hash%3DFAKE=1"},
        {"u=$(x:utf8)", "u=vid%C3%A9o"},
        {"w=$(x:a&b)", "w=v"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        buf_t b;
        buf_init(&b, 0);
        assert_true(return_body_expand(cases[i].tmpl, &v, &b));
        assert_string_equal(b.data ? b.data : "", cases[i].want);
        buf_free(&b);
    }
}

/* mkfile's JSON: one member per template pair, the value as given. */
static void test_return_members(void **state)
{
    (void)state;
    return_vars_t v = test_vars();
    static const struct {
        const char *tmpl, *want; /* want: compact JSON with sorted keys */
    } cases[] = {
        {"", "{}"},
        {"plain", "{}"},
        {"=1&also", "{}"},
        {"n=$(fname)&s=$(fsize)&m=$(mimeType)&b=$(bucket)", "{\"b\":\"b\",\"m\":\"video/mp4\",\"n\":\"k.mp4\",\"s\":\"1234\"}"},
        /* hash and key are the answer's own, never from the template. */
        {"key=$(key)&hash=$(hash)&e=$(etag)", "{\"e\":\"Fh\"}"},
        {"u=$(x:user)&e=$(x:empty)&z=$(x:missing)", "{\"e\":\"\",\"u\":\"alice\",\"z\":\"\"}"},
        {"a=1+2&&b=%41&c=x=y", "{\"a\":\"1+2\",\"b\":\"%41\",\"c\":\"x=y\"}"},
        {"open=$(key", "{\"open\":\"$(key\"}"},
        /* A value cannot add a member, nor become hash. */
        {"foo=$(x:foo)", "{\"foo\":\"1&hash=FAKE\"}"},
        {"n=$(x:name)&u=$(x:utf8)", "{\"n\":\"a b+c#d?e%f\",\"u\":\"vid\\u00E9o\"}"},
        {"$(x:hash)=1&$(x:missing)=2", "{}"},
        {"$(x:foo)=1", "{\"1&hash=FAKE\":\"1\"}"},
        {"w=$(x:a&b)", "{\"w\":\"v\"}"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *obj = json_object();
        assert_non_null(obj);
        assert_true(return_body_members(cases[i].tmpl, &v, obj));
        char *got = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
        print_message("  %-50s -> %s\n", cases[i].tmpl, got);
        assert_string_equal(got, cases[i].want);
        free(got);
        json_decref(obj);
    }
}

/* $(persistentId): the queued job's id, empty when the upload queued none
 * (NULL or ""); in mkfile's members it is the answer's own, like hash. */
static void test_persistent_id(void **state)
{
    (void)state;
    static const char *const ids[] = {"tk0123456789abcdef0123456789abcd", "", NULL};
    static const char *const want[] = {"p=tk0123456789abcdef0123456789abcd&k=video%2Fk.mp4", "p=&k=video%2Fk.mp4",
                                       "p=&k=video%2Fk.mp4"};
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        return_vars_t v = test_vars();
        v.persistent_id = ids[i];
        buf_t b;
        buf_init(&b, 0);
        assert_true(return_body_expand("p=$(persistentId)&k=$(key)", &v, &b));
        assert_string_equal(b.data, want[i]);
        buf_free(&b);
        json_t *obj = json_object();
        assert_true(return_body_members("persistentId=$(x:user)&p=$(persistentId)", &v, obj));
        assert_null(json_object_get(obj, "persistentId"));
        assert_string_equal(json_string_value(json_object_get(obj, "p")), ids[i] ? ids[i] : "");
        json_decref(obj);
    }
}

static void test_range(void **state)
{
    (void)state;
    static const struct {
        const char *header;
        int64_t size;
        playback_range_kind_t kind;
        int64_t first, last;
    } cases[] = {
        {NULL, 100, PLAYBACK_RANGE_NONE, 0, 0},
        {"bytes=0-9", 100, PLAYBACK_RANGE_OK, 0, 9},
        {"bytes=90-", 100, PLAYBACK_RANGE_OK, 90, 99},
        {"bytes=90-200", 100, PLAYBACK_RANGE_OK, 90, 99},
        {"bytes=-10", 100, PLAYBACK_RANGE_OK, 90, 99},
        {"bytes=-1000", 100, PLAYBACK_RANGE_OK, 0, 99},
        {"bytes=99-99", 100, PLAYBACK_RANGE_OK, 99, 99},
        {"bytes=100-", 100, PLAYBACK_RANGE_UNSATISFIABLE, 0, 0},
        {"bytes=-0", 100, PLAYBACK_RANGE_UNSATISFIABLE, 0, 0},
        {"bytes=0-", 0, PLAYBACK_RANGE_UNSATISFIABLE, 0, 0},
        {"bytes=5-4", 100, PLAYBACK_RANGE_NONE, 0, 0},
        {"bytes=0-1,5-6", 100, PLAYBACK_RANGE_NONE, 0, 0},
        {"items=0-1", 100, PLAYBACK_RANGE_NONE, 0, 0},
        {"bytes=a-b", 100, PLAYBACK_RANGE_NONE, 0, 0},
        {"bytes=1-2x", 100, PLAYBACK_RANGE_NONE, 0, 0},
        {"bytes=-", 100, PLAYBACK_RANGE_NONE, 0, 0},
        {"bytes=9999999999999999999-", 100, PLAYBACK_RANGE_NONE, 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t first = -1, last = -1;
        playback_range_kind_t k = playback_parse_range(cases[i].header, cases[i].size, &first, &last);
        print_message("  %s (size %lld) -> %d %lld-%lld\n", cases[i].header ? cases[i].header : "(none)",
                      (long long)cases[i].size, k, (long long)first, (long long)last);
        assert_int_equal(k, cases[i].kind);
        if (k == PLAYBACK_RANGE_OK) {
            assert_int_equal(first, cases[i].first);
            assert_int_equal(last, cases[i].last);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_return_body),
        cmocka_unit_test(test_return_members),
        cmocka_unit_test(test_persistent_id),
        cmocka_unit_test(test_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
