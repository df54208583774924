/* publish: a succeeded attempt's files -> objects -> one task_succeed; see publish.h. */
#include "process/publish.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "common/ids.h"
#include "common/log.h"

#define PUBLISH_PATH_MAX 4096
#define PUBLISH_DEPTH_MAX 8 /* video/<date>/<id>/<template>/<WxH>/<segment>: 6 */

static const struct {
    const char *ext;
    const char *type;
} publish_types[] = {
    {"mp4", "video/mp4"},   {"webm", "video/webm"},  {"mkv", "video/x-matroska"},
    {"m3u8", "application/vnd.apple.mpegurl"},       {"ts", "video/mp2t"},
    {"jpg", "image/jpeg"},  {"vtt", "text/vtt"},
};

const char *publish_content_type(const char *key)
{
    const char *dot = strrchr(key, '.');
    for (size_t i = 0; dot && i < sizeof(publish_types) / sizeof(publish_types[0]); i++)
        if (!strcasecmp(dot + 1, publish_types[i].ext))
            return publish_types[i].type;
    return "application/octet-stream";
}

/* The files imported so far: what a failure must remove again. */
typedef struct publish_files {
    store_output_file_t *items;
    size_t count, cap;
    const publish_input_t *in;
    bool failed;
    char *err;
    size_t errlen;
} publish_files_t;

static void publish_files_free(publish_files_t *f, bool remove_objects)
{
    for (size_t i = 0; i < f->count; i++) {
        if (remove_objects)
            f->in->blob->ops->object_remove(f->in->blob, f->items[i].object_id);
        free(f->items[i].key);
        free(f->items[i].object_id);
    }
    free(f->items);
}

static bool publish_fail(publish_files_t *f, const char *what, const char *key)
{
    snprintf(f->err, f->errlen, "publish: %s: %s", what, key);
    f->failed = true;
    return false;
}

/* Imports one file as the object of key `rel`. */
static bool publish_file(publish_files_t *f, const char *path, const char *rel, int64_t size)
{
    if (f->count == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 64;
        store_output_file_t *items = realloc(f->items, cap * sizeof(*items));
        if (!items)
            return publish_fail(f, "out of memory", rel);
        f->items = items;
        f->cap = cap;
    }
    char object_id[BLOB_ID_LEN + 1];
    if (!ids_random_hex(BLOB_ID_LEN / 2, object_id))
        return publish_fail(f, "no random bytes", rel);
    int rc = f->in->blob->ops->object_import(f->in->blob, path, object_id);
    if (rc != BLOB_OK)
        return publish_fail(f, rc == BLOB_NO_SPACE ? "disk full" : "cannot store", rel);
    store_output_file_t *it = &f->items[f->count++];
    *it = (store_output_file_t){.key = strdup(rel), .object_id = strdup(object_id), .size = size,
                                .content_type = (char *)publish_content_type(rel)};
    if (!it->key || !it->object_id)
        return publish_fail(f, "out of memory", rel);
    return true;
}

/* Imports every regular file below dir (rel: its key prefix, "" at the top). */
static bool publish_walk(publish_files_t *f, const char *dir, const char *rel, int depth)
{
    DIR *d = depth <= PUBLISH_DEPTH_MAX ? opendir(dir) : NULL;
    if (!d)
        return publish_fail(f, "cannot read", dir);
    bool ok = true;
    struct dirent *e;
    while (ok && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue; /* ".", ".." (no output key starts with a dot) */
        char path[PUBLISH_PATH_MAX], key[PUBLISH_PATH_MAX];
        int n1 = snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        int n2 = snprintf(key, sizeof(key), "%s%s%s", rel, *rel ? "/" : "", e->d_name);
        struct stat st;
        if (n1 < 0 || (size_t)n1 >= sizeof(path) || n2 < 0 || (size_t)n2 >= sizeof(key) || lstat(path, &st) != 0)
            ok = publish_fail(f, "cannot read", e->d_name);
        else if (S_ISDIR(st.st_mode))
            ok = publish_walk(f, path, key, depth + 1);
        else if (S_ISREG(st.st_mode))
            ok = publish_file(f, path, key, (int64_t)st.st_size);
    }
    closedir(d);
    return ok;
}

/* The listed outputs, pointing into the plan and the measures. */
static store_output_t *publish_outputs(const publish_input_t *in)
{
    const plan_t *p = in->plan;
    store_output_t *outs = calloc(p->output_count ? p->output_count : 1, sizeof(*outs));
    for (size_t i = 0; outs && i < p->output_count; i++) {
        const plan_output_t *po = &p->outputs[i];
        const output_measure_t *m = &in->measures[i];
        outs[i] = (store_output_t){
            .type = m->type,
            .template_name = po->template_name[0] ? (char *)po->template_name : NULL,
            .key = (char *)po->key,
            .width = m->width,
            .height = m->height,
            .duration = m->duration,
            .size = m->size,
            .bitrate = m->bitrate,
            .codecs = m->codecs[0] ? (char *)m->codecs : NULL,
            .language = po->kind == PLAN_OUTPUT_VTT ? (char *)po->language : NULL,
        };
    }
    return outs;
}

static void publish_remove_old(const publish_input_t *in, store_id_list_t *old)
{
    for (size_t i = 0; i < old->count; i++)
        if (in->blob->ops->object_remove(in->blob, old->items[i]) != BLOB_OK)
            log_warn("task %s: replaced output %s not removed; the sweep will", in->task_id, old->items[i]);
    store_id_list_free(old);
}

static int publish_commit(const publish_input_t *in, publish_files_t *f, char *err, size_t errlen)
{
    store_output_t *outs = publish_outputs(in);
    if (!outs) {
        snprintf(err, errlen, "publish: out of memory");
        return PUBLISH_RETRY;
    }
    const probe_result_t *p = in->probe;
    store_task_result_t result = {
        .duration = p->duration, .width = p->display_width, .height = p->display_height,
        .codecs = p->codecs[0] ? p->codecs : NULL,
        .outputs = outs, .output_count = in->plan->output_count,
        .files = f->items, .file_count = f->count, .adds = in->adds,
    };
    store_id_list_t old = {0};
    int rc = in->store->ops->task_succeed(in->store, in->task_id, in->worker_id, ids_now_ms(), &result, &old);
    free(outs);
    if (rc == STORE_OK) {
        publish_remove_old(in, &old);
        return PUBLISH_DONE;
    }
    /* Conflict: canceled or overwritten; not found: the video was deleted. */
    bool gone = rc == STORE_CONFLICT || rc == STORE_NOT_FOUND;
    if (!gone)
        snprintf(err, errlen, "publish: store: %s", store_rc_name(rc));
    return gone ? PUBLISH_CANCELED : PUBLISH_RETRY;
}

int publish_task(const publish_input_t *in, char *err, size_t errlen)
{
    publish_files_t f = {.in = in, .err = err, .errlen = errlen};
    int outcome = PUBLISH_RETRY;
    if (publish_walk(&f, in->out_dir, "", 0))
        outcome = publish_commit(in, &f, err, errlen);
    publish_files_free(&f, outcome != PUBLISH_DONE);
    return outcome;
}
