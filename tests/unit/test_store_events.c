/*
 * test_store_events: the store's events and webhooks contract (store.h,
 * "events and webhooks") on the SQLite store:
 *  - webhooks: add (and what it refuses), list per account, remove;
 *  - an event is written with the state change that reports it, one
 *    delivery per subscribed webhook of the account, none when no webhook
 *    wants it; an upload, a task's success and its final failure (and a
 *    lost worker's last attempt) report; a retried failure does not;
 *  - deliveries: claim (oldest due first, leased; a lease that ran out is
 *    claimed again), the event's data frozen once, record (delivered,
 *    retried later, given up; another worker's record is a conflict), the
 *    listing, the pending count and pruning.
 */
#define _GNU_SOURCE /* nftw, in unit_tmpdir.h */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ids.h"
#include "store/store.h"
#include "unit_tmpdir.h"

#define T0 INT64_C(1700000000000)
#define LEASE INT64_C(15000)
#define PLAN "{\"steps\":[{\"kind\":\"probe\"}]}"
#define SECRET "whsec_0011"

#include "unit_store_fixture.h"
#include "schema_v6.h"

static int setup(void **state)
{
    return store_fixture_setup(state, "store-events");
}

static int teardown(void **state)
{
    return store_fixture_teardown(state);
}

static void add_webhook(fixture_t *f, int64_t account, const char *url, unsigned events, char id[64])
{
    store_webhook_t w;
    assert_int_equal(f->store->ops->webhook_add(f->store, account, url, events, SECRET, &w), STORE_OK);
    assert_int_equal(strlen(w.webhook_id), STORE_WEBHOOK_ID_LEN);
    assert_true(strncmp(w.webhook_id, "wh", 2) == 0);
    snprintf(id, 64, "%s", w.webhook_id);
    store_webhook_free(&w);
}

/* A new video of the account, uploaded at now_ms with a task queued. */
static void uploaded(fixture_t *f, int64_t account, int64_t now_ms, char vid[IDS_VIDEO_ID_LEN + 1],
                     char tid[STORE_TASK_ID_LEN + 1])
{
    char object_id[33];
    snprintf(object_id, sizeof(object_id), "%032x", ++f->objects);
    new_video(f->store, account, vid);
    store_video_upload_t u = {
        .account_id = account, .video_id = vid, .object_id = object_id, .size = 10,
        .md5 = "0123456789abcdef0123456789abcdef", .etag = "FhQ3rQ2V6TuGRUHm8-h2k8cKOnYq",
        .mime_type = "video/mp4", .now_ms = now_ms, .task_plan = PLAN, .task_id = tid};
    assert_int_equal(f->store->ops->video_set_uploaded(f->store, &u, NULL), STORE_OK);
}

static int64_t pending(fixture_t *f)
{
    int64_t n = -1;
    assert_int_equal(f->store->ops->delivery_pending_count(f->store, &n), STORE_OK);
    return n;
}

static void test_names(void **state)
{
    (void)state;
    static const char *const names[] = {"FileUploadComplete", "ProcessingComplete", "ProcessingFailed",
                                        "VideoDeleted", "PersistentNotify"};
    for (int i = 0; i < STORE_EVENT_KIND_COUNT; i++) {
        assert_string_equal(store_event_type_name(i), names[i]);
        assert_int_equal(store_event_type_parse(names[i]), i);
    }
    /* A job's notification is not a type a webhook subscribes to. */
    assert_int_equal(STORE_EVENT_PERSISTENT_NOTIFY, STORE_EVENT_TYPE_COUNT);
    assert_null(store_event_type_name(STORE_EVENT_KIND_COUNT));
    assert_int_equal(store_event_type_parse("fileuploadcomplete"), -1);
    assert_int_equal(store_event_type_parse(NULL), -1);
    assert_string_equal(store_delivery_state_name(STORE_DELIVERY_FAILED), "failed");
    assert_string_equal(store_delivery_state_name(7), "unknown");
}

