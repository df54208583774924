/*
 * Unit tests for api/token_request: every getUploadToken parameter rule,
 * and the order in which errors are reported (the error table's order);
 * a refused extension's message lists the accepted ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "api/errors.h"
#include "api/token_request.h"

#define MAXP 8

typedef struct rule_case {
    const char *what;
    const char *params[MAXP][2]; /* name, value; terminated by a NULL name */
    int want_code;               /* JSON code; 200 = accepted */
} rule_case_t;

/* 40 and 41 code points, in ASCII and in CJK (3 bytes each). */
#define N36 "abcdefghijklmnopqrstuvwxyzabcdefghij"
#define CJK "\xe8\xa7\x86"
#define CJK10 CJK CJK CJK CJK CJK CJK CJK CJK CJK CJK
#define MD5 "0123456789abcdef0123456789ABCDEF"

static const rule_case_t rule_cases[] = {
    {"minimal", {{"originFileName", "a.mp4"}}, 200},
    {"missing name", {{"overwrite", "1"}}, 1606},
    {"empty name", {{"originFileName", ""}}, 1606},
    {"40 ASCII code points", {{"originFileName", N36 ".mp4"}}, 200},
    {"41 ASCII code points", {{"originFileName", N36 "x.mp4"}}, 1500},
    {"40 code points with CJK", {{"originFileName", CJK10 CJK10 CJK10 "123456.mp4"}}, 200},
    {"41 code points with CJK", {{"originFileName", CJK10 CJK10 CJK10 "1234567.mp4"}}, 1500},
    {"invalid UTF-8 name", {{"originFileName", "a\xff.mp4"}}, 400},
    {"control character in name", {{"originFileName", "a\tb.mp4"}}, 400},
    {"no extension", {{"originFileName", "movie"}}, 1607},
    {"not a media type", {{"originFileName", "notes.txt"}}, 1607},
    {"upper-case extension", {{"originFileName", "a.MKV"}}, 200},
    {"overwrite 1", {{"originFileName", "a.mp4"}, {"overwrite", "1"}}, 200},
    {"overwrite 2", {{"originFileName", "a.mp4"}, {"overwrite", "2"}}, 1608},
    {"overwrite empty", {{"originFileName", "a.mp4"}, {"overwrite", ""}}, 1608},
    {"overwrite 01", {{"originFileName", "a.mp4"}, {"overwrite", "01"}}, 1608},
    {"fileSize 0", {{"originFileName", "a.mp4"}, {"fileSize", "0"}}, 200},
    {"fileSize negative", {{"originFileName", "a.mp4"}, {"fileSize", "-1"}}, 1609},
    {"fileSize fraction", {{"originFileName", "a.mp4"}, {"fileSize", "1.5"}}, 1609},
    {"fileSize empty", {{"originFileName", "a.mp4"}, {"fileSize", ""}}, 1609},
    {"fileSize text", {{"originFileName", "a.mp4"}, {"fileSize", "12ab"}}, 1609},
    {"fileSize at limit", {{"originFileName", "a.mp4"}, {"fileSize", "68719476736"}}, 200},
    {"fileSize over limit", {{"originFileName", "a.mp4"}, {"fileSize", "68719476737"}}, 1610},
    {"fileSize overflows int64", {{"originFileName", "a.mp4"}, {"fileSize", "999999999999999999999999999999"}}, 1610},
    {"md5 empty", {{"originFileName", "a.mp4"}, {"fileMd5", ""}}, 1604},
    {"md5 33 chars", {{"originFileName", "a.mp4"}, {"fileMd5", MD5 "0"}}, 1605},
    {"md5 32 non-hex", {{"originFileName", "a.mp4"}, {"fileMd5", "0123456789abcdef0123456789abcdeg"}}, 400},
    {"md5 31 chars", {{"originFileName", "a.mp4"}, {"fileMd5", "0123456789abcdef0123456789abcde"}}, 400},
    {"md5 ok", {{"originFileName", "a.mp4"}, {"fileMd5", MD5}}, 200},
    {"fileId 32", {{"originFileName", "a.mp4"}, {"fileId", "abcdefghijklmnopqrstuvwxyz-_0123"}}, 200},
    {"fileId 33", {{"originFileName", "a.mp4"}, {"fileId", "abcdefghijklmnopqrstuvwxyz-_01234"}}, 400},
    {"fileId empty", {{"originFileName", "a.mp4"}, {"fileId", ""}}, 400},
    {"fileId slash", {{"originFileName", "a.mp4"}, {"fileId", "a/b"}}, 400},
    {"domain with space", {{"originFileName", "a.mp4"}, {"domain", "a b"}}, 400},
    {"empty domain is absent", {{"originFileName", "a.mp4"}, {"domain", ""}}, 200},
    {"workflowId malformed", {{"originFileName", "a.mp4"}, {"workflowId", "wf/1"}}, 400},
    {"categories ok", {{"originFileName", "a.mp4"}, {"categoryNames", "[{\"parentName\":\"p\",\"childName\":\"c\"}]"}}, 200},
    {"categories empty array", {{"originFileName", "a.mp4"}, {"categoryNames", "[]"}}, 200},
    {"categories not JSON", {{"originFileName", "a.mp4"}, {"categoryNames", "sports"}}, 400},
    {"categories object", {{"originFileName", "a.mp4"}, {"categoryNames", "{\"parentName\":\"p\"}"}}, 400},
    {"categories missing child", {{"originFileName", "a.mp4"}, {"categoryNames", "[{\"parentName\":\"p\"}]"}}, 400},
    {"categories empty name", {{"originFileName", "a.mp4"}, {"categoryNames", "[{\"parentName\":\"\",\"childName\":\"c\"}]"}}, 400},
    {"categories number name", {{"originFileName", "a.mp4"}, {"categoryNames", "[{\"parentName\":1,\"childName\":\"c\"}]"}}, 400},
    {"watermark malformed", {{"originFileName", "a.mp4"}, {"waterMarkName", "a b"}}, 400},
    {"template malformed", {{"originFileName", "a.mp4"}, {"transCodeCombineName", "a/b"}}, 400},
    {"subtitle malformed", {{"originFileName", "a.mp4"}, {"subtitleId", "s.1"}}, 400},
    {"workflow ignores malformed processing params",
     {{"originFileName", "a.mp4"}, {"workflowId", "wf1"}, {"waterMarkName", "a b"}, {"subtitleId", "s.1"}}, 200},
    /* Order: the error table's order, whatever order the parameters came in. */
    {"1606 before 1608", {{"overwrite", "x"}, {"originFileName", ""}}, 1606},
    {"1607 before 1608", {{"overwrite", "x"}, {"originFileName", "a.doc"}}, 1607},
    {"1608 before 1609", {{"fileSize", "x"}, {"originFileName", "a.mp4"}, {"overwrite", "x"}}, 1608},
    {"1610 before 1604", {{"fileMd5", ""}, {"originFileName", "a.mp4"}, {"fileSize", "99999999999999"}}, 1610},
    {"1605 before a bad fileId", {{"fileId", "a/b"}, {"originFileName", "a.mp4"}, {"fileMd5", MD5 "00"}}, 1605},
    {"1604 before bad categories", {{"categoryNames", "x"}, {"originFileName", "a.mp4"}, {"fileMd5", ""}}, 1604},
};

