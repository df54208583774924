/*
 * test_store_outputs: the processing outputs of the SQLite store against
 * their contract in store/store.h ("processing outputs", task_succeed,
 * video_outputs, output_file_find, object_in_use) and the processing
 * contract's sections 1 and 3: a succeeding task publishes its listed
 * outputs and served files in the transaction that makes the video ready,
 * nothing of a task that is no longer the worker's is published, a later
 * success replaces the outputs (and hands back the replaced objects), keys
 * and objects are never shared, outputs survive an overwrite, a new task
 * and a cancel, and a database of the previous schema migrates.
 *
 * Every time is injected (now_ms).  Each test has its own database in a
 * mkdtemp directory.
 */
#define _GNU_SOURCE /* nftw, in unit_tmpdir.h */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ids.h"
#include "common/video_status.h"
#include "store/store.h"
#include "unit_tmpdir.h"

#define PLAN "{\"steps\":[{\"kind\":\"probe\"},{\"kind\":\"snapshot\"}]}"
#define T0 INT64_C(1700000000000)
#define LEASE INT64_C(30000)

#include "unit_store_fixture.h"

static int setup(void **state)
{
    return store_fixture_setup(state, "store-outputs");
}

static int teardown(void **state)
{
    return store_fixture_teardown(state);
}

/* A fresh object id, never handed out before in this test. */
static void next_object(fixture_t *f, char object_id[33])
{
    snprintf(object_id, 33, "%032x", ++f->objects);
}

/* Publishes new bytes (overwrite allowed) with the task PLAN, queued as
 * task_id; returns the store's answer. */
static int upload_object(fixture_t *f, int64_t account_id, const char *vid, const char *object_id, int64_t now_ms,
                         char task_id[STORE_TASK_ID_LEN + 1])
{
    store_video_upload_t u = {
        .account_id = account_id, .video_id = vid, .object_id = object_id, .size = 1000,
        .md5 = "0123456789abcdef0123456789abcdef", .etag = "FhQ3rQ2V6TuGRUHm8-h2k8cKOnYq",
        .mime_type = "video/mp4", .overwrite = true, .now_ms = now_ms, .task_plan = PLAN, .task_id = task_id};
    return f->store->ops->video_set_uploaded(f->store, &u, NULL);
}

static void upload_at(fixture_t *f, int64_t account_id, const char *vid, int64_t now_ms,
                      char task_id[STORE_TASK_ID_LEN + 1])
{
    char object_id[33];
    next_object(f, object_id);
    assert_int_equal(upload_object(f, account_id, vid, object_id, now_ms, task_id), STORE_OK);
}

/* Claims as `worker` at now_ms and checks that it got `task_id`. */
static void claim_expect(fixture_t *f, const char *worker, int64_t now_ms, const char *task_id)
{
    store_task_t t;
    assert_int_equal(f->store->ops->task_claim(f->store, worker, now_ms, LEASE, &t), STORE_OK);
    assert_string_equal(t.task_id, task_id);
    store_task_free(&t);
}

/* A new video of the account, uploaded and its task claimed by "w1". */
static void running_video(fixture_t *f, int64_t account_id, int64_t now_ms, char vid[IDS_VIDEO_ID_LEN + 1],
                          char task_id[STORE_TASK_ID_LEN + 1])
{
    new_video(f->store, account_id, vid);
    upload_at(f, account_id, vid, now_ms, task_id);
    claim_expect(f, "w1", now_ms, task_id);
}

static void assert_task_state(fixture_t *f, int64_t account_id, const char *task_id, int state)
{
    store_task_t t;
    assert_int_equal(f->store->ops->task_get(f->store, account_id, task_id, &t), STORE_OK);
    assert_string_equal(store_task_state_name(t.state), store_task_state_name(state));
    store_task_free(&t);
}

static void assert_status(fixture_t *f, int64_t account_id, const char *vid, const char *status)
{
    store_video_t v;
    assert_int_equal(f->store->ops->video_get(f->store, account_id, vid, &v), STORE_OK);
    assert_string_equal(video_status_name(v.status), status);
    store_video_free(&v);
}

/* ---- results ---- */

#define RESULT_FILES 7
#define RESULT_OUTPUTS 5

/*
 * A result as a task with a template "hd" (mp4), a template "live" (hls:
 * master, one variant playlist, two segments), a soft subtitle and a cover
 * publishes it.  Keys are the same for every task of a video, as the real
 * layout makes them; objects are fresh each time.
 */
typedef struct result_buf {
    char keys[RESULT_FILES][160];
    char objects[RESULT_FILES][33];
    store_output_file_t files[RESULT_FILES];
    store_output_t outputs[RESULT_OUTPUTS];
    store_task_result_t result;
} result_buf_t;

