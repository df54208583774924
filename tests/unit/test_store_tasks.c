/*
 * test_store_tasks: the processing task queue of the SQLite store against
 * its contract in store/store.h ("processing tasks") and the processing
 * contract's sections 1, 4 and 5: a task is queued with the
 * upload that makes it due, an overwrite cancels the older task, workers
 * claim the oldest due task under a lease, a lease that runs out (kill -9)
 * makes the task claimable again, retries back off and stop after three
 * attempts, and the video's status follows the task.
 *
 * Every time is injected (now_ms), so back-off and lease expiry are tested
 * without sleeping.  Each test has its own database in a mkdtemp directory.
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
#include "common/video_status.h"
#include "store/store.h"
#include "unit_tmpdir.h"

#define HEX "0123456789abcdef"
#define PLAN "{\"steps\":[{\"kind\":\"probe\"},{\"kind\":\"snapshot\"}]}"
#define PLAN_HD "{\"steps\":[{\"kind\":\"transcode\",\"template\":\"hd\"}]}"
#define T0 INT64_C(1700000000000)
#define LEASE INT64_C(30000)

#include "unit_store_fixture.h"

static int setup(void **state)
{
    return store_fixture_setup(state, "store-tasks");
}

static int teardown(void **state)
{
    return store_fixture_teardown(state);
}

/* Publishes new bytes for the video at now_ms (overwrite allowed), with the
 * task plan `plan` (NULL: none); returns the store's answer. */
static int upload_at(fixture_t *f, int64_t account_id, const char *vid, const char *plan, int64_t now_ms,
                     char task_id[STORE_TASK_ID_LEN + 1])
{
    char object_id[33];
    snprintf(object_id, sizeof(object_id), "%032x", ++f->objects);
    store_video_upload_t u = {
        .account_id = account_id, .video_id = vid, .object_id = object_id, .size = 1000,
        .md5 = "0123456789abcdef0123456789abcdef", .etag = "FhQ3rQ2V6TuGRUHm8-h2k8cKOnYq",
        .mime_type = "video/mp4", .overwrite = true, .now_ms = now_ms, .task_plan = plan, .task_id = task_id};
    return f->store->ops->video_set_uploaded(f->store, &u, NULL);
}

/* A new video of the fixture's account, uploaded at now_ms with PLAN. */
static void uploaded_video(fixture_t *f, int64_t now_ms, char vid[IDS_VIDEO_ID_LEN + 1],
                           char task_id[STORE_TASK_ID_LEN + 1])
{
    new_video(f->store, f->account, vid);
    assert_int_equal(upload_at(f, f->account, vid, PLAN, now_ms, task_id), STORE_OK);
}

static void assert_video(store_t *s, int64_t account_id, const char *vid, const char *status,
                         const char *fail_reason)
{
    store_video_t v;
    assert_int_equal(s->ops->video_get(s, account_id, vid, &v), STORE_OK);
    assert_string_equal(video_status_name(v.status), status);
    if (fail_reason)
        assert_string_equal(v.fail_reason, fail_reason);
    else
        assert_null(v.fail_reason);
    store_video_free(&v);
}

/* The task as the store has it now (the caller frees it). */
static store_task_t task_of(fixture_t *f, const char *task_id)
{
    store_task_t t;
    assert_int_equal(f->store->ops->task_get(f->store, f->account, task_id, &t), STORE_OK);
    return t;
}

static void assert_task_state(fixture_t *f, const char *task_id, int state)
{
    store_task_t t = task_of(f, task_id);
    assert_string_equal(store_task_state_name(t.state), store_task_state_name(state));
    store_task_free(&t);
}

/* Claims as `worker` at now_ms and checks that `task_id` is what it got. */
static store_task_t claim_expect(fixture_t *f, const char *worker, int64_t now_ms, const char *task_id)
{
    store_task_t t;
    assert_int_equal(f->store->ops->task_claim(f->store, worker, now_ms, LEASE, &t), STORE_OK);
    assert_string_equal(t.task_id, task_id);
    assert_int_equal(t.state, STORE_TASK_RUNNING);
    assert_string_equal(t.lease_owner, worker);
    assert_int_equal(t.lease_expires_ms, now_ms + LEASE);
    return t;
}

static void claim_none(fixture_t *f, int64_t now_ms)
{
    store_task_t t;
    assert_int_equal(f->store->ops->task_claim(f->store, "w-none", now_ms, LEASE, &t), STORE_NOT_FOUND);
    assert_null(t.task_id);
}

static bool all_chars(const char *s, const char *alphabet)
{
    for (; *s; s++)
        if (!strchr(alphabet, *s))
            return false;
    return true;
}