static void run_rule_case(const rule_case_t *c, config_t *cfg)
{
    params_t p;
    params_init(&p);
    for (size_t i = 0; i < MAXP && c->params[i][0]; i++)
        assert_true(params_add(&p, c->params[i][0], strlen(c->params[i][0]), c->params[i][1], strlen(c->params[i][1])));
    token_request_t r;
    char detail[256];
    int err = token_request_parse(&p, cfg, &r, detail, sizeof(detail));
    int code = api_error_info(err)->code;
    if (code != c->want_code)
        fail_msg("case '%s': got %d (%s), want %d", c->what, code, detail, c->want_code);
    if (err != API_OK)
        assert_true(detail[0] != '\0');
    else
        token_request_free(&r);
    params_free(&p);
}

static void test_token_request_rules(void **state)
{
    (void)state;
    config_t cfg;
    config_defaults(&cfg);
    char err[128];
    assert_true(config_finish(&cfg, err, sizeof(err)));
    for (size_t i = 0; i < sizeof(rule_cases) / sizeof(rule_cases[0]); i++)
        run_rule_case(&rule_cases[i], &cfg);
    config_free(&cfg);
}

static void test_token_request_values(void **state)
{
    (void)state;
    config_t cfg;
    config_defaults(&cfg);
    char err[128];
    assert_true(config_finish(&cfg, err, sizeof(err)));
    params_t p;
    params_init(&p);
    const char *kv[][2] = {{"originFileName", "clip.mp4"}, {"fileId", "resume-1"}, {"overwrite", "1"},
                           {"fileSize", "1048576"}, {"fileMd5", MD5}, {"cmd", "avthumb/mp4"},
                           {"waterMarkName", "logo"}, {"transCodeCombineName", "hd"}, {"subtitleId", "sub1"},
                           {"categoryNames", "[{\"parentName\":\"Sport\",\"childName\":\"Tennis\"},"
                                             "{\"parentName\":\"Sport\",\"childName\":\"Golf\"}]"}};
    for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
        params_add(&p, kv[i][0], strlen(kv[i][0]), kv[i][1], strlen(kv[i][1]));
    token_request_t r;
    char detail[256];
    assert_int_equal(token_request_parse(&p, &cfg, &r, detail, sizeof(detail)), API_OK);
    assert_string_equal(r.file_id, "resume-1");
    assert_true(r.overwrite);
    assert_int_equal(r.file_size, 1048576);
    assert_string_equal(r.file_md5, "0123456789abcdef0123456789abcdef"); /* lowercased */
    assert_string_equal(r.cmd, "avthumb/mp4");
    assert_string_equal(r.watermark_name, "logo");
    assert_string_equal(r.template_name, "hd");
    assert_string_equal(r.subtitle_id, "sub1");
    assert_int_equal(r.category_count, 2);
    assert_string_equal(r.categories[1].parent_name, "Sport");
    assert_string_equal(r.categories[1].child_name, "Golf");
    token_request_free(&r);

    /* With a workflow the processing parameters are not kept. */
    params_add(&p, "workflowId", 10, "wf0123", 6);
    assert_int_equal(token_request_parse(&p, &cfg, &r, detail, sizeof(detail)), API_OK);
    assert_string_equal(r.workflow_id, "wf0123");
    assert_null(r.cmd);
    assert_null(r.watermark_name);
    assert_null(r.template_name);
    assert_null(r.subtitle_id);
    assert_int_equal(r.category_count, 2); /* categories are not processing settings */
    token_request_free(&r);
    params_free(&p);
    config_free(&cfg);
}