static const struct {
    const char *name;
    const char *content_type;
    int64_t size;
} result_files[RESULT_FILES] = {
    {"cover.jpg", "image/jpeg", 2048},
    {"hd/1280x720.mp4", "video/mp4", 900000},
    {"live/index.m3u8", "application/vnd.apple.mpegurl", 180},
    {"live/640x360/index.m3u8", "application/vnd.apple.mpegurl", 240},
    {"live/640x360/seg0.ts", "video/mp2t", 300000},
    {"live/640x360/seg1.ts", "video/mp2t", 200000},
    {"subtitles/en.vtt", "text/vtt", 512},
};

static void make_result(fixture_t *f, const char *vid, result_buf_t *b)
{
    memset(b, 0, sizeof(*b));
    for (int i = 0; i < RESULT_FILES; i++) {
        snprintf(b->keys[i], sizeof(b->keys[i]), "video/20240101/%s/%s", vid, result_files[i].name);
        next_object(f, b->objects[i]);
        b->files[i] = (store_output_file_t){.key = b->keys[i], .object_id = b->objects[i],
                                            .size = result_files[i].size,
                                            .content_type = (char *)result_files[i].content_type};
    }
    /* The task's order: the renditions, the subtitle, then the cover. */
    b->outputs[0] = (store_output_t){.type = STORE_OUTPUT_MP4, .template_name = "hd", .key = b->keys[1],
                                     .width = 1280, .height = 720, .duration = 12.5, .size = 900000,
                                     .bitrate = 576000, .codecs = "h264,aac"};
    b->outputs[1] = (store_output_t){.type = STORE_OUTPUT_HLS, .template_name = "live", .key = b->keys[2],
                                     .width = 640, .height = 360, .duration = 12.48, .size = 180,
                                     .bitrate = 320000, .codecs = "h264,aac"};
    b->outputs[2] = (store_output_t){.type = STORE_OUTPUT_VTT, .key = b->keys[6], .size = 512, .language = "en"};
    b->outputs[3] = (store_output_t){.type = STORE_OUTPUT_COVER, .key = b->keys[0], .width = 1280, .height = 720,
                                     .size = 2048};
    b->outputs[4] = (store_output_t){.type = STORE_OUTPUT_WEBM, .template_name = "web", .key = b->keys[1],
                                     .width = 1280, .height = 720, .duration = 12.5, .size = 900000};
    b->result = (store_task_result_t){.duration = 12.5, .width = 1280, .height = 720, .codecs = "h264,aac",
                                      .outputs = b->outputs, .output_count = 4,
                                      .files = b->files, .file_count = RESULT_FILES};
}

/* NULL and equal, or both set and equal. */
static void assert_text(const char *got, const char *want)
{
    if (want)
        assert_string_equal(got, want);
    else
        assert_null(got);
}

static void assert_output(const store_output_t *got, const store_output_t *want)
{
    assert_int_equal(got->type, want->type);
    assert_text(got->template_name, want->template_name);
    assert_string_equal(got->key, want->key);
    assert_int_equal(got->width, want->width);
    assert_int_equal(got->height, want->height);
    assert_true(fabs(got->duration - want->duration) < 1e-9);
    assert_int_equal(got->size, want->size);
    assert_int_equal(got->bitrate, want->bitrate);
    assert_text(got->codecs, want->codecs);
    assert_text(got->language, want->language);
}

/* The video lists exactly b's outputs, in order, and serves b's files. */
static void assert_published(fixture_t *f, int64_t account_id, const char *vid, const result_buf_t *b,
                             int64_t published_ms)
{
    store_output_list_t l;
    assert_int_equal(f->store->ops->video_outputs(f->store, account_id, vid, &l), STORE_OK);
    assert_int_equal(l.count, b->result.output_count);
    for (size_t i = 0; i < l.count; i++)
        assert_output(&l.items[i], &b->outputs[i]);
    store_output_list_free(&l);
    for (size_t i = 0; i < b->result.file_count; i++) {
        store_output_file_t of;
        assert_int_equal(f->store->ops->output_file_find(f->store, b->keys[i], &of), STORE_OK);
        assert_string_equal(of.key, b->keys[i]);
        assert_string_equal(of.object_id, b->objects[i]);
        assert_int_equal(of.size, b->files[i].size);
        assert_string_equal(of.content_type, b->files[i].content_type);
        assert_string_equal(of.video_id, vid);
        assert_int_equal(of.created_ms, published_ms);
        store_output_file_free(&of);
    }
}

/* The video lists nothing and serves none of b's keys. */
static void assert_unpublished(fixture_t *f, int64_t account_id, const char *vid, const result_buf_t *b)
{
    store_output_list_t l;
    assert_int_equal(f->store->ops->video_outputs(f->store, account_id, vid, &l), STORE_OK);
    assert_int_equal(l.count, 0);
    store_output_list_free(&l);
    for (size_t i = 0; i < b->result.file_count; i++) {
        store_output_file_t of;
        assert_int_equal(f->store->ops->output_file_find(f->store, b->keys[i], &of), STORE_NOT_FOUND);
        assert_null(of.key);
    }
}

