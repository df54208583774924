/*
 * test_client_wait: the decisions of `vodup upload --wait`
 * (client/client_wait.c), fed with getVideoInfo data as JSON texts:
 *
 *  - `uploaded` and `processing` with a task are pending, `ready` ends it,
 *    `failed` ends it as a failure; `created` and `uploading` (another
 *    upload over the video) are pending;
 *  - an answer the wait cannot go on from ends it at once with a reason:
 *    no data, no status, an unknown status, or an uploaded video without a
 *    taskId (a server that will never process it: polling it would only
 *    run into the deadline);
 *  - `progress` is read when it is a number (clamped to 0..100), else
 *    unknown;
 *  - the plain lines (one per change when stderr is not a terminal), and
 *    the poll interval: 0.5 s at first, then 1 s.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "client/client_wait.h"

static enum client_wait_verdict decide_text(const char *text, client_wait_state_t *st, char *why, size_t whylen)
{
    json_t *v = text ? json_loads(text, 0, NULL) : NULL;
    if (text)
        assert_non_null(v);
    why[0] = '\0';
    enum client_wait_verdict r = client_wait_decide(v, st, why, whylen);
    json_decref(v);
    return r;
}

static void test_decide(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        enum client_wait_verdict verdict;
        const char *status;
        int progress;
        const char *why; /* a part of the reason, for CLIENT_WAIT_INVALID */
    } cases[] = {
        {"{\"status\":\"uploaded\",\"taskId\":\"t1\",\"progress\":0}", CLIENT_WAIT_PENDING, "uploaded", 0, NULL},
        {"{\"status\":\"processing\",\"taskId\":\"t1\",\"progress\":42}", CLIENT_WAIT_PENDING, "processing", 42,
         NULL},
        {"{\"status\":\"processing\",\"taskId\":\"t1\",\"progress\":42.9}", CLIENT_WAIT_PENDING, "processing", 42,
         NULL},
        {"{\"status\":\"processing\",\"taskId\":\"t1\",\"progress\":null}", CLIENT_WAIT_PENDING, "processing", -1,
         NULL},
        {"{\"status\":\"processing\",\"taskId\":\"t1\",\"progress\":\"50\"}", CLIENT_WAIT_PENDING, "processing", -1,
         NULL},
        {"{\"status\":\"processing\",\"taskId\":\"t1\",\"progress\":-5}", CLIENT_WAIT_PENDING, "processing", 0, NULL},
        {"{\"status\":\"processing\",\"taskId\":\"t1\",\"progress\":250}", CLIENT_WAIT_PENDING, "processing", 100,
         NULL},
        {"{\"status\":\"uploading\",\"taskId\":null}", CLIENT_WAIT_PENDING, "uploading", -1, NULL},
        {"{\"status\":\"created\"}", CLIENT_WAIT_PENDING, "created", -1, NULL},
        {"{\"status\":\"ready\",\"taskId\":\"t1\",\"progress\":100}", CLIENT_WAIT_READY, "ready", 100, NULL},
        /* ready or failed are ends whatever else the answer holds */
        {"{\"status\":\"ready\"}", CLIENT_WAIT_READY, "ready", -1, NULL},
        {"{\"status\":\"failed\",\"failReason\":\"probe: not media\",\"taskId\":\"t1\"}", CLIENT_WAIT_FAILED,
         "failed", -1, NULL},
        {"{\"status\":\"failed\",\"taskId\":null}", CLIENT_WAIT_FAILED, "failed", -1, NULL},
        /* nothing will process it */
        {"{\"status\":\"uploaded\",\"progress\":0}", CLIENT_WAIT_INVALID, "uploaded", 0, "no processing task"},
        {"{\"status\":\"uploaded\",\"taskId\":null}", CLIENT_WAIT_INVALID, "uploaded", -1, "no processing task"},
        {"{\"status\":\"processing\",\"taskId\":7}", CLIENT_WAIT_INVALID, "processing", -1, "no processing task"},
        /* not an answer to go on from */
        {"{\"status\":\"canceled\",\"taskId\":\"t1\"}", CLIENT_WAIT_INVALID, "canceled", -1,
         "unexpected status 'canceled'"},
        {"{\"status\":\"\\u001b[2Jx\",\"taskId\":\"t1\"}", CLIENT_WAIT_INVALID, "?[2Jx", -1, "unexpected status '?[2Jx'"},
        {"{\"status\":\"\"}", CLIENT_WAIT_INVALID, "", -1, "no status"},
        {"{\"status\":3}", CLIENT_WAIT_INVALID, "", -1, "no status"},
        {"{}", CLIENT_WAIT_INVALID, "", -1, "no status"},
        {"[]", CLIENT_WAIT_INVALID, "", -1, "no video"},
        {NULL, CLIENT_WAIT_INVALID, "", -1, "no video"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        client_wait_state_t st;
        char why[256];
        enum client_wait_verdict v = decide_text(cases[i].json, &st, why, sizeof(why));
        if (v != cases[i].verdict)
            fail_msg("case %zu (%s): verdict %d, wanted %d", i, cases[i].json, v, cases[i].verdict);
        assert_string_equal(st.status, cases[i].status);
        assert_int_equal(st.progress, cases[i].progress);
        if (cases[i].why)
            assert_non_null(strstr(why, cases[i].why));
        else
            assert_string_equal(why, "");
    }
}

/* A status longer than the display's room is cut, never overflows. */
static void test_long_status(void **state)
{
    (void)state;
    char text[400], why[256];
    snprintf(text, sizeof(text), "{\"status\":\"%0200d\"}", 0);
    client_wait_state_t st;
    assert_int_equal(decide_text(text, &st, why, sizeof(why)), CLIENT_WAIT_INVALID);
    assert_int_equal(strlen(st.status), CLIENT_WAIT_STATUS_MAX - 1);
}

static void test_lines(void **state)
{
    (void)state;
    char line[64];
    client_wait_state_t a = {"processing", 42}, b = {"processing", 42}, c = {"processing", 43},
                        d = {"ready", 42}, e = {"uploaded", -1};
    client_wait_line(&a, line, sizeof(line));
    assert_string_equal(line, "processing 42%");
    client_wait_line(&e, line, sizeof(line));
    assert_string_equal(line, "uploaded");
    client_wait_line(&(client_wait_state_t){"failed", 30}, line, sizeof(line));
    assert_string_equal(line, "failed");
    client_wait_line(&d, line, sizeof(line));
    assert_string_equal(line, "ready 42%");
    assert_false(client_wait_changed(&a, &b));
    assert_true(client_wait_changed(&a, &c));
    assert_true(client_wait_changed(&a, &d));
    assert_true(client_wait_changed(&e, &(client_wait_state_t){"uploaded", 0}));
}

static void test_interval(void **state)
{
    (void)state;
    assert_int_equal(client_wait_interval_ms(0), 500);
    assert_int_equal(client_wait_interval_ms(9999), 500);
    assert_int_equal(client_wait_interval_ms(10000), 1000);
    assert_int_equal(client_wait_interval_ms(3600000), 1000);
    /* Never busier than 2 polls a second, never slower than 1 (docs/cli.md). */
    for (int64_t ms = 0; ms < 100000; ms += 250) {
        int64_t i = client_wait_interval_ms(ms);
        assert_true(i >= 500 && i <= 1000);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decide),
        cmocka_unit_test(test_long_status),
        cmocka_unit_test(test_lines),
        cmocka_unit_test(test_interval),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