static void test_token_request_media_extensions_option(void **state)
{
    (void)state;
    config_t cfg;
    config_defaults(&cfg);
    char err[128];
    assert_true(config_set(&cfg, "media-extensions", "MP4, webm", err, sizeof(err)));
    assert_true(config_finish(&cfg, err, sizeof(err)));
    assert_true(config_extension_accepted(&cfg, "mp4"));
    assert_true(config_extension_accepted(&cfg, "WEBM"));
    assert_false(config_extension_accepted(&cfg, "mkv"));
    assert_false(config_extension_accepted(&cfg, "mp"));
    config_free(&cfg);
}

/* The 1607 message for originFileName `name` with media-extensions `list`
 * (NULL: the default), into detail (detail_len bytes). */
static void refused_extension(const char *list, const char *name, char *detail, size_t detail_len)
{
    config_t cfg;
    config_defaults(&cfg);
    char err[128];
    assert_true(!list || config_set(&cfg, "media-extensions", list, err, sizeof(err)));
    assert_true(config_finish(&cfg, err, sizeof(err)));
    params_t p;
    params_init(&p);
    assert_true(params_add(&p, "originFileName", 14, name, strlen(name)));
    token_request_t r;
    assert_int_equal(api_error_info(token_request_parse(&p, &cfg, &r, detail, detail_len))->code, 1607);
    params_free(&p);
    config_free(&cfg);
}

static void test_token_request_refused_extension_lists_accepted(void **state)
{
    (void)state;
    char detail[256];
    refused_extension("mp4,mov", "notes.TXT", detail, sizeof(detail));
    assert_string_equal(detail, "Video source error: .txt is not an accepted extension (accepted: mp4,mov).");
    refused_extension("mp4,mov", "notes", detail, sizeof(detail));
    assert_string_equal(detail, "Video source error: the name has no extension (accepted: mp4,mov).");
    refused_extension("mp4,mov", "a.m p4", detail, sizeof(detail));
    assert_string_equal(detail, "Video source error: the name has no extension (accepted: mp4,mov).");
    /* The default list fits the API's 256-byte message whole. */
    refused_extension(NULL, "setup.exe", detail, sizeof(detail));
    assert_true(strncmp(detail, "Video source error: .exe is not an accepted extension (accepted: mp4,m4v,", 73) == 0);
    assert_non_null(strstr(detail, ",ape)."));
    /* Too long a list is cut at an extension and says so. */
    char small[80];
    refused_extension("mp4,mov,mkv,webm,avi,flv", "a.txt", small, sizeof(small));
    size_t n = strlen(small);
    assert_true(n < sizeof(small));
    assert_string_equal(small + n - 5, ",...)");
    assert_non_null(strstr(small, "(accepted: mp4,mov,...)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_request_rules),
        cmocka_unit_test(test_token_request_values),
        cmocka_unit_test(test_token_request_media_extensions_option),
        cmocka_unit_test(test_token_request_refused_extension_lists_accepted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
