/*
 * test_event_body: a webhook delivery's body: the envelope's fields in
 * order, the data object carried as it is, and what is refused (an unknown
 * type, data that is not a JSON object).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "events/event_body.h"
#include "store/store.h"

static void test_body(void **state)
{
    (void)state;
    char *body = event_body_json("ev1", STORE_EVENT_PROCESSING_COMPLETE, INT64_C(1764867600123), "vid1",
                                 "{\"videoId\":\"vid1\",\"status\":\"ready\",\"outputs\":[]}");
    assert_non_null(body);
    assert_string_equal(body, "{\"eventId\":\"ev1\",\"eventType\":\"ProcessingComplete\","
                              "\"eventTime\":\"2025-12-04T17:00:00.123Z\",\"videoId\":\"vid1\","
                              "\"data\":{\"videoId\":\"vid1\",\"status\":\"ready\",\"outputs\":[]}}");
    free(body);
}

static void test_refused(void **state)
{
    (void)state;
    assert_null(event_body_json("ev1", STORE_EVENT_KIND_COUNT, 0, "v", "{}"));
    assert_null(event_body_json("ev1", -1, 0, "v", "{}"));
    assert_null(event_body_json("ev1", 0, 0, "v", "[]"));
    assert_null(event_body_json("ev1", 0, 0, "v", "{\"a\":"));
    assert_null(event_body_json("ev1", 0, 0, "v", "{\"a\":1,\"a\":2}"));
    assert_null(event_body_json("ev1", 0, 0, "v", NULL));
    assert_null(event_body_json(NULL, 0, 0, "v", "{}"));
    assert_null(event_body_json("ev1", 0, 0, NULL, "{}"));
}

static void test_gone_data(void **state)
{
    (void)state;
    char *d = event_body_gone_data("vid\"1");
    assert_string_equal(d, "{\"videoId\":\"vid\\\"1\"}");
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_gone_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