static void assert_in_use(fixture_t *f, const char *object_id, bool want)
{
    bool in_use = !want;
    assert_int_equal(f->store->ops->object_in_use(f->store, object_id, &in_use), STORE_OK);
    assert_int_equal(in_use, want);
}

static void assert_probe(fixture_t *f, const char *vid, double duration, int width, int height, const char *codecs)
{
    store_video_t v;
    assert_int_equal(f->store->ops->video_get(f->store, f->account, vid, &v), STORE_OK);
    assert_true(fabs(v.duration - duration) < 1e-9);
    assert_int_equal(v.width, width);
    assert_int_equal(v.height, height);
    assert_text(v.codecs, codecs);
    store_video_free(&v);
}

static int compare_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* old holds exactly the n objects of `want` (in any order). */
static void assert_ids(store_id_list_t *old, const char *const *want, size_t n)
{
    assert_int_equal(old->count, n);
    const char **sorted = calloc(n ? n : 1, sizeof(*sorted));
    assert_non_null(sorted);
    for (size_t i = 0; i < n; i++)
        sorted[i] = want[i];
    qsort(sorted, n, sizeof(*sorted), compare_text);
    qsort(old->items, old->count, sizeof(*old->items), compare_text);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(old->items[i], sorted[i]);
    free(sorted);
}

/* ---- names ---- */

static void test_type_names(void **state)
{
    (void)state;
    static const char *const names[] = {"mp4", "webm", "mkv", "hls", "vtt", "cover", "jpg"};
    for (int i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++) {
        assert_string_equal(store_output_type_name(i), names[i]);
        assert_int_equal(store_output_type_parse(names[i]), i);
    }
    assert_null(store_output_type_name(-1));
    assert_null(store_output_type_name(STORE_OUTPUT_JPG + 1));
    assert_int_equal(store_output_type_parse("MP4"), -1);
    assert_int_equal(store_output_type_parse(NULL), -1);
}

/* ---- publishing ---- */

/* Nothing is listed or served before the success; everything after it,
 * with the probe fields set, and the HLS variants and segments served
 * though not listed. */
static void test_publish_lists_and_serves(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    char vid[33], tid[33];
    running_video(f, f->account, T0, vid, tid);
    result_buf_t b;
    make_result(f, vid, &b);
    assert_unpublished(f, f->account, vid, &b);
    assert_probe(f, vid, -1, 0, 0, NULL);

    store_id_list_t old = {0};
    assert_int_equal(s->ops->task_succeed(s, tid, "w1", T0 + 5000, &b.result, &old), STORE_OK);
    assert_int_equal(old.count, 0); /* nothing was published before */
    assert_null(old.items);
    assert_task_state(f, f->account, tid, STORE_TASK_SUCCEEDED);
    assert_status(f, f->account, vid, "ready");
    assert_probe(f, vid, 12.5, 1280, 720, "h264,aac");
    assert_published(f, f->account, vid, &b, T0 + 5000);

    /* The original's key is the video's, not an output's. */
    char file_key[128];
    snprintf(file_key, sizeof(file_key), "video/20240101/%s/clip.mp4", vid);
    store_output_file_t of;
    assert_int_equal(s->ops->output_file_find(s, file_key, &of), STORE_NOT_FOUND);
    assert_int_equal(s->ops->output_file_find(s, NULL, &of), STORE_INVALID);
}

/* Outputs survive an overwrite, a cancel and a failed task; the next
 * success replaces them all and hands back the replaced objects, except
 * one that the new result serves again. */
static void test_second_success_replaces(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    char vid[33], t1[33], t2[33], t3[33], t4[33];
    running_video(f, f->account, T0, vid, t1);
    result_buf_t b1;
    make_result(f, vid, &b1);
    assert_int_equal(s->ops->task_succeed(s, t1, "w1", T0 + 10, &b1.result, NULL), STORE_OK);

    upload_at(f, f->account, vid, T0 + 20, t2); /* new bytes, a new task */
    assert_status(f, f->account, vid, "uploaded");
    assert_published(f, f->account, vid, &b1, T0 + 10);
    assert_int_equal(s->ops->task_cancel(s, f->account, t2, T0 + 21), STORE_OK);
    assert_status(f, f->account, vid, "ready");
    assert_published(f, f->account, vid, &b1, T0 + 10);
    assert_int_equal(s->ops->task_enqueue(s, f->account, vid, PLAN, NULL, T0 + 30, t3), STORE_OK);
    claim_expect(f, "w1", T0 + 30, t3);
    assert_int_equal(s->ops->task_fail(s, t3, "w1", T0 + 31, "probe: broken", false), STORE_OK);
    assert_status(f, f->account, vid, "failed");
    assert_published(f, f->account, vid, &b1, T0 + 10);

    assert_int_equal(s->ops->task_enqueue(s, f->account, vid, PLAN, NULL, T0 + 40, t4), STORE_OK);
    claim_expect(f, "w1", T0 + 40, t4);
    result_buf_t b2;
    make_result(f, vid, &b2); /* the same keys, new objects */
    strcpy(b2.objects[5], b1.objects[5]);
    b2.result.output_count = 2;
    b2.result.duration = 30;
    b2.result.width = 1920;
    b2.result.height = 1080;
    b2.result.codecs = NULL;
    store_id_list_t old = {0};
    assert_int_equal(s->ops->task_succeed(s, t4, "w1", T0 + 50, &b2.result, &old), STORE_OK);
    const char *const replaced[] = {b1.objects[0], b1.objects[1], b1.objects[2],
                                    b1.objects[3], b1.objects[4], b1.objects[6]};
    assert_ids(&old, replaced, 6);
    store_id_list_free(&old);
    assert_status(f, f->account, vid, "ready");
    assert_probe(f, vid, 30, 1920, 1080, NULL);
    assert_published(f, f->account, vid, &b2, T0 + 50);
    for (size_t i = 0; i < 6; i++)
        assert_in_use(f, replaced[i], false);
    for (size_t i = 0; i < RESULT_FILES; i++)
        assert_in_use(f, b2.objects[i], true);
}