/* ---- states ---- */

static void test_state_names(void **state)
{
    (void)state;
    static const struct {
        int state;
        const char *name;
        bool finished;
    } cases[] = {
        {STORE_TASK_QUEUED, "queued", false},       {STORE_TASK_RUNNING, "running", false},
        {STORE_TASK_SUCCEEDED, "succeeded", true},  {STORE_TASK_FAILED, "failed", true},
        {STORE_TASK_CANCELED, "canceled", true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_string_equal(store_task_state_name(cases[i].state), cases[i].name);
        assert_int_equal(store_task_state_parse(cases[i].name), cases[i].state);
        assert_int_equal(store_task_state_finished(cases[i].state), cases[i].finished);
    }
    assert_int_equal(store_task_state_parse("done"), -1);
    assert_int_equal(store_task_state_parse(NULL), -1);
}

/* ---- section 1: a task is queued with the upload ---- */

static void test_upload_queues_task(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    char vid[33], tid[STORE_TASK_ID_LEN + 1];
    uploaded_video(f, T0, vid, tid);

    assert_int_equal(strlen(tid), STORE_TASK_ID_LEN);
    assert_memory_equal(tid, "tk", 2);
    assert_true(all_chars(tid + 2, HEX));
    store_task_t t = task_of(f, tid);
    assert_string_equal(t.video_id, vid);
    assert_int_equal(t.account_id, f->account);
    assert_int_equal(t.state, STORE_TASK_QUEUED);
    assert_string_equal(t.plan, PLAN); /* frozen: copied as given */
    assert_int_equal(t.attempts, 0);
    assert_int_equal(t.progress, 0);
    assert_null(t.error);
    assert_null(t.lease_owner);
    assert_int_equal(t.created_ms, T0);
    assert_int_equal(t.started_ms, 0);
    assert_int_equal(t.finished_ms, 0);
    store_task_free(&t);
    assert_int_equal(s->ops->task_latest(s, f->account, vid, &t), STORE_OK);
    assert_string_equal(t.task_id, tid);
    store_task_free(&t);
    assert_video(s, f->account, vid, "uploaded", NULL);

    /* Without a plan: uploaded, and no task. */
    char plain[33];
    new_video(s, f->account, plain);
    strcpy(tid, "stale");
    assert_int_equal(upload_at(f, f->account, plain, NULL, T0, tid), STORE_OK);
    assert_string_equal(tid, "");
    assert_int_equal(s->ops->task_latest(s, f->account, plain, &t), STORE_NOT_FOUND);
    assert_video(s, f->account, plain, "uploaded", NULL);

    /* A plan that is not a JSON object is refused before anything changes. */
    char bad[33];
    new_video(s, f->account, bad);
    assert_int_equal(upload_at(f, f->account, bad, "[1,2]", T0, tid), STORE_INVALID);
    assert_int_equal(upload_at(f, f->account, bad, "{\"steps\":", T0, tid), STORE_INVALID);
    assert_video(s, f->account, bad, "created", NULL);
}

/* The upload and its task are one transaction: when the task cannot be
 * written, the upload is not published either (nor is the task without it). */
static void test_upload_and_task_are_atomic(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    char vid[33], tid[STORE_TASK_ID_LEN + 1];
    new_video(s, f->account, vid);
    raw_exec_at(f->path, "CREATE TRIGGER tasks_refuse BEFORE INSERT ON tasks BEGIN SELECT RAISE(ABORT, 'no'); END");
    assert_int_not_equal(upload_at(f, f->account, vid, PLAN, T0, tid), STORE_OK);
    assert_string_equal(tid, "");
    store_video_t v;
    assert_int_equal(s->ops->video_get(s, f->account, vid, &v), STORE_OK);
    assert_int_equal(v.status, VIDEO_CREATED);
    assert_null(v.object_id);
    store_video_free(&v);

    raw_exec_at(f->path, "DROP TRIGGER tasks_refuse");
    assert_int_equal(upload_at(f, f->account, vid, PLAN, T0, tid), STORE_OK);
    assert_task_state(f, tid, STORE_TASK_QUEUED);
    assert_video(s, f->account, vid, "uploaded", NULL);
}

/* A new upload over the video cancels its unfinished task and queues a new
 * one; the old task's worker learns at its next report. */
static void test_overwrite_cancels_older_task(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    char vid[33], t1[STORE_TASK_ID_LEN + 1], t2[STORE_TASK_ID_LEN + 1], t3[STORE_TASK_ID_LEN + 1];
    uploaded_video(f, T0, vid, t1);
    store_task_t c = claim_expect(f, "w1", T0 + 10, t1);
    store_task_free(&c);
    assert_video(s, f->account, vid, "processing", NULL);

    assert_int_equal(upload_at(f, f->account, vid, PLAN_HD, T0 + 20, t2), STORE_OK);
    assert_string_not_equal(t1, t2);
    store_task_t old = task_of(f, t1);
    assert_int_equal(old.state, STORE_TASK_CANCELED);
    assert_int_equal(old.finished_ms, T0 + 20);
    assert_null(old.lease_owner);
    store_task_free(&old);
    store_task_t t = task_of(f, t2);
    assert_int_equal(t.state, STORE_TASK_QUEUED);
    assert_string_equal(t.plan, PLAN_HD);
    store_task_free(&t);
    assert_video(s, f->account, vid, "uploaded", NULL);
    assert_int_equal(s->ops->task_heartbeat(s, t1, "w1", T0 + 30, LEASE, 50), STORE_CONFLICT);
    assert_int_equal(s->ops->task_succeed(s, t1, "w1", T0 + 30, NULL, NULL), STORE_CONFLICT);
    assert_int_equal(s->ops->task_latest(s, f->account, vid, &t), STORE_OK);
    assert_string_equal(t.task_id, t2);
    store_task_free(&t);

    /* Bytes uploaded without a plan still cancel the task of the old ones. */
    assert_int_equal(upload_at(f, f->account, vid, NULL, T0 + 40, t3), STORE_OK);
    assert_task_state(f, t2, STORE_TASK_CANCELED);
    claim_none(f, T0 + 50);
}

/* reprocessVideo: a task for the video's current bytes, or 409. */
static void test_enqueue_standalone(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    char vid[33], t1[STORE_TASK_ID_LEN + 1], t2[STORE_TASK_ID_LEN + 1];
    new_video(s, f->account, vid);
    assert_int_equal(s->ops->task_enqueue(s, f->account, vid, PLAN, NULL, T0, t1), STORE_CONFLICT);
    assert_int_equal(s->ops->task_enqueue(s, f->account, "00000000000000000000000000000000", PLAN, NULL, T0, t1),
                     STORE_NOT_FOUND);
    assert_int_equal(upload_at(f, f->account, vid, NULL, T0, t1), STORE_OK);
    assert_int_equal(s->ops->task_enqueue(s, f->account, vid, "\"probe\"", NULL, T0, t1), STORE_INVALID);

    assert_int_equal(s->ops->task_enqueue(s, f->account, vid, PLAN, NULL, T0 + 1, t1), STORE_OK);
    assert_task_state(f, t1, STORE_TASK_QUEUED);
    /* A second one supersedes the first: one unfinished task per video. */
    assert_int_equal(s->ops->task_enqueue(s, f->account, vid, PLAN_HD, NULL, T0 + 2, t2), STORE_OK);
    assert_task_state(f, t1, STORE_TASK_CANCELED);
    store_task_t t = task_of(f, t2);
    assert_int_equal(t.state, STORE_TASK_QUEUED);
    assert_string_equal(t.plan, PLAN_HD);
    store_task_free(&t);

    /* A failed video queued again shows `uploaded` until claimed. */
    t = claim_expect(f, "w1", T0 + 3, t2);
    store_task_free(&t);
    assert_int_equal(s->ops->task_fail(s, t2, "w1", T0 + 4, "probe: not a media file", false), STORE_OK);
    assert_video(s, f->account, vid, "failed", "probe: not a media file");
    assert_int_equal(s->ops->task_enqueue(s, f->account, vid, PLAN, NULL, T0 + 5, t1), STORE_OK);
    assert_video(s, f->account, vid, "uploaded", NULL);
}

/* ---- section 5: claiming, leases, retries ---- */

/* Oldest first; a task is not claimed before it is due, nor twice. */
static void test_claim_order(void **state)
{
    fixture_t *f = *state;
    char v1[33], v2[33], v3[33], t1[33], t2[33], t3[33];
    uploaded_video(f, T0 + 2000, v2, t2); /* queued out of id order on purpose */
    uploaded_video(f, T0 + 1000, v1, t1);
    uploaded_video(f, T0 + 3000, v3, t3);

    claim_none(f, T0 + 999);
    store_task_t c = claim_expect(f, "w1", T0 + 5000, t1);
    assert_int_equal(c.attempts, 1);
    assert_int_equal(c.started_ms, T0 + 5000);
    assert_int_equal(c.progress, 0);
    assert_string_equal(c.plan, PLAN);
    store_task_free(&c);
    assert_video(f->store, f->account, v1, "processing", NULL);
    assert_video(f->store, f->account, v2, "uploaded", NULL);
    c = claim_expect(f, "w2", T0 + 5000, t2);
    store_task_free(&c);
    c = claim_expect(f, "w3", T0 + 5000, t3);
    store_task_free(&c);
    claim_none(f, T0 + 5000); /* all running under live leases */
}

/* Transient failures back off 10 s, then 60 s; the third attempt is the
 * last, and the video then fails with the error as its failReason. */
static void test_retry_backoff_and_attempt_cap(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    char vid[33], tid[33];
    uploaded_video(f, T0, vid, tid);
    store_task_t c = claim_expect(f, "w1", T0, tid);
    store_task_free(&c);

    assert_int_equal(s->ops->task_fail(s, tid, "w1", T0 + 100, "disk full", true), STORE_OK);
    store_task_t t = task_of(f, tid);
    assert_int_equal(t.state, STORE_TASK_QUEUED);
    assert_int_equal(t.attempts, 1);
    assert_int_equal(t.next_attempt_ms, T0 + 100 + 10000);
    assert_string_equal(t.error, "disk full");
    assert_null(t.lease_owner);
    store_task_free(&t);
    assert_video(s, f->account, vid, "processing", NULL); /* not over yet */
    assert_int_equal(s->ops->task_heartbeat(s, tid, "w1", T0 + 200, LEASE, 10), STORE_CONFLICT);

    claim_none(f, T0 + 100 + 9999);
    c = claim_expect(f, "w2", T0 + 100 + 10000, tid);
    assert_int_equal(c.attempts, 2);
    assert_int_equal(c.started_ms, T0); /* the first start is kept */
    store_task_free(&c);
    assert_int_equal(s->ops->task_fail(s, tid, "w2", T0 + 20000, "time-out", true), STORE_OK);
    claim_none(f, T0 + 20000 + 59999);
    c = claim_expect(f, "w3", T0 + 20000 + 60000, tid);
    assert_int_equal(c.attempts, 3);
    store_task_free(&c);

    assert_int_equal(s->ops->task_fail(s, tid, "w3", T0 + 90000, "time-out again", true), STORE_OK);
    t = task_of(f, tid);
    assert_int_equal(t.state, STORE_TASK_FAILED);
    assert_int_equal(t.attempts, STORE_TASK_MAX_ATTEMPTS);
    assert_int_equal(t.finished_ms, T0 + 90000);
    assert_string_equal(t.error, "time-out again");
    store_task_free(&t);
    assert_video(s, f->account, vid, "failed", "time-out again");
    claim_none(f, T0 + 10000000);
}

/* kill -9: the worker stops reporting; once its lease runs out another
 * worker claims the task (one more attempt), and the first worker's late
 * reports are refused. */
static void test_lease_expiry_requeues(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    char vid[33], tid[33];
    uploaded_video(f, T0, vid, tid);
    store_task_t c = claim_expect(f, "w1", T0, tid);
    store_task_free(&c);
    /* A heartbeat extends the lease from its own time. */
    assert_int_equal(s->ops->task_heartbeat(s, tid, "w1", T0 + 10000, LEASE, 40), STORE_OK);
    claim_none(f, T0 + LEASE);
    claim_none(f, T0 + 10000 + LEASE - 1);

    c = claim_expect(f, "w2", T0 + 10000 + LEASE, tid);
    assert_int_equal(c.attempts, 2);
    assert_int_equal(c.progress, 0); /* the new attempt starts over */
    store_task_free(&c);
    assert_video(s, f->account, vid, "processing", NULL);
    assert_int_equal(s->ops->task_heartbeat(s, tid, "w1", T0 + 50000, LEASE, 90), STORE_CONFLICT);
    assert_int_equal(s->ops->task_succeed(s, tid, "w1", T0 + 50000, NULL, NULL), STORE_CONFLICT);
    assert_int_equal(s->ops->task_fail(s, tid, "w1", T0 + 50000, "late", true), STORE_CONFLICT);
    assert_int_equal(s->ops->task_heartbeat(s, tid, "w2", T0 + 50000, LEASE, 5), STORE_OK);
}

/* The task failed after its last attempt's lease ran out, and its video
 * with the same reason. */
static void assert_worker_lost(fixture_t *f, const char *vid, const char *tid)
{
    store_task_t t = task_of(f, tid);
    assert_int_equal(t.state, STORE_TASK_FAILED);
    assert_int_equal(t.attempts, STORE_TASK_MAX_ATTEMPTS);
    assert_null(t.lease_owner);
    assert_non_null(t.error);
    assert_memory_equal(t.error, "worker lost", strlen("worker lost"));
    assert_video(f->store, f->account, vid, "failed", t.error);
    store_task_free(&t);
}

/* A task whose worker vanished on its last attempt fails instead of being
 * claimed a fourth time. */
static void test_lease_expiry_respects_attempt_cap(void **state)
{
    fixture_t *f = *state;
    char vid[33], tid[33], other_vid[33], other[33];
    uploaded_video(f, T0, vid, tid);
    int64_t now = T0;
    /* Each claim comes exactly when the previous lease runs out. */
    for (int attempt = 1; attempt <= STORE_TASK_MAX_ATTEMPTS; attempt++, now += LEASE) {
        store_task_t c = claim_expect(f, "w", now, tid);
        assert_int_equal(c.attempts, attempt);
        store_task_free(&c);
    }
    uploaded_video(f, now, other_vid, other);
    /* The exhausted task is failed, and the claim goes on to the next. */
    store_task_t c = claim_expect(f, "w", now, other);
    store_task_free(&c);
    assert_worker_lost(f, vid, tid);

    /* Also when nothing else is due: the claim answers STORE_NOT_FOUND and
     * the failure it made on the way is kept, not rolled back with it. */
    for (int attempt = 2; attempt <= STORE_TASK_MAX_ATTEMPTS; attempt++) {
        now += LEASE;
        c = claim_expect(f, "w", now, other);
        assert_int_equal(c.attempts, attempt);
        store_task_free(&c);
    }
    claim_none(f, now + LEASE);
    assert_worker_lost(f, other_vid, other);
}

static void test_heartbeat(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    char vid[33], tid[33];
    uploaded_video(f, T0, vid, tid);
    store_task_t c = claim_expect(f, "w1", T0, tid);
    store_task_free(&c);

    assert_int_equal(s->ops->task_heartbeat(s, tid, "w1", T0 + 5000, 60000, 37), STORE_OK);
    store_task_t t = task_of(f, tid);
    assert_int_equal(t.progress, 37);
    assert_int_equal(t.lease_expires_ms, T0 + 5000 + 60000);
    store_task_free(&t);
    assert_int_equal(s->ops->task_heartbeat(s, tid, "w1", T0, LEASE, 101), STORE_INVALID);
    assert_int_equal(s->ops->task_heartbeat(s, tid, "w1", T0, LEASE, -1), STORE_INVALID);
    assert_int_equal(s->ops->task_heartbeat(s, tid, "w1", T0, 0, 50), STORE_INVALID);
    assert_int_equal(s->ops->task_heartbeat(s, tid, "w2", T0 + 6000, LEASE, 50), STORE_CONFLICT);
    assert_int_equal(s->ops->task_heartbeat(s, "tk000000000000000000000000000000", "w1", T0, LEASE, 1),
                     STORE_NOT_FOUND);

    /* cancelTask: the running worker's next heartbeat tells it to stop. */
    assert_int_equal(s->ops->task_cancel(s, f->account, tid, T0 + 7000), STORE_OK);
    assert_int_equal(s->ops->task_heartbeat(s, tid, "w1", T0 + 8000, LEASE, 60), STORE_CONFLICT);
    t = task_of(f, tid);
    assert_int_equal(t.progress, 37); /* the refused heartbeat changed nothing */
    store_task_free(&t);
}

/* ---- the video's status follows its task ---- */

static void test_succeed_sets_ready(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    char vid[33], tid[33];
    uploaded_video(f, T0, vid, tid);
    store_task_t c = claim_expect(f, "w1", T0, tid);
    store_task_free(&c);
    assert_int_equal(s->ops->task_succeed(s, tid, "w2", T0 + 1, NULL, NULL), STORE_CONFLICT);
    assert_int_equal(s->ops->task_succeed(s, tid, "w1", T0 + 9000, NULL, NULL), STORE_OK);
    store_task_t t = task_of(f, tid);
    assert_int_equal(t.state, STORE_TASK_SUCCEEDED);
    assert_int_equal(t.progress, 100);
    assert_int_equal(t.finished_ms, T0 + 9000);
    assert_null(t.lease_owner);
    store_task_free(&t);
    assert_video(s, f->account, vid, "ready", NULL);
    assert_int_equal(s->ops->task_succeed(s, tid, "w1", T0 + 9001, NULL, NULL), STORE_CONFLICT);
    assert_int_equal(s->ops->task_fail(s, tid, "w1", T0 + 9001, "late", false), STORE_CONFLICT);
}

/* A failure that is not retryable (an undecodable file) ends at once. */
static void test_fail_not_retryable(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    char vid[33], tid[33];
    uploaded_video(f, T0, vid, tid);
    store_task_t c = claim_expect(f, "w1", T0, tid);
    store_task_free(&c);
    assert_int_equal(s->ops->task_fail(s, tid, "w1", T0 + 1, NULL, false), STORE_INVALID);
    assert_int_equal(s->ops->task_fail(s, tid, "w1", T0 + 2, "probe: no video or audio stream", false), STORE_OK);
    store_task_t t = task_of(f, tid);
    assert_int_equal(t.state, STORE_TASK_FAILED);
    assert_int_equal(t.attempts, 1);
    assert_string_equal(t.error, "probe: no video or audio stream");
    store_task_free(&t);
    assert_video(s, f->account, vid, "failed", "probe: no video or audio stream");
    claim_none(f, T0 + 10000000);
}

/* cancelTask: back to `ready` with the earlier outputs when an earlier task
 * succeeded, else to `uploaded`; 409 once finished. */
static void test_cancel(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    char vid[33], t1[33], t2[33];
    uploaded_video(f, T0, vid, t1);
    assert_int_equal(s->ops->task_cancel(s, f->account, t1, T0 + 1), STORE_OK);
    store_task_t t = task_of(f, t1);
    assert_int_equal(t.state, STORE_TASK_CANCELED);
    assert_int_equal(t.finished_ms, T0 + 1);
    store_task_free(&t);
    assert_video(s, f->account, vid, "uploaded", NULL);
    assert_int_equal(s->ops->task_cancel(s, f->account, t1, T0 + 2), STORE_CONFLICT);
    claim_none(f, T0 + 3);

    /* An earlier success: a running reprocess canceled leaves it ready. */
    assert_int_equal(s->ops->task_enqueue(s, f->account, vid, PLAN, NULL, T0 + 10, t1), STORE_OK);
    t = claim_expect(f, "w1", T0 + 10, t1);
    store_task_free(&t);
    assert_int_equal(s->ops->task_succeed(s, t1, "w1", T0 + 20, NULL, NULL), STORE_OK);
    assert_int_equal(s->ops->task_cancel(s, f->account, t1, T0 + 21), STORE_CONFLICT);
    assert_int_equal(s->ops->task_enqueue(s, f->account, vid, PLAN_HD, NULL, T0 + 30, t2), STORE_OK);
    assert_video(s, f->account, vid, "ready", NULL);
    t = claim_expect(f, "w1", T0 + 30, t2);
    store_task_free(&t);
    assert_video(s, f->account, vid, "processing", NULL);
    assert_int_equal(s->ops->task_cancel(s, f->account, t2, T0 + 40), STORE_OK);
    assert_video(s, f->account, vid, "ready", NULL);
    assert_task_state(f, t1, STORE_TASK_SUCCEEDED);
}

/* ---- isolation and durability ---- */

/* Another account's task or video reads as one that does not exist. */
static void test_cross_account_is_not_found(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    char vid[33], tid[33], other[33];
    uploaded_video(f, T0, vid, tid);
    int64_t bob = new_account(s, "bob");
    store_task_t t;
    assert_int_equal(s->ops->task_get(s, bob, tid, &t), STORE_NOT_FOUND);
    assert_null(t.task_id);
    assert_int_equal(s->ops->task_latest(s, bob, vid, &t), STORE_NOT_FOUND);
    assert_int_equal(s->ops->task_cancel(s, bob, tid, T0), STORE_NOT_FOUND);
    assert_int_equal(s->ops->task_enqueue(s, bob, vid, PLAN, NULL, T0, other), STORE_NOT_FOUND);
    /* "Any account" reads a task by its id (a persistent job's status: the
     * id is the capability), but never a video's latest task nor a cancel. */
    assert_int_equal(s->ops->task_get(s, -1, tid, &t), STORE_OK);
    assert_string_equal(t.task_id, tid);
    store_task_free(&t);
    assert_int_equal(s->ops->task_latest(s, -1, vid, &t), STORE_NOT_FOUND);
    assert_int_equal(s->ops->task_cancel(s, -1, tid, T0), STORE_NOT_FOUND);
    assert_task_state(f, tid, STORE_TASK_QUEUED); /* untouched */
    assert_int_equal(s->ops->task_get(s, f->account, "tk000000000000000000000000000000", &t), STORE_NOT_FOUND);
}

/* The queue survives a restart: a queued task is still there, and a task
 * that was running when the server died is claimed again once its lease
 * runs out. */
static void test_reopen_keeps_queue(void **state)
{
    fixture_t *f = *state;
    char v1[33], v2[33], t1[33], t2[33];
    uploaded_video(f, T0, v1, t1);
    uploaded_video(f, T0 + 1, v2, t2);
    store_task_t c = claim_expect(f, "w1", T0 + 2, t1);
    store_task_free(&c);
    assert_int_equal(f->store->ops->task_heartbeat(f->store, t1, "w1", T0 + 3, LEASE, 25), STORE_OK);
    f->store->ops->close(f->store);
    f->store = open_store(f->path);
    assert_non_null(f->store);

    store_task_t t = task_of(f, t1);
    assert_int_equal(t.state, STORE_TASK_RUNNING);
    assert_int_equal(t.progress, 25);
    assert_string_equal(t.plan, PLAN);
    store_task_free(&t);
    assert_task_state(f, t2, STORE_TASK_QUEUED);
    c = claim_expect(f, "w9", T0 + 4, t2);
    store_task_free(&c);
    claim_none(f, T0 + 4);
    c = claim_expect(f, "w9", T0 + 3 + LEASE, t1);
    assert_int_equal(c.attempts, 2);
    store_task_free(&c);
}

/* ---- migration 3 ---- */

/*
 * Schema version 2 exactly as the upload path's release created it
 * (migrations 1 and 2 are frozen: databases in the field ran them), so that
 * migrating a real older database is what the test exercises.
 */
static const char *const schema_v2 =
    "CREATE TABLE accounts ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  bucket TEXT NOT NULL UNIQUE,"
    "  created_ms INTEGER NOT NULL);"
    "CREATE TABLE access_keys ("
    "  access_key TEXT PRIMARY KEY,"
    "  secret_key TEXT NOT NULL,"
    "  account_id INTEGER NOT NULL REFERENCES accounts(id),"
    "  enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),"
    "  created_ms INTEGER NOT NULL);"
    "CREATE INDEX access_keys_account ON access_keys(account_id);"
    "CREATE TABLE domains ("
    "  account_id INTEGER NOT NULL REFERENCES accounts(id),"
    "  name TEXT NOT NULL COLLATE NOCASE,"
    "  is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),"
    "  created_ms INTEGER NOT NULL,"
    "  UNIQUE (account_id, name));"
    "CREATE UNIQUE INDEX domains_one_default ON domains(account_id) WHERE is_default = 1;"
    "CREATE TABLE resources ("
    "  account_id INTEGER NOT NULL REFERENCES accounts(id),"
    "  kind TEXT NOT NULL CHECK (kind IN ('workflow', 'watermark', 'template', 'subtitle')),"
    "  id TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  spec TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  UNIQUE (account_id, kind, name),"
    "  UNIQUE (account_id, kind, id));"
    "CREATE TABLE categories ("
    "  id INTEGER PRIMARY KEY,"
    "  account_id INTEGER NOT NULL REFERENCES accounts(id),"
    "  parent_name TEXT NOT NULL,"
    "  child_name TEXT NOT NULL,"
    "  UNIQUE (account_id, parent_name, child_name));"
    "CREATE TABLE videos ("
    "  video_id TEXT PRIMARY KEY,"
    "  account_id INTEGER NOT NULL REFERENCES accounts(id),"
    "  file_id TEXT,"
    "  name TEXT NOT NULL,"
    "  file_key TEXT NOT NULL,"
    "  bucket TEXT NOT NULL,"
    "  domain TEXT NOT NULL DEFAULT '',"
    "  status TEXT NOT NULL DEFAULT 'created' CHECK (status IN"
    "    ('created', 'uploading', 'uploaded', 'processing', 'ready', 'failed')),"
    "  fail_reason TEXT,"
    "  size INTEGER NOT NULL DEFAULT -1,"
    "  md5 TEXT,"
    "  etag TEXT,"
    "  mime_type TEXT,"
    "  expected_size INTEGER NOT NULL DEFAULT -1,"
    "  expected_md5 TEXT,"
    "  overwrite INTEGER NOT NULL DEFAULT 0 CHECK (overwrite IN (0, 1)),"
    "  workflow_id TEXT,"
    "  cmd TEXT,"
    "  watermark_name TEXT,"
    "  template_name TEXT,"
    "  subtitle_id TEXT,"
    "  created_ms INTEGER NOT NULL,"
    "  uploaded_ms INTEGER NOT NULL DEFAULT 0,"
    "  duration REAL NOT NULL DEFAULT -1,"
    "  width INTEGER NOT NULL DEFAULT 0,"
    "  height INTEGER NOT NULL DEFAULT 0,"
    "  codecs TEXT);"
    "CREATE UNIQUE INDEX videos_file_id ON videos(account_id, file_id) WHERE file_id IS NOT NULL;"
    "CREATE INDEX videos_newest ON videos(account_id, created_ms DESC, video_id DESC);"
    "CREATE TABLE video_categories ("
    "  video_id TEXT NOT NULL REFERENCES videos(video_id) ON DELETE CASCADE,"
    "  category_id INTEGER NOT NULL REFERENCES categories(id),"
    "  position INTEGER NOT NULL,"
    "  PRIMARY KEY (video_id, category_id)) WITHOUT ROWID;"
    "CREATE INDEX video_categories_category ON video_categories(category_id);"
    "ALTER TABLE videos ADD COLUMN object_id TEXT;"
    "CREATE UNIQUE INDEX videos_file_key ON videos(file_key);"
    "CREATE UNIQUE INDEX videos_object_id ON videos(object_id) WHERE object_id IS NOT NULL;"
    "CREATE TABLE secrets ("
    "  name TEXT PRIMARY KEY,"
    "  value BLOB NOT NULL);";

#define V2_VIDEO "0190000000000000000000000000000a"
#define V2_OBJECT "000000000000000000000000000000aa"

static void test_migrate_from_v2(void **state)
{
    fixture_t *f = *state;
    char path[160];
    snprintf(path, sizeof(path), "%s/v2.db", f->dir);
    raw_exec_at(path, "PRAGMA journal_mode = WAL");
    raw_exec_at(path, schema_v2);
    raw_exec_at(path,
                "PRAGMA user_version = 2;"
                "INSERT INTO accounts (id, name, bucket, created_ms) VALUES (7, 'old', 'vod-00000000000000aa', 1);"
                "INSERT INTO access_keys (access_key, secret_key, account_id, created_ms)"
                " VALUES ('AKOLD00000000000000A', 'secret', 7, 1);"
                "INSERT INTO videos (video_id, account_id, name, file_key, bucket, status, size, created_ms,"
                " uploaded_ms, object_id) VALUES ('" V2_VIDEO "', 7, 'old.mp4', 'video/20240101/" V2_VIDEO
                "/old.mp4', 'vod-00000000000000aa', 'uploaded', 42, 2, 3, '" V2_OBJECT "');"
                "INSERT INTO secrets (name, value) VALUES ('ctx', zeroblob(32));");

    store_t *s = open_store(path);
    assert_non_null(s);
    /* Through migration 3 to the current version (7: outputs, events, playback, jobs,
     * tested in test_store_outputs.c and test_store_events.c). */
    assert_int_equal(raw_count_at(path, "PRAGMA user_version"), store_schema_target());
    /* The old rows are intact. */
    store_key_t k;
    assert_int_equal(s->ops->key_lookup(s, "AKOLD00000000000000A", &k), STORE_OK);
    assert_int_equal(k.account_id, 7);
    store_key_free(&k);
    store_video_t v;
    assert_int_equal(s->ops->video_get(s, 7, V2_VIDEO, &v), STORE_OK);
    assert_int_equal(v.status, VIDEO_UPLOADED);
    assert_string_equal(v.object_id, V2_OBJECT);
    assert_int_equal(v.size, 42);
    store_video_free(&v);
    unsigned char secret[32], zero[32] = {0};
    assert_int_equal(s->ops->secret_get(s, "ctx", secret), STORE_OK);
    assert_memory_equal(secret, zero, 32);

    /* An old video can be processed: the queue works on the migrated file. */
    store_task_t t;
    assert_int_equal(s->ops->task_latest(s, 7, V2_VIDEO, &t), STORE_NOT_FOUND);
    char tid[STORE_TASK_ID_LEN + 1];
    assert_int_equal(s->ops->task_enqueue(s, 7, V2_VIDEO, PLAN, NULL, T0, tid), STORE_OK);
    assert_int_equal(s->ops->task_claim(s, "w1", T0, LEASE, &t), STORE_OK);
    assert_string_equal(t.task_id, tid);
    store_task_free(&t);
    s->ops->close(s);

    s = open_store(path); /* current now: opened without migrating again */
    assert_non_null(s);
    assert_int_equal(raw_count_at(path, "PRAGMA user_version"), store_schema_target());
    assert_int_equal(s->ops->task_get(s, 7, tid, &t), STORE_OK);
    assert_int_equal(t.state, STORE_TASK_RUNNING);
    store_task_free(&t);
    s->ops->close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_names),
        cmocka_unit_test_setup_teardown(test_upload_queues_task, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upload_and_task_are_atomic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overwrite_cancels_older_task, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enqueue_standalone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claim_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_backoff_and_attempt_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lease_expiry_requeues, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lease_expiry_respects_attempt_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_heartbeat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_succeed_sets_ready, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fail_not_retryable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cross_account_is_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_keeps_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_from_v2, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