static void test_webhooks(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    store_webhook_t w;
    assert_int_equal(s->ops->webhook_add(s, f->account, "http://a/", 0, SECRET, &w), STORE_INVALID);
    assert_int_equal(s->ops->webhook_add(s, f->account, "http://a/", 1u << STORE_EVENT_TYPE_COUNT, SECRET, &w),
                     STORE_INVALID);
    assert_int_equal(s->ops->webhook_add(s, f->account, "", 1, SECRET, &w), STORE_INVALID);
    assert_int_equal(s->ops->webhook_add(s, f->account, "http://a/", 1, NULL, &w), STORE_INVALID);
    char a[64], b[64], other[64];
    add_webhook(f, f->account, "http://a/", STORE_EVENT_ALL, a);
    add_webhook(f, f->account, "http://b/", 1u << STORE_EVENT_PROCESSING_FAILED, b);
    int64_t bob = new_account(s, "bob");
    add_webhook(f, bob, "http://bob/", STORE_EVENT_ALL, other);
    store_webhook_list_t l;
    assert_int_equal(s->ops->webhook_list(s, f->account, &l), STORE_OK);
    assert_int_equal(l.count, 2);
    assert_string_equal(l.items[0].url, "http://a/");
    assert_int_equal(l.items[0].events, STORE_EVENT_ALL);
    assert_string_equal(l.items[0].secret, SECRET);
    assert_string_equal(l.items[1].webhook_id, b);
    store_webhook_list_free(&l);
    /* Another account's webhook is not this account's to remove. */
    assert_int_equal(s->ops->webhook_remove(s, f->account, other), STORE_NOT_FOUND);
    assert_int_equal(s->ops->webhook_remove(s, f->account, a), STORE_OK);
    assert_int_equal(s->ops->webhook_remove(s, f->account, a), STORE_NOT_FOUND);
    assert_int_equal(s->ops->webhook_list(s, f->account, &l), STORE_OK);
    assert_int_equal(l.count, 1);
    store_webhook_list_free(&l);
}

static void test_events_fan_out_to_subscribers(void **state)
{
    fixture_t *f = *state;
    char vid[33], tid[STORE_TASK_ID_LEN + 1], a[64], b[64];
    uploaded(f, f->account, T0, vid, tid); /* no webhook: nothing is written */
    assert_int_equal(raw_count_at(f->path, "SELECT count(*) FROM events"), 0);
    add_webhook(f, f->account, "http://a/", STORE_EVENT_ALL, a);
    add_webhook(f, f->account, "http://b/", 1u << STORE_EVENT_PROCESSING_FAILED, b);
    int64_t bob = new_account(f->store, "bob");
    char bobs[64];
    add_webhook(f, bob, "http://bob/", STORE_EVENT_ALL, bobs);
    uploaded(f, f->account, T0 + 1, vid, tid);
    assert_int_equal(raw_count_at(f->path, "SELECT count(*) FROM events WHERE type = 'FileUploadComplete'"), 1);
    assert_int_equal(pending(f), 1); /* a only: b wants failures, bob is another account */
    assert_int_equal(raw_count_at(f->path, "SELECT count(*) FROM deliveries d JOIN webhooks w USING (webhook_id)"
                                           " WHERE w.url = 'http://a/'"),
                     1);
    /* The task fails for good: both of the account's webhooks hear it. */
    store_task_t t;
    assert_int_equal(f->store->ops->task_claim(f->store, "w1", T0 + 2, LEASE, &t), STORE_OK);
    assert_int_equal(f->store->ops->task_fail(f->store, t.task_id, "w1", T0 + 3, "probe: nope", false), STORE_OK);
    store_task_free(&t);
    assert_int_equal(raw_count_at(f->path, "SELECT count(*) FROM events WHERE type = 'ProcessingFailed'"), 1);
    assert_int_equal(pending(f), 3);
}