/* A success without a result replaces the outputs by none and leaves the
 * probe fields alone. */
/* A result that adds (a POST /fops job): the video's earlier outputs stay
 * listed and served; only a file or listed output with a key the result
 * has again is replaced (its object handed back); the new listed outputs
 * come after the earlier ones. */
static void test_adding_result_keeps_the_others(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    char vid[33], t1[33], t2[33];
    running_video(f, f->account, T0, vid, t1);
    result_buf_t b1;
    make_result(f, vid, &b1);
    assert_int_equal(s->ops->task_succeed(s, t1, "w1", T0 + 10, &b1.result, NULL), STORE_OK);
    assert_int_equal(s->ops->task_enqueue(s, f->account, vid, PLAN, NULL, T0 + 20, t2), STORE_OK);
    claim_expect(f, "w1", T0 + 20, t2);
    /* One new frame, and the mp4 made again under its key. */
    char frame_key[160], frame_obj[33], mp4_obj[33];
    snprintf(frame_key, sizeof(frame_key), "video/20240101/%s/thumbs/first.jpg", vid);
    next_object(f, frame_obj);
    next_object(f, mp4_obj);
    store_output_file_t files[] = {
        {.key = frame_key, .object_id = frame_obj, .size = 99, .content_type = "image/jpeg"},
        {.key = b1.keys[1], .object_id = mp4_obj, .size = 1000, .content_type = "video/mp4"}};
    store_output_t outs[] = {
        {.type = STORE_OUTPUT_JPG, .key = frame_key, .width = 80, .height = 60, .size = 99},
        {.type = STORE_OUTPUT_MP4, .template_name = "fops1", .key = b1.keys[1], .width = 160, .height = 120,
         .duration = 12.5, .size = 1000}};
    store_task_result_t r = {.duration = 12.5, .width = 1280, .height = 720, .outputs = outs, .output_count = 2,
                             .files = files, .file_count = 2, .adds = true};
    store_id_list_t old = {0};
    assert_int_equal(s->ops->task_succeed(s, t2, "w1", T0 + 30, &r, &old), STORE_OK);
    const char *const replaced[] = {b1.objects[1]};
    assert_ids(&old, replaced, 1);
    store_id_list_free(&old);
    store_output_list_t l;
    assert_int_equal(s->ops->video_outputs(s, f->account, vid, &l), STORE_OK);
    /* hls, vtt, cover from the first task; then the frame and the new mp4. */
    assert_int_equal(l.count, 5);
    assert_int_equal(l.items[0].type, STORE_OUTPUT_HLS);
    assert_int_equal(l.items[2].type, STORE_OUTPUT_COVER);
    assert_output(&l.items[3], &outs[0]);
    assert_output(&l.items[4], &outs[1]);
    store_output_list_free(&l);
    for (int i = 0; i < RESULT_FILES; i++)
        assert_in_use(f, b1.objects[i], i != 1);
    assert_in_use(f, frame_obj, true);
    assert_in_use(f, mp4_obj, true);
}

static void test_null_result_clears_outputs(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    char vid[33], t1[33], t2[33];
    running_video(f, f->account, T0, vid, t1);
    result_buf_t b;
    make_result(f, vid, &b);
    assert_int_equal(s->ops->task_succeed(s, t1, "w1", T0 + 10, &b.result, NULL), STORE_OK);
    assert_int_equal(s->ops->task_enqueue(s, f->account, vid, PLAN, NULL, T0 + 20, t2), STORE_OK);
    claim_expect(f, "w1", T0 + 20, t2);
    store_id_list_t old = {0};
    assert_int_equal(s->ops->task_succeed(s, t2, "w1", T0 + 30, NULL, &old), STORE_OK);
    const char *const all[] = {b.objects[0], b.objects[1], b.objects[2], b.objects[3],
                               b.objects[4], b.objects[5], b.objects[6]};
    assert_ids(&old, all, RESULT_FILES);
    store_id_list_free(&old);
    assert_unpublished(f, f->account, vid, &b);
    assert_probe(f, vid, 12.5, 1280, 720, "h264,aac");
    assert_status(f, f->account, vid, "ready");
}

/* A task that is no longer the worker's publishes nothing. */
static void test_conflict_publishes_nothing(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    char vid[33], tid[33];
    running_video(f, f->account, T0, vid, tid);
    result_buf_t b;
    make_result(f, vid, &b);
    store_id_list_t old = {0};
    assert_int_equal(s->ops->task_succeed(s, tid, "w2", T0 + 1, &b.result, &old), STORE_CONFLICT);
    assert_int_equal(old.count, 0);
    assert_unpublished(f, f->account, vid, &b);
    assert_probe(f, vid, -1, 0, 0, NULL);
    assert_status(f, f->account, vid, "processing");
    assert_task_state(f, f->account, tid, STORE_TASK_RUNNING);

    assert_int_equal(s->ops->task_cancel(s, f->account, tid, T0 + 2), STORE_OK);
    assert_int_equal(s->ops->task_succeed(s, tid, "w1", T0 + 3, &b.result, &old), STORE_CONFLICT);
    assert_int_equal(old.count, 0);
    assert_unpublished(f, f->account, vid, &b);
    assert_probe(f, vid, -1, 0, 0, NULL);
    assert_status(f, f->account, vid, "uploaded");
    for (size_t i = 0; i < RESULT_FILES; i++)
        assert_in_use(f, b.objects[i], false);
}

/* The ways a result can take what is another's; each leaves every row as
 * it was. */
enum clash {
    CLASH_OTHER_FILE_KEY,    /* a key another video's file has */
    CLASH_OTHER_FILE_KEY_2,  /* the same, on a listed output's file */
    CLASH_OTHER_VIDEO_KEY,   /* another video's fileKey */
    CLASH_OWN_VIDEO_KEY,     /* the video's own fileKey */
    CLASH_OTHER_FILE_OBJECT, /* an object another video's file has */
    CLASH_OTHER_UPLOAD,      /* another video's upload object */
    CLASH_OWN_UPLOAD,        /* the video's own upload object */
    CLASH_COUNT
};

typedef struct clash_scene {
    char va[33], vb[33];
    result_buf_t a, b1;
    char a_upload[33], b_upload[33];
} clash_scene_t;

static void upload_object_of(fixture_t *f, const char *vid, char object_id[33])
{
    store_video_t v;
    assert_int_equal(f->store->ops->video_get(f->store, f->account, vid, &v), STORE_OK);
    strcpy(object_id, v.object_id);
    store_video_free(&v);
}

static void clash_apply(const clash_scene_t *sc, result_buf_t *b, int clash)
{
    switch (clash) {
    case CLASH_OTHER_FILE_KEY: strcpy(b->keys[4], sc->a.keys[4]); break;
    case CLASH_OTHER_FILE_KEY_2: strcpy(b->keys[1], sc->a.keys[1]); break;
    case CLASH_OTHER_VIDEO_KEY: snprintf(b->keys[4], sizeof(b->keys[4]), "video/20240101/%s/clip.mp4", sc->va); break;
    case CLASH_OWN_VIDEO_KEY: snprintf(b->keys[4], sizeof(b->keys[4]), "video/20240101/%s/clip.mp4", sc->vb); break;
    case CLASH_OTHER_FILE_OBJECT: strcpy(b->objects[3], sc->a.objects[3]); break;
    case CLASH_OTHER_UPLOAD: strcpy(b->objects[3], sc->a_upload); break;
    case CLASH_OWN_UPLOAD: strcpy(b->objects[3], sc->b_upload); break;
    default: fail();
    }
}