static void test_task_outcomes_report(void **state)
{
    fixture_t *f = *state;
    char vid[33], tid[STORE_TASK_ID_LEN + 1], a[64];
    add_webhook(f, f->account, "http://a/", (1u << STORE_EVENT_PROCESSING_COMPLETE) |
                                                (1u << STORE_EVENT_PROCESSING_FAILED), a);
    uploaded(f, f->account, T0, vid, tid);
    store_task_t t;
    /* A retried failure is not an event; success is. */
    assert_int_equal(f->store->ops->task_claim(f->store, "w1", T0, LEASE, &t), STORE_OK);
    assert_int_equal(f->store->ops->task_fail(f->store, t.task_id, "w1", T0 + 1, "transcode: busy", true), STORE_OK);
    store_task_free(&t);
    assert_int_equal(pending(f), 0);
    assert_int_equal(f->store->ops->task_claim(f->store, "w1", T0 + 60000, LEASE, &t), STORE_OK);
    assert_int_equal(f->store->ops->task_succeed(f->store, t.task_id, "w1", T0 + 60001, NULL, NULL), STORE_OK);
    store_task_free(&t);
    assert_int_equal(raw_count_at(f->path, "SELECT count(*) FROM events WHERE type = 'ProcessingComplete'"), 1);
    /* A worker lost on the last attempt: the claim that fails the task reports it. */
    uploaded(f, f->account, T0 + 70000, vid, tid);
    int64_t now = T0 + 70000;
    for (int i = 0; i < STORE_TASK_MAX_ATTEMPTS; i++) {
        assert_int_equal(f->store->ops->task_claim(f->store, "w1", now, LEASE, &t), STORE_OK);
        store_task_free(&t);
        now += LEASE + 1;
    }
    assert_int_equal(f->store->ops->task_claim(f->store, "w2", now, LEASE, &t), STORE_NOT_FOUND);
    assert_int_equal(raw_count_at(f->path, "SELECT count(*) FROM events WHERE type = 'ProcessingFailed'"), 1);
    assert_int_equal(pending(f), 2);
}

/* A persistent job with a notify URL: its PersistentNotify event and one
 * delivery to that URL, signed with its AccessKey's secret, are written
 * when it finishes (not before, and not for a job without a URL); the
 * status query reads the delivery's state; webhook listings never show it. */
static void test_job_notification(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    store_key_t k;
    assert_int_equal(s->ops->key_create(s, "alice", &k), STORE_OK);
    char vid[33], vid2[33], tid[STORE_TASK_ID_LEN + 1], tid2[STORE_TASK_ID_LEN + 1];
    uploaded(f, f->account, T0, vid, tid);
    uploaded(f, f->account, T0, vid2, tid2);
    store_task_job_t job = {"vframe/jpg/offset/1", "http://app.example/notify?x=1", k.access_key};
    store_task_job_t quiet = {"vframe/jpg/offset/2", NULL, k.access_key};
    store_task_job_t broken = {"vframe/jpg/offset/1", "http://app.example/", NULL};
    assert_int_equal(s->ops->task_enqueue(s, f->account, vid, PLAN, &broken, T0 + 1, tid), STORE_INVALID);
    assert_int_equal(s->ops->task_enqueue(s, f->account, vid, PLAN, &job, T0 + 1, tid), STORE_OK);
    assert_int_equal(s->ops->task_enqueue(s, f->account, vid2, PLAN, &quiet, T0 + 1, tid2), STORE_OK);
    store_task_t t;
    assert_int_equal(s->ops->task_get(s, -1, tid, &t), STORE_OK); /* any account: the id is the capability */
    assert_string_equal(t.fops, job.fops);
    assert_string_equal(t.notify_url, job.notify_url);
    assert_string_equal(t.access_key, k.access_key);
    store_task_free(&t);
    int state_now = 0;
    assert_int_equal(s->ops->job_notify_state(s, tid, &state_now), STORE_OK);
    assert_int_equal(state_now, -1); /* not finished: nothing to send */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(s->ops->task_claim(s, "w1", T0 + 2, LEASE, &t), STORE_OK);
        assert_int_equal(s->ops->task_succeed(s, t.task_id, "w1", T0 + 3, NULL, NULL), STORE_OK);
        store_task_free(&t);
    }
    assert_int_equal(raw_count_at(f->path, "SELECT count(*) FROM events WHERE type = 'PersistentNotify'"), 1);
    assert_int_equal(s->ops->job_notify_state(s, tid, &state_now), STORE_OK);
    assert_int_equal(state_now, STORE_DELIVERY_PENDING);
    store_delivery_t d;
    assert_int_equal(s->ops->delivery_claim(s, "w1", T0 + 4, LEASE, &d), STORE_OK);
    assert_int_equal(d.event_type, STORE_EVENT_PERSISTENT_NOTIFY);
    assert_null(d.webhook_id);
    assert_string_equal(d.url, job.notify_url);
    assert_string_equal(d.secret, k.secret_key);
    assert_string_equal(d.access_key, k.access_key);
    assert_string_equal(d.task_id, tid);
    store_delivery_attempt_t ok = {.delivered = true, .status = 200};
    assert_int_equal(s->ops->delivery_record(s, d.delivery_id, "w1", T0 + 5, &ok), STORE_OK);
    store_delivery_free(&d);
    assert_int_equal(s->ops->job_notify_state(s, tid, &state_now), STORE_OK);
    assert_int_equal(state_now, STORE_DELIVERY_DELIVERED);
    assert_int_equal(s->ops->job_notify_state(s, tid2, &state_now), STORE_OK);
    assert_int_equal(state_now, -1);
    store_delivery_list_t l;
    assert_int_equal(s->ops->delivery_list(s, f->account, NULL, 10, &l), STORE_OK);
    assert_int_equal(l.count, 0);
    store_delivery_list_free(&l);
    store_key_free(&k);
}