static void test_clash_is_exists_and_changes_nothing(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    clash_scene_t sc;
    char ta[33], tb1[33], tb2[33];
    running_video(f, f->account, T0, sc.va, ta);
    make_result(f, sc.va, &sc.a);
    assert_int_equal(s->ops->task_succeed(s, ta, "w1", T0 + 1, &sc.a.result, NULL), STORE_OK);
    running_video(f, f->account, T0 + 2, sc.vb, tb1);
    make_result(f, sc.vb, &sc.b1);
    assert_int_equal(s->ops->task_succeed(s, tb1, "w1", T0 + 3, &sc.b1.result, NULL), STORE_OK);
    upload_object_of(f, sc.va, sc.a_upload);
    upload_object_of(f, sc.vb, sc.b_upload);
    assert_int_equal(s->ops->task_enqueue(s, f->account, sc.vb, PLAN, NULL, T0 + 4, tb2), STORE_OK);
    claim_expect(f, "w1", T0 + 4, tb2);

    for (int clash = 0; clash < CLASH_COUNT; clash++) {
        result_buf_t b2;
        make_result(f, sc.vb, &b2);
        b2.result.duration = 99;
        clash_apply(&sc, &b2, clash);
        store_id_list_t old = {0};
        int rc = s->ops->task_succeed(s, tb2, "w1", T0 + 5, &b2.result, &old);
        if (rc != STORE_EXISTS)
            fail_msg("clash %d: %s", clash, store_rc_name(rc));
        assert_int_equal(old.count, 0);
        assert_task_state(f, f->account, tb2, STORE_TASK_RUNNING);
        assert_status(f, f->account, sc.vb, "processing");
        assert_probe(f, sc.vb, 12.5, 1280, 720, "h264,aac");
        assert_published(f, f->account, sc.va, &sc.a, T0 + 1);
        assert_published(f, f->account, sc.vb, &sc.b1, T0 + 3);
        assert_in_use(f, b2.objects[0], false);
    }

    /* The task can still publish a result of its own. */
    result_buf_t b2;
    make_result(f, sc.vb, &b2);
    store_id_list_t old = {0};
    assert_int_equal(s->ops->task_succeed(s, tb2, "w1", T0 + 6, &b2.result, &old), STORE_OK);
    assert_int_equal(old.count, RESULT_FILES);
    store_id_list_free(&old);
    assert_published(f, f->account, sc.vb, &b2, T0 + 6);
    assert_published(f, f->account, sc.va, &sc.a, T0 + 1);
}

/* Each way a result breaks the rules is STORE_INVALID, before anything
 * is read or written. */
enum bad {
    BAD_FILE_NO_KEY, BAD_FILE_EMPTY_KEY, BAD_FILE_NO_OBJECT, BAD_FILE_EMPTY_OBJECT, BAD_FILE_NO_TYPE,
    BAD_FILE_SIZE, BAD_FILES_ONE_KEY, BAD_FILES_ONE_OBJECT, BAD_OUTPUT_TYPE_HIGH, BAD_OUTPUT_TYPE_LOW,
    BAD_OUTPUT_NO_KEY, BAD_OUTPUT_KEY_NOT_SERVED, BAD_OUTPUT_SIZE, BAD_OUTPUT_DURATION_NAN,
    BAD_OUTPUT_DURATION_NEGATIVE, BAD_OUTPUT_WIDTH, BAD_OUTPUT_BITRATE, BAD_RESULT_DURATION,
    BAD_RESULT_HEIGHT, BAD_OUTPUTS_NULL, BAD_FILES_NULL, BAD_COUNT
};

static void bad_apply(result_buf_t *b, int bad)
{
    switch (bad) {
    case BAD_FILE_NO_KEY: b->files[3].key = NULL; break;
    case BAD_FILE_EMPTY_KEY: b->keys[3][0] = '\0'; break;
    case BAD_FILE_NO_OBJECT: b->files[3].object_id = NULL; break;
    case BAD_FILE_EMPTY_OBJECT: b->objects[3][0] = '\0'; break;
    case BAD_FILE_NO_TYPE: b->files[3].content_type = NULL; break;
    case BAD_FILE_SIZE: b->files[3].size = -1; break;
    case BAD_FILES_ONE_KEY: strcpy(b->keys[5], b->keys[4]); break;
    case BAD_FILES_ONE_OBJECT: strcpy(b->objects[5], b->objects[4]); break;
    case BAD_OUTPUT_TYPE_HIGH: b->outputs[1].type = STORE_OUTPUT_JPG + 1; break;
    case BAD_OUTPUT_TYPE_LOW: b->outputs[1].type = -1; break;
    case BAD_OUTPUT_NO_KEY: b->outputs[1].key = NULL; break;
    case BAD_OUTPUT_KEY_NOT_SERVED: b->outputs[1].key = "video/20240101/elsewhere/index.m3u8"; break;
    case BAD_OUTPUT_SIZE: b->outputs[1].size = -1; break;
    case BAD_OUTPUT_DURATION_NAN: b->outputs[1].duration = NAN; break;
    case BAD_OUTPUT_DURATION_NEGATIVE: b->outputs[1].duration = -1; break;
    case BAD_OUTPUT_WIDTH: b->outputs[1].width = -2; break;
    case BAD_OUTPUT_BITRATE: b->outputs[1].bitrate = -1; break;
    case BAD_RESULT_DURATION: b->result.duration = INFINITY; break;
    case BAD_RESULT_HEIGHT: b->result.height = -1; break;
    case BAD_OUTPUTS_NULL: b->result.outputs = NULL; break;
    case BAD_FILES_NULL: b->result.files = NULL; break;
    default: fail();
    }
}

static void test_invalid_result(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    char vid[33], tid[33];
    running_video(f, f->account, T0, vid, tid);
    for (int bad = 0; bad < BAD_COUNT; bad++) {
        result_buf_t b;
        make_result(f, vid, &b);
        bad_apply(&b, bad);
        store_id_list_t old = {.count = 99};
        int rc = s->ops->task_succeed(s, tid, "w1", T0 + 1, &b.result, &old);
        if (rc != STORE_INVALID)
            fail_msg("bad result %d: %s", bad, store_rc_name(rc));
        assert_int_equal(old.count, 0);
    }
    assert_int_equal(s->ops->task_succeed(s, NULL, "w1", T0 + 1, NULL, NULL), STORE_INVALID);
    assert_task_state(f, f->account, tid, STORE_TASK_RUNNING);
    assert_status(f, f->account, vid, "processing");
    store_output_list_t l;
    assert_int_equal(s->ops->video_outputs(s, f->account, vid, &l), STORE_OK);
    assert_int_equal(l.count, 0);

    /* Zero outputs and files with NULL arrays are fine: nothing to list. */
    store_task_result_t empty = {.duration = 1, .width = 2, .height = 2};
    assert_int_equal(s->ops->task_succeed(s, tid, "w1", T0 + 2, &empty, NULL), STORE_OK);
    assert_probe(f, vid, 1, 2, 2, NULL);
}

/* ---- objects ---- */

/* The sweep spares served output objects, and an upload may not take one. */
static void test_object_in_use(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    char vid[33], t1[33], t2[33];
    running_video(f, f->account, T0, vid, t1);
    result_buf_t b;
    make_result(f, vid, &b);
    for (size_t i = 0; i < RESULT_FILES; i++)
        assert_in_use(f, b.objects[i], false);
    assert_int_equal(s->ops->task_succeed(s, t1, "w1", T0 + 1, &b.result, NULL), STORE_OK);
    for (size_t i = 0; i < RESULT_FILES; i++)
        assert_in_use(f, b.objects[i], true);

    char other[33], t3[33];
    new_video(s, f->account, other);
    assert_int_equal(upload_object(f, f->account, other, b.objects[4], T0 + 2, t3), STORE_EXISTS);
    assert_status(f, f->account, other, "created");
    assert_int_equal(upload_object(f, f->account, vid, b.objects[4], T0 + 2, t3), STORE_EXISTS);

    /* Replaced by none: free for the sweep. */
    assert_int_equal(s->ops->task_enqueue(s, f->account, vid, PLAN, NULL, T0 + 3, t2), STORE_OK);
    claim_expect(f, "w1", T0 + 3, t2);
    assert_int_equal(s->ops->task_succeed(s, t2, "w1", T0 + 4, NULL, NULL), STORE_OK);
    for (size_t i = 0; i < RESULT_FILES; i++)
        assert_in_use(f, b.objects[i], false);
}

/* ---- isolation and durability ---- */

static void test_account_isolation(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    char vid[33], tid[33];
    running_video(f, f->account, T0, vid, tid);
    result_buf_t b;
    make_result(f, vid, &b);
    assert_int_equal(s->ops->task_succeed(s, tid, "w1", T0 + 1, &b.result, NULL), STORE_OK);

    int64_t bob = new_account(s, "bob");
    store_output_list_t l;
    assert_int_equal(s->ops->video_outputs(s, bob, vid, &l), STORE_NOT_FOUND);
    assert_int_equal(l.count, 0);
    assert_null(l.items);
    assert_int_equal(s->ops->video_outputs(s, -1, vid, &l), STORE_NOT_FOUND);
    assert_int_equal(s->ops->video_outputs(s, f->account, "01900000000000000000000000000000", &l),
                     STORE_NOT_FOUND);
    assert_int_equal(s->ops->video_outputs(s, f->account, NULL, &l), STORE_INVALID);

    /* Bob's own video without outputs: an empty list. */
    char bobs[33];
    new_video(s, bob, bobs);
    assert_int_equal(s->ops->video_outputs(s, bob, bobs, &l), STORE_OK);
    assert_int_equal(l.count, 0);
    store_output_list_free(&l);
    assert_int_equal(s->ops->video_outputs(s, f->account, bobs, &l), STORE_NOT_FOUND);

    /* The origin finds a file by key alone, in any account. */
    assert_published(f, f->account, vid, &b, T0 + 1);
}

static void test_reopen_keeps_outputs(void **state)
{
    fixture_t *f = *state;
    char vid[33], tid[33];
    running_video(f, f->account, T0, vid, tid);
    result_buf_t b;
    make_result(f, vid, &b);
    assert_int_equal(f->store->ops->task_succeed(f->store, tid, "w1", T0 + 1, &b.result, NULL), STORE_OK);
    f->store->ops->close(f->store);
    f->store = open_store(f->path);
    assert_non_null(f->store);
    assert_published(f, f->account, vid, &b, T0 + 1);
    assert_probe(f, vid, 12.5, 1280, 720, "h264,aac");
    for (size_t i = 0; i < RESULT_FILES; i++)
        assert_in_use(f, b.objects[i], true);
}