/* A version-6 database's webhooks, events, deliveries and outputs come
 * through migration 7 (which rebuilds their tables) unchanged, and a
 * pending delivery is still claimed with its webhook's url and secret. */
static void test_migrate_from_v6_keeps_the_outbox(void **state)
{
    fixture_t *f = *state;
    char path[160];
    snprintf(path, sizeof(path), "%s/v6.db", f->dir);
    raw_exec_at(path, "PRAGMA journal_mode = WAL");
    raw_exec_at(path, schema_v6);
    raw_exec_at(path,
                "PRAGMA user_version = 6;"
                "INSERT INTO accounts (id, name, bucket, created_ms) VALUES (7, 'old', 'vod-00000000000000aa', 1);"
                "INSERT INTO videos (video_id, account_id, name, file_key, bucket, status, size, created_ms,"
                " uploaded_ms, object_id) VALUES ('v6v6', 7, 'old.mp4', 'video/20240101/v6v6/old.mp4',"
                " 'vod-00000000000000aa', 'ready', 42, 2, 3, 'o6');"
                "INSERT INTO outputs (video_id, position, type, key, size) VALUES"
                " ('v6v6', 0, 'cover', 'video/20240101/v6v6/cover.jpg', 9);"
                "INSERT INTO webhooks (webhook_id, account_id, url, events, secret, created_ms) VALUES"
                " ('wh6', 7, 'http://old.example/hook', 15, 'whsec_6', 1);"
                "INSERT INTO events (seq, event_id, account_id, video_id, type, created_ms) VALUES"
                " (5, 'ev6', 7, 'v6v6', 'FileUploadComplete', 3);"
                "INSERT INTO deliveries (delivery_id, event_seq, webhook_id, state, attempts, next_attempt_ms)"
                " VALUES (9, 5, 'wh6', 'pending', 2, 4);");
    f->store->ops->close(f->store);
    f->store = open_store(path);
    assert_non_null(f->store);
    assert_int_equal(raw_count_at(path, "PRAGMA user_version"), store_schema_target());
    assert_int_equal(raw_count_at(path, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
    assert_int_equal(raw_count_at(path, "SELECT count(*) FROM outputs WHERE type = 'cover'"), 1);
    store_delivery_t d;
    assert_int_equal(f->store->ops->delivery_claim(f->store, "w1", T0, LEASE, &d), STORE_OK);
    assert_int_equal(d.delivery_id, 9);
    assert_string_equal(d.event_id, "ev6");
    assert_string_equal(d.webhook_id, "wh6");
    assert_string_equal(d.url, "http://old.example/hook");
    assert_string_equal(d.secret, "whsec_6");
    assert_int_equal(d.attempts, 2);
    assert_null(d.task_id);
    store_delivery_free(&d);
    /* Removing the webhook still takes its deliveries (the foreign key came through). */
    assert_int_equal(f->store->ops->webhook_remove(f->store, 7, "wh6"), STORE_OK);
    assert_int_equal(raw_count_at(path, "SELECT count(*) FROM deliveries"), 0);
}

static void test_claim_record_and_list(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    char vid1[33], vid2[33], tid[STORE_TASK_ID_LEN + 1], a[64];
    add_webhook(f, f->account, "http://a/", STORE_EVENT_ALL, a);
    uploaded(f, f->account, T0, vid1, tid);
    uploaded(f, f->account, T0 + 10, vid2, tid);
    store_delivery_t d, d2;
    assert_int_equal(s->ops->delivery_claim(s, "w1", T0 - 1, LEASE, &d), STORE_NOT_FOUND); /* not due yet */
    assert_int_equal(s->ops->delivery_claim(s, "w1", T0 + 20, LEASE, &d), STORE_OK);
    assert_string_equal(d.video_id, vid1); /* due longest */
    assert_int_equal(d.event_type, STORE_EVENT_UPLOAD_COMPLETE);
    assert_int_equal(d.event_ms, T0);
    assert_string_equal(d.url, "http://a/");
    assert_string_equal(d.secret, SECRET);
    assert_null(d.data);
    assert_int_equal(d.attempts, 0);
    /* Leased: the next claim takes the other one, then none. */
    assert_int_equal(s->ops->delivery_claim(s, "w2", T0 + 20, LEASE, &d2), STORE_OK);
    assert_string_equal(d2.video_id, vid2);
    store_delivery_t none;
    assert_int_equal(s->ops->delivery_claim(s, "w3", T0 + 20, LEASE, &none), STORE_NOT_FOUND);

    /* The data is frozen by the first writer. */
    char *data = NULL;
    assert_int_equal(s->ops->delivery_set_data(s, d.event_id, "{\"a\":1}", &data), STORE_OK);
    assert_string_equal(data, "{\"a\":1}");
    free(data);
    assert_int_equal(s->ops->delivery_set_data(s, d.event_id, "{\"a\":2}", &data), STORE_OK);
    assert_string_equal(data, "{\"a\":1}");
    free(data);

    /* w1's attempt fails and is retried later; w2's lease runs out unrecorded. */
    store_delivery_attempt_t fail = {.status = 500, .error = "HTTP 500", .next_attempt_ms = T0 + 5000};
    assert_int_equal(s->ops->delivery_record(s, d.delivery_id, "w2", T0 + 30, &fail), STORE_CONFLICT);
    assert_int_equal(s->ops->delivery_record(s, d.delivery_id, "w1", T0 + 30, &fail), STORE_OK);
    assert_int_equal(s->ops->delivery_record(s, d.delivery_id, "w1", T0 + 31, &fail), STORE_CONFLICT);
    assert_int_equal(s->ops->delivery_claim(s, "w3", T0 + 4999, LEASE, &none), STORE_NOT_FOUND);
    store_delivery_t again;
    assert_int_equal(s->ops->delivery_claim(s, "w3", T0 + 20 + LEASE, LEASE, &again), STORE_OK);
    assert_string_equal(again.video_id, vid2); /* w2's, its lease run out (due since T0 + 10) */
    store_delivery_free(&again);
    assert_int_equal(s->ops->delivery_claim(s, "w3", T0 + 20 + LEASE, LEASE, &again), STORE_OK);
    assert_string_equal(again.video_id, vid1);
    assert_int_equal(again.attempts, 1);
    assert_string_equal(again.data, "{\"a\":1}");
    store_delivery_attempt_t ok = {.delivered = true, .status = 204};
    assert_int_equal(s->ops->delivery_record(s, again.delivery_id, "w3", T0 + 40000, &ok), STORE_OK);
    assert_int_equal(pending(f), 1);

    store_delivery_list_t l;
    assert_int_equal(s->ops->delivery_list(s, f->account, NULL, 10, &l), STORE_OK);
    assert_int_equal(l.count, 2);
    assert_string_equal(l.items[0].video_id, vid1); /* the latest attempt first */
    assert_int_equal(l.items[0].state, STORE_DELIVERY_DELIVERED);
    assert_int_equal(l.items[0].attempts, 2);
    assert_int_equal(l.items[0].last_status, 204);
    assert_null(l.items[0].last_error);
    store_delivery_list_free(&l);
    assert_int_equal(s->ops->delivery_list(s, f->account, "whnone", 10, &l), STORE_OK);
    assert_int_equal(l.count, 0);
    store_delivery_list_free(&l);
    assert_int_equal(s->ops->delivery_list(s, new_account(s, "bob"), NULL, 10, &l), STORE_OK);
    assert_int_equal(l.count, 0);
    store_delivery_list_free(&l);

    /* Given up: failed, and never claimed again. */
    store_delivery_attempt_t give_up = {.status = 0, .error = "no answer", .next_attempt_ms = 0};
    assert_int_equal(s->ops->delivery_record(s, again.delivery_id, "w3", T0 + 40001, &give_up), STORE_CONFLICT);
    store_delivery_free(&again);
    assert_int_equal(s->ops->delivery_claim(s, "w4", T0 + 100000, LEASE, &again), STORE_OK);
    assert_int_equal(s->ops->delivery_record(s, again.delivery_id, "w4", T0 + 100001, &give_up), STORE_OK);
    store_delivery_free(&again);
    assert_int_equal(s->ops->delivery_claim(s, "w4", T0 + 10000000, LEASE, &again), STORE_NOT_FOUND);
    assert_int_equal(pending(f), 0);

    /* Pruning: finished deliveries older than the cut, and their events. */
    assert_int_equal(s->ops->delivery_prune(s, T0 + 50000), STORE_OK);
    assert_int_equal(raw_count_at(f->path, "SELECT count(*) FROM deliveries"), 1);
    assert_int_equal(raw_count_at(f->path, "SELECT count(*) FROM events"), 1);
    assert_int_equal(s->ops->delivery_prune(s, T0 + 200000), STORE_OK);
    assert_int_equal(raw_count_at(f->path, "SELECT count(*) FROM events"), 0);
    store_delivery_free(&d);
    store_delivery_free(&d2);
}

static void test_removed_webhook_takes_its_deliveries(void **state)
{
    fixture_t *f = *state;
    char vid[33], tid[STORE_TASK_ID_LEN + 1], a[64];
    add_webhook(f, f->account, "http://a/", STORE_EVENT_ALL, a);
    uploaded(f, f->account, T0, vid, tid);
    assert_int_equal(pending(f), 1);
    assert_int_equal(f->store->ops->webhook_remove(f->store, f->account, a), STORE_OK);
    assert_int_equal(pending(f), 0);
    store_delivery_t d;
    assert_int_equal(f->store->ops->delivery_claim(f->store, "w1", T0 + 1, LEASE, &d), STORE_NOT_FOUND);
}

/* A delivery is sent where its webhook points when it is claimed, not where
 * it pointed when the event was written. */
static void test_claim_reads_the_webhook_now(void **state)
{
    fixture_t *f = *state;
    char vid[33], tid[STORE_TASK_ID_LEN + 1], a[64];
    add_webhook(f, f->account, "http://a/", STORE_EVENT_ALL, a);
    uploaded(f, f->account, T0, vid, tid);
    raw_exec_at(f->path, "UPDATE webhooks SET url = 'http://moved/'");
    store_delivery_t d;
    assert_int_equal(f->store->ops->delivery_claim(f->store, "w1", T0 + 1, LEASE, &d), STORE_OK);
    assert_string_equal(d.url, "http://moved/");
    store_delivery_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test_setup_teardown(test_webhooks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_fan_out_to_subscribers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_task_outcomes_report, setup, teardown),
        cmocka_unit_test_setup_teardown(test_job_notification, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_from_v6_keeps_the_outbox, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claim_record_and_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_removed_webhook_takes_its_deliveries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claim_reads_the_webhook_now, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