/* ---- migration 4 ---- */

/*
 * Schema version 3 exactly as the processing tasks' release created it
 * (migrations 1 to 3 are frozen: databases in the field ran them), so that
 * migrating a real older database is what the test exercises.
 */
static const char *const schema_v3 =
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
    "  value BLOB NOT NULL);"
    "CREATE TABLE tasks ("
    "  seq INTEGER PRIMARY KEY,"
    "  task_id TEXT NOT NULL UNIQUE,"
    "  account_id INTEGER NOT NULL REFERENCES accounts(id),"
    "  video_id TEXT NOT NULL REFERENCES videos(video_id) ON DELETE CASCADE,"
    "  state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN"
    "    ('queued', 'running', 'succeeded', 'failed', 'canceled')),"
    "  plan TEXT NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  error TEXT,"
    "  progress INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),"
    "  lease_owner TEXT,"
    "  lease_expires_ms INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt_ms INTEGER NOT NULL DEFAULT 0,"
    "  created_ms INTEGER NOT NULL,"
    "  started_ms INTEGER NOT NULL DEFAULT 0,"
    "  finished_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE UNIQUE INDEX tasks_one_unfinished ON tasks(video_id) WHERE state IN ('queued', 'running');"
    "CREATE INDEX tasks_unfinished ON tasks(created_ms, seq) WHERE state IN ('queued', 'running');"
    "CREATE INDEX tasks_video ON tasks(video_id, created_ms);";

#define V3_VIDEO "0190000000000000000000000000000a"
#define V3_OBJECT "000000000000000000000000000000aa"
#define V3_TASK "tk000000000000000000000000000001"

/* A v3 database with a video whose task is running: the upgrade lets that
 * task publish its outputs, and they stay after reopening. */
static void test_migrate_from_v3(void **state)
{
    fixture_t *f = *state;
    char path[160];
    snprintf(path, sizeof(path), "%s/v3.db", f->dir);
    raw_exec_at(path, "PRAGMA journal_mode = WAL");
    raw_exec_at(path, schema_v3);
    raw_exec_at(path,
                "PRAGMA user_version = 3;"
                "INSERT INTO accounts (id, name, bucket, created_ms) VALUES (7, 'old', 'vod-00000000000000aa', 1);"
                "INSERT INTO videos (video_id, account_id, name, file_key, bucket, status, size, created_ms,"
                " uploaded_ms, object_id) VALUES ('" V3_VIDEO "', 7, 'old.mp4', 'video/20240101/" V3_VIDEO
                "/clip.mp4', 'vod-00000000000000aa', 'processing', 42, 2, 3, '" V3_OBJECT "');"
                "INSERT INTO tasks (task_id, account_id, video_id, state, plan, attempts, lease_owner,"
                " lease_expires_ms, created_ms, started_ms) VALUES ('" V3_TASK "', 7, '" V3_VIDEO "',"
                " 'running', '{}', 1, 'w1', 9000000000000, 3, 4);");

    f->store->ops->close(f->store);
    f->store = open_store(path);
    assert_non_null(f->store);
    f->account = 7;
    assert_int_equal(raw_count_at(path, "PRAGMA user_version"), store_schema_target());
    store_output_list_t l;
    assert_int_equal(f->store->ops->video_outputs(f->store, 7, V3_VIDEO, &l), STORE_OK);
    assert_int_equal(l.count, 0);
    assert_in_use(f, V3_OBJECT, true);

    result_buf_t b;
    make_result(f, V3_VIDEO, &b);
    assert_int_equal(f->store->ops->task_succeed(f->store, V3_TASK, "w1", T0, &b.result, NULL), STORE_OK);
    assert_published(f, 7, V3_VIDEO, &b, T0);
    f->store->ops->close(f->store);

    f->store = open_store(path); /* current now: opened without migrating again */
    assert_non_null(f->store);
    assert_int_equal(raw_count_at(path, "PRAGMA user_version"), store_schema_target());
    assert_published(f, 7, V3_VIDEO, &b, T0);
    assert_status(f, 7, V3_VIDEO, "ready");
    assert_in_use(f, V3_OBJECT, true);
    assert_in_use(f, b.objects[0], true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_names),
        cmocka_unit_test_setup_teardown(test_publish_lists_and_serves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_success_replaces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_adding_result_keeps_the_others, setup, teardown),
        cmocka_unit_test_setup_teardown(test_null_result_clears_outputs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflict_publishes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clash_is_exists_and_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_result, setup, teardown),
        cmocka_unit_test_setup_teardown(test_object_in_use, setup, teardown),
        cmocka_unit_test_setup_teardown(test_account_isolation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_keeps_outputs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_from_v3, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
