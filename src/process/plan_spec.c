/*
 * plan_spec: a task's frozen plan as a struct and as the JSON text the store
 * keeps (see plan_spec.h for the shape and the rules).
 *
 * The specs a plan embeds (template, watermark, subtitle) are read and
 * written by spec.c, through their JSON text, so a frozen spec means exactly
 * what the resource meant when it was frozen: this file owns only the plan's
 * own members.  The stored text is never trusted: it may come from an older
 * vodup, a newer one (a version this one does not read), or a hand edit.
 * Pure: no I/O.
 */
#include "process/plan_spec.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "process/fops.h"
#include "process/output_key.h"

/* A fops' steps (fops_plan.h) always fit a plan's limits. */
_Static_assert(FOPS_TASKS_MAX <= PLAN_KEYED_MAX, "a fops' tasks are keyed steps");
_Static_assert(FOPS_SEGMENT_SECONDS_MAX <= PLAN_SEGMENT_S_MAX, "segtime is segmentSeconds");
_Static_assert(FOPS_OFFSET_MS_MAX <= PLAN_FRAME_AT_MS_MAX, "a vframe offset is a frame's atMs");
_Static_assert(FOPS_KEY_MAX < PLAN_FILE_KEY_MAX, "a saveas key is a step's key");

#define PLAN_SPEC_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
/* As spec.c's: an opacity survives the round trip without 0.29999999999999999. */
#define PLAN_SPEC_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))
#define PLAN_SPEC_OBJECT_ID_LEN 32
/* What an HLS output's files add to its key: its variants' "/8192x8192"
 * directory, and "_00000.ts" where the key has ".m3u8". */
#define PLAN_SPEC_HLS_KEY_ROOM 14

/* The member that holds a step's spec, by kind (NULL: the kind has none). */
static const char *const plan_spec_members[] = {NULL, NULL, "template", "watermark", "subtitle"};

__attribute__((format(printf, 3, 4))) static bool plan_spec_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (errlen)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return false;
}

static const char *plan_spec_member(enum spec_step_kind k)
{
    return (size_t)k < PLAN_SPEC_ARRAY_LEN(plan_spec_members) ? plan_spec_members[k] : NULL;
}

/* ---- defaults and lookups ---- */

void plan_default_template(spec_template_t *out)
{
    spec_template_init(out, SPEC_CONTAINER_MP4);
    out->rendition_count = 1; /* 0x0: the source's size (spec.h) */
}

static const plan_step_t *plan_spec_find(const plan_spec_t *p, enum spec_step_kind kind)
{
    for (size_t i = 0; i < p->step_count && i < PLAN_STEPS_MAX; i++)
        if (p->steps[i].kind == kind)
            return &p->steps[i];
    return NULL;
}

const plan_step_t *plan_spec_watermark(const plan_spec_t *p)
{
    return plan_spec_find(p, SPEC_STEP_WATERMARK);
}

const plan_step_t *plan_spec_subtitle(const plan_spec_t *p)
{
    return plan_spec_find(p, SPEC_STEP_SUBTITLE);
}

bool plan_spec_has_snapshot(const plan_spec_t *p)
{
    for (size_t i = 0; i < p->step_count && i < PLAN_STEPS_MAX; i++)
        if (p->steps[i].kind == SPEC_STEP_SNAPSHOT && !p->steps[i].key[0])
            return true;
    return false;
}

size_t plan_spec_transcodes(const plan_spec_t *p, const plan_step_t **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < p->step_count && i < PLAN_STEPS_MAX; i++)
        if (p->steps[i].kind == SPEC_STEP_TRANSCODE && n < max)
            out[n++] = &p->steps[i];
    return n;
}

/* ---- check ---- */

static bool plan_spec_object_id_ok(const char *s)
{
    size_t n = strspn(s, "0123456789abcdef");
    return n == PLAN_SPEC_OBJECT_ID_LEN && s[n] == '\0';
}

/* The step's spec, with spec.h's checks.  Their messages name the spec
 * ("template: ...", "watermark: ..."); a transcode's gets its step's name
 * in front, so a failReason always starts with the step. */
static bool plan_spec_check_step_spec(const plan_step_t *s, char *err, size_t errlen)
{
    spec_error_t e = {{0}};
    bool ok = s->kind == SPEC_STEP_TRANSCODE   ? spec_template_check(&s->u.template_spec, &e)
              : s->kind == SPEC_STEP_WATERMARK ? spec_watermark_check(&s->u.watermark, &e)
              : s->kind == SPEC_STEP_SUBTITLE  ? spec_subtitle_check(&s->u.subtitle, &e)
                                               : true;
    if (ok)
        return true;
    if (s->kind == SPEC_STEP_TRANSCODE)
        return plan_spec_fail(err, errlen, "transcode: %s", e.message);
    return plan_spec_fail(err, errlen, "%s", e.message);
}

/* One step alone: a known kind, a name exactly when the kind takes one. */
static bool plan_spec_check_step(const plan_step_t *s, size_t index, char *err, size_t errlen)
{
    const char *kind = spec_step_kind_name(s->kind);
    if (!kind)
        return plan_spec_fail(err, errlen, "plan: step %zu has an unknown kind", index + 1);
    if (!spec_step_kind_takes_ref(s->kind) && s->name[0])
        return plan_spec_fail(err, errlen, "plan: step %zu ('%s') takes no name", index + 1, kind);
    if (spec_step_kind_takes_ref(s->kind) && !spec_name_valid(s->name))
        return plan_spec_fail(err, errlen, "plan: step %zu ('%s') needs a name of 1..%d of A-Z a-z 0-9 . _ -",
                              index + 1, kind, SPEC_NAME_MAX);
    return plan_spec_check_step_spec(s, err, errlen);
}

/* Probe, the cover, watermark and subtitle once each (watermark and
 * subtitle apply to every transcode, so a second would be ambiguous); a
 * transcode once per template (twice would write the same outputs); frames
 * as often as their keys differ (plan_spec_check_keys). */
static bool plan_spec_steps_clash(const plan_step_t *a, const plan_step_t *b)
{
    if (a->kind != b->kind)
        return false;
    if (a->kind == SPEC_STEP_TRANSCODE)
        return !strcmp(a->name, b->name);
    return a->kind != SPEC_STEP_SNAPSHOT || (!a->key[0] && !b->key[0]);
}

/* ---- keyed outputs (a fops', fops_plan.h) ---- */

static bool plan_spec_ends(const char *key, const char *ext)
{
    size_t n = strlen(key), e = strlen(ext);
    return n > e && !strcmp(key + n - e, ext);
}

/* Whether path is dir or under it: "a.mp4" holds "a.mp4" and "a.mp4/x.jpg". */
static bool plan_spec_within(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

/* The key's own form: its segments and length, the names it may not take,
 * and the extension a player or a browser needs of a playlist or a JPEG
 * (a file's container is its template's, whatever its name). */
static bool plan_spec_check_key_form(const plan_spec_t *p, const plan_step_t *s, size_t i, char *err, size_t errlen)
{
    bool hls = s->kind == SPEC_STEP_TRANSCODE && s->u.template_spec.container == SPEC_CONTAINER_HLS;
    buf_t full;
    buf_init(&full, 0);
    bool fits = output_key_keyed(p->file_key, s->key, &full) &&
                full.len + (hls ? PLAN_SPEC_HLS_KEY_ROOM : 0) < PLAN_KEY_MAX;
    buf_free(&full);
    const char *slash = strrchr(p->file_key, '/'), *original = slash ? slash + 1 : p->file_key;
    const char *ext = s->kind == SPEC_STEP_SNAPSHOT ? ".jpg" : hls ? ".m3u8" : "";
    if (!fits)
        return plan_spec_fail(err, errlen, "plan: step %zu's key is not a key of 1..64-byte segments of A-Z a-z "
                                           "0-9 . _ - that fits beside the original", i + 1);
    size_t segments = 1;
    for (const char *c = s->key; *c; c++)
        segments += *c == '/';
    if (segments > PLAN_KEY_SEGMENTS_MAX)
        return plan_spec_fail(err, errlen, "plan: step %zu's key has more than %d segments", i + 1,
                              PLAN_KEY_SEGMENTS_MAX);
    if (!strcmp(s->key, original))
        return plan_spec_fail(err, errlen, "plan: step %zu's key is the original's own name", i + 1);
    if (plan_spec_within(s->key, original))
        return plan_spec_fail(err, errlen, "plan: step %zu's key is under the original's own name", i + 1);
    if (!strcmp(s->key, OUTPUT_KEY_COVER_NAME))
        return plan_spec_fail(err, errlen, "plan: step %zu's key is the cover's (%s)", i + 1, OUTPUT_KEY_COVER_NAME);
    if (ext[0] && !plan_spec_ends(s->key, ext))
        return plan_spec_fail(err, errlen, "plan: step %zu's key must end in %s", i + 1, ext);
    return true;
}

/* A time that was never set: a zeroed step's, or the reader's default. */
static bool plan_spec_at_unset(int64_t at_ms)
{
    return at_ms == 0 || at_ms == PLAN_FRAME_AT_COVER;
}

/* A transcode's segment length and renditions. */
static bool plan_spec_check_transcode_extras(const plan_step_t *s, size_t i, char *err, size_t errlen)
{
    const spec_template_t *t = &s->u.template_spec;
    bool hls = t->container == SPEC_CONTAINER_HLS;
    if (s->width || s->height || !plan_spec_at_unset(s->at_ms))
        return plan_spec_fail(err, errlen, "plan: step %zu (a transcode) takes no box or time", i + 1);
    if (s->segment_seconds && (!hls || s->segment_seconds < 1 || s->segment_seconds > PLAN_SEGMENT_S_MAX))
        return plan_spec_fail(err, errlen, "plan: step %zu's segmentSeconds must be 1..%d, on an HLS template",
                              i + 1, PLAN_SEGMENT_S_MAX);
    if (s->key[0] && !hls && t->rendition_count != 1)
        return plan_spec_fail(err, errlen, "plan: step %zu has a key and %zu renditions (a file is one)", i + 1,
                              t->rendition_count);
    return true;
}

/* A snapshot's time and box: a frame's; the cover's are vodup's own. */
static bool plan_spec_check_snapshot_extras(const plan_step_t *s, size_t i, char *err, size_t errlen)
{
    if (s->segment_seconds)
        return plan_spec_fail(err, errlen, "plan: step %zu (a snapshot) takes no segment length", i + 1);
    if (!s->key[0] && (s->width || s->height || !plan_spec_at_unset(s->at_ms)))
        return plan_spec_fail(err, errlen, "plan: step %zu is the cover (no key): it takes no time or box", i + 1);
    if (s->at_ms != PLAN_FRAME_AT_COVER && (s->at_ms < 0 || s->at_ms > PLAN_FRAME_AT_MS_MAX))
        return plan_spec_fail(err, errlen, "plan: step %zu's atMs must be 0..%lld", i + 1,
                              (long long)PLAN_FRAME_AT_MS_MAX);
    if (!spec_dimension_valid(s->width) || !spec_dimension_valid(s->height))
        return plan_spec_fail(err, errlen, "plan: step %zu's box sides must be 0 or %d..%d", i + 1,
                              SPEC_DIMENSION_MIN, SPEC_DIMENSION_MAX);
    return true;
}

static bool plan_spec_check_extras(const plan_spec_t *p, const plan_step_t *s, size_t i, char *err, size_t errlen)
{
    if (s->kind == SPEC_STEP_TRANSCODE || s->kind == SPEC_STEP_SNAPSHOT) {
        if (s->key[0] && !plan_spec_check_key_form(p, s, i, err, errlen))
            return false;
        return s->kind == SPEC_STEP_TRANSCODE ? plan_spec_check_transcode_extras(s, i, err, errlen)
                                              : plan_spec_check_snapshot_extras(s, i, err, errlen);
    }
    if (s->key[0] || s->segment_seconds || s->width || s->height || !plan_spec_at_unset(s->at_ms))
        return plan_spec_fail(err, errlen, "plan: step %zu ('%s') takes no key, box, time or segment length", i + 1,
                              spec_step_kind_name(s->kind));
    return true;
}

/* Step i's key against the earlier ones: two outputs never share a file,
 * and no file is another's directory. */
static bool plan_spec_check_key_pairs(const plan_spec_t *p, size_t i, char *err, size_t errlen)
{
    const char *key = p->steps[i].key;
    for (size_t j = 0; j < i; j++) {
        const char *other = p->steps[j].key;
        if (!other[0])
            continue;
        if (!strcmp(other, key))
            return plan_spec_fail(err, errlen, "plan: steps %zu and %zu have the same key", j + 1, i + 1);
        if (plan_spec_within(other, key) || plan_spec_within(key, other))
            return plan_spec_fail(err, errlen, "plan: steps %zu and %zu have keys where one is the other's "
                                               "directory", j + 1, i + 1);
    }
    return true;
}

/* A soft subtitle's HLS group links "../subtitles/<lang>.vtt" from the
 * master's directory (hls.h), which is right only for a master one
 * directory below the video's: a keyed HLS master must then sit there. */
static bool plan_spec_check_soft_hls(const plan_spec_t *p, const plan_step_t *s, size_t i, char *err, size_t errlen)
{
    const plan_step_t *sub = plan_spec_subtitle(p);
    bool hls = s->kind == SPEC_STEP_TRANSCODE && s->u.template_spec.container == SPEC_CONTAINER_HLS;
    const char *slash = strchr(s->key, '/');
    if (!sub || sub->u.subtitle.mode != SPEC_SUBTITLE_SOFT || !hls || (slash && !strchr(slash + 1, '/')))
        return true;
    return plan_spec_fail(err, errlen, "plan: step %zu's HLS key must be <directory>/<name>.m3u8 with a soft "
                                       "subtitle (its playlists link the subtitles one directory up)", i + 1);
}

/* Each step's keyed members; keys distinct; at most PLAN_KEYED_MAX. */
static bool plan_spec_check_keys(const plan_spec_t *p, char *err, size_t errlen)
{
    size_t keyed = 0;
    for (size_t i = 0; i < p->step_count; i++) {
        if (!plan_spec_check_extras(p, &p->steps[i], i, err, errlen))
            return false;
        if (!p->steps[i].key[0])
            continue;
        keyed++;
        if (!plan_spec_check_key_pairs(p, i, err, errlen) || !plan_spec_check_soft_hls(p, &p->steps[i], i, err, errlen))
            return false;
    }
    if (keyed > PLAN_KEYED_MAX)
        return plan_spec_fail(err, errlen, "plan: it has more than %d keyed steps", PLAN_KEYED_MAX);
    return true;
}

static bool plan_spec_check_steps(const plan_spec_t *p, char *err, size_t errlen)
{
    size_t transcodes = 0;
    for (size_t i = 0; i < p->step_count; i++) {
        const plan_step_t *s = &p->steps[i];
        if (!plan_spec_check_step(s, i, err, errlen))
            return false;
        transcodes += s->kind == SPEC_STEP_TRANSCODE && !s->key[0]; /* keyed ones: plan_spec_check_keys */
        for (size_t j = 0; j < i; j++)
            if (plan_spec_steps_clash(&p->steps[j], s))
                return plan_spec_fail(err, errlen, "plan: steps %zu and %zu are both '%s%s%s'", j + 1, i + 1,
                                      spec_step_kind_name(s->kind), s->name[0] ? "=" : "", s->name);
    }
    if (transcodes > SPEC_WORKFLOW_STEPS_MAX)
        return plan_spec_fail(err, errlen, "plan: it has more than %d transcodes", SPEC_WORKFLOW_STEPS_MAX);
    return true;
}

bool plan_spec_check(const plan_spec_t *p, char *err, size_t errlen)
{
    if (!plan_spec_object_id_ok(p->object_id))
        return plan_spec_fail(err, errlen, "plan: the objectId must be %d lowercase hex digits",
                              PLAN_SPEC_OBJECT_ID_LEN);
    if (!memchr(p->file_key, '\0', sizeof(p->file_key)) || !p->file_key[0])
        return plan_spec_fail(err, errlen, "plan: the fileKey must be 1..%d bytes", PLAN_FILE_KEY_MAX - 1);
    if (!memchr(p->error, '\0', sizeof(p->error)))
        return plan_spec_fail(err, errlen, "plan: the error is too long");
    if (p->step_count > PLAN_STEPS_MAX)
        return plan_spec_fail(err, errlen, "plan: it has more than %d steps", PLAN_STEPS_MAX);
    for (size_t i = 0; i < p->step_count; i++)
        if (!memchr(p->steps[i].key, '\0', sizeof(p->steps[i].key)))
            return plan_spec_fail(err, errlen, "plan: step %zu's key is too long", i + 1);
    return plan_spec_check_steps(p, err, errlen) && plan_spec_check_keys(p, err, errlen);
}

/* ---- JSON reading ---- */

/* Refuses members the shape does not have: a typo must not pass as a default. */
static bool plan_spec_json_only(json_t *o, const char *const *allowed, size_t n, const char *what, char *err,
                                size_t errlen)
{
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        size_t i = 0;
        while (i < n && (!allowed[i] || strcmp(key, allowed[i]) != 0))
            i++;
        if (i == n)
            return plan_spec_fail(err, errlen, "plan: %s has an unknown member '%s'", what, key);
    }
    return true;
}

/* Copies string member `key` into out (len bytes); a missing one is an
 * error only when `required`. */
static bool plan_spec_json_copy(json_t *o, const char *key, bool required, char *out, size_t len, char *err,
                                size_t errlen)
{
    json_t *v = json_object_get(o, key);
    if (!v && !required)
        return true;
    if (!json_is_string(v))
        return plan_spec_fail(err, errlen, "plan: '%s' must be a string", key);
    const char *s = json_string_value(v);
    if (strlen(s) >= len)
        return plan_spec_fail(err, errlen, "plan: '%s' is too long", key);
    memcpy(out, s, strlen(s) + 1);
    return true;
}

static bool plan_spec_read_version(json_t *o, char *err, size_t errlen)
{
    json_t *v = json_object_get(o, "version");
    if (!json_is_integer(v))
        return plan_spec_fail(err, errlen, "plan: 'version' must be an integer");
    if (json_integer_value(v) != PLAN_SPEC_VERSION)
        return plan_spec_fail(err, errlen, "plan: version %lld is not one this vodup reads (it reads %d)",
                              (long long)json_integer_value(v), PLAN_SPEC_VERSION);
    return true;
}

/* The embedded spec of a step, through spec.c's parser of its text. */
static bool plan_spec_read_step_spec(json_t *spec, plan_step_t *s, char *err, size_t errlen)
{
    if (!json_is_object(spec))
        return plan_spec_fail(err, errlen, "plan: '%s' of a %s step must be an object",
                              plan_spec_member(s->kind), spec_step_kind_name(s->kind));
    char *text = json_dumps(spec, PLAN_SPEC_JSON_FLAGS);
    spec_error_t e = {{0}};
    bool ok = text && (s->kind == SPEC_STEP_TRANSCODE   ? spec_template_parse(text, &s->u.template_spec, &e)
                       : s->kind == SPEC_STEP_WATERMARK ? spec_watermark_parse(text, &s->u.watermark, &e)
                                                        : spec_subtitle_parse(text, &s->u.subtitle, &e));
    free(text);
    if (ok)
        return true;
    if (!e.message[0])
        return plan_spec_fail(err, errlen, "plan: out of memory");
    return plan_spec_fail(err, errlen, "%s%s", s->kind == SPEC_STEP_TRANSCODE ? "transcode: " : "", e.message);
}

/* Integer member `key` into *out when present: a JSON integer in lo..hi. */
static bool plan_spec_json_int(json_t *o, const char *key, int64_t lo, int64_t hi, int64_t *out, char *err,
                               size_t errlen)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return true;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return plan_spec_fail(err, errlen, "plan: '%s' must be an integer in %lld..%lld", key, (long long)lo,
                              (long long)hi);
    *out = json_integer_value(v);
    return true;
}

/* "key": never "" (no key is no member), and only a frame takes "atMs". */
static bool plan_spec_read_key(json_t *o, plan_step_t *s, char *err, size_t errlen)
{
    if (!plan_spec_json_copy(o, "key", false, s->key, sizeof(s->key), err, errlen))
        return false;
    if (json_object_get(o, "key") && !s->key[0])
        return plan_spec_fail(err, errlen, "plan: 'key' is empty");
    if (!s->key[0] && json_object_get(o, "atMs"))
        return plan_spec_fail(err, errlen, "plan: only a snapshot with a key (a frame) takes atMs");
    return true;
}

/* A transcode's or snapshot's key, segment length, time and box (the
 * check gives the rules; here only their types and outer bounds).  A
 * snapshot without "atMs" is at PLAN_FRAME_AT_COVER. */
static bool plan_spec_read_extras(json_t *o, plan_step_t *s, char *err, size_t errlen)
{
    int64_t seg = 0, w = 0, h = 0;
    s->at_ms = s->kind == SPEC_STEP_SNAPSHOT ? PLAN_FRAME_AT_COVER : 0;
    bool ok = plan_spec_read_key(o, s, err, errlen) &&
              plan_spec_json_int(o, "segmentSeconds", 1, PLAN_SEGMENT_S_MAX, &seg, err, errlen) &&
              plan_spec_json_int(o, "atMs", 0, PLAN_FRAME_AT_MS_MAX, &s->at_ms, err, errlen) &&
              plan_spec_json_int(o, "width", 0, SPEC_DIMENSION_MAX, &w, err, errlen) &&
              plan_spec_json_int(o, "height", 0, SPEC_DIMENSION_MAX, &h, err, errlen);
    s->segment_seconds = (int)seg;
    s->width = (int)w;
    s->height = (int)h;
    return ok;
}

static bool plan_spec_read_step(json_t *o, plan_step_t *s, char *err, size_t errlen)
{
    const char *kind = json_string_value(json_object_get(o, "kind"));
    int k = 0;
    while (kind && spec_step_kind_name((enum spec_step_kind)k) &&
           strcmp(kind, spec_step_kind_name((enum spec_step_kind)k)) != 0)
        k++;
    if (!kind || !spec_step_kind_name((enum spec_step_kind)k))
        return plan_spec_fail(err, errlen, "plan: a step's 'kind' must be probe, snapshot, transcode, watermark "
                                           "or subtitle");
    s->kind = (enum spec_step_kind)k;
    const char *member = plan_spec_member(s->kind);
    bool transcode = s->kind == SPEC_STEP_TRANSCODE, snapshot = s->kind == SPEC_STEP_SNAPSHOT;
    const char *allowed[] = {"kind", member ? "name" : NULL, member, transcode || snapshot ? "key" : NULL,
                             transcode ? "segmentSeconds" : NULL, snapshot ? "atMs" : NULL,
                             snapshot ? "width" : NULL, snapshot ? "height" : NULL};
    if (!plan_spec_json_only(o, allowed, PLAN_SPEC_ARRAY_LEN(allowed), "a step", err, errlen) ||
        !plan_spec_read_extras(o, s, err, errlen))
        return false;
    if (!member)
        return true;
    return plan_spec_json_copy(o, "name", true, s->name, sizeof(s->name), err, errlen) &&
           plan_spec_read_step_spec(json_object_get(o, member), s, err, errlen);
}

static bool plan_spec_read_steps(json_t *steps, plan_spec_t *out, char *err, size_t errlen)
{
    if (!json_is_array(steps))
        return plan_spec_fail(err, errlen, "plan: 'steps' must be an array");
    if (json_array_size(steps) > PLAN_STEPS_MAX)
        return plan_spec_fail(err, errlen, "plan: it has more than %d steps", PLAN_STEPS_MAX);
    for (size_t i = 0; i < json_array_size(steps); i++, out->step_count++) {
        json_t *o = json_array_get(steps, i);
        if (!json_is_object(o))
            return plan_spec_fail(err, errlen, "plan: each step must be an object");
        if (!plan_spec_read_step(o, &out->steps[i], err, errlen))
            return false;
    }
    return true;
}

static bool plan_spec_read(json_t *o, plan_spec_t *out, char *err, size_t errlen)
{
    static const char *const members[] = {"version", "objectId", "fileKey", "steps", "error", "fops"};
    json_t *fops = json_object_get(o, "fops");
    if (fops && !json_is_boolean(fops))
        return plan_spec_fail(err, errlen, "plan: 'fops' must be a boolean");
    out->fops = json_is_true(fops);
    return plan_spec_json_only(o, members, PLAN_SPEC_ARRAY_LEN(members), "the plan", err, errlen) &&
           plan_spec_read_version(o, err, errlen) &&
           plan_spec_json_copy(o, "objectId", true, out->object_id, sizeof(out->object_id), err, errlen) &&
           plan_spec_json_copy(o, "fileKey", true, out->file_key, sizeof(out->file_key), err, errlen) &&
           plan_spec_json_copy(o, "error", false, out->error, sizeof(out->error), err, errlen) &&
           plan_spec_read_steps(json_object_get(o, "steps"), out, err, errlen);
}

bool plan_spec_parse(const char *json_text, plan_spec_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    json_error_t je;
    json_t *o = json_text ? json_loads(json_text, JSON_REJECT_DUPLICATES, &je) : NULL;
    if (!o)
        return plan_spec_fail(err, errlen, "plan: not valid JSON (%s)", json_text ? je.text : "no text");
    bool ok = json_is_object(o) ? plan_spec_read(o, out, err, errlen)
                                : plan_spec_fail(err, errlen, "plan: not a JSON object");
    json_decref(o);
    return ok && plan_spec_check(out, err, errlen);
}

/* ---- JSON writing ---- */

/* spec.c's canonical text of the step's spec, as a JSON value to embed. */
static json_t *plan_spec_step_spec_json(const plan_step_t *s)
{
    char *text = s->kind == SPEC_STEP_TRANSCODE   ? spec_template_to_json(&s->u.template_spec)
                 : s->kind == SPEC_STEP_WATERMARK ? spec_watermark_to_json(&s->u.watermark)
                                                  : spec_subtitle_to_json(&s->u.subtitle);
    json_t *v = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    return v;
}

/* The members at their defaults are left out, so a plan without keyed
 * steps reads as it always did. */
static json_t *plan_spec_step_extras(const plan_step_t *s, json_t *o)
{
    bool ok = o != NULL;
    if (ok && s->key[0])
        ok = json_object_set_new(o, "key", json_string(s->key)) == 0;
    if (ok && s->segment_seconds)
        ok = json_object_set_new(o, "segmentSeconds", json_integer(s->segment_seconds)) == 0;
    if (ok && s->kind == SPEC_STEP_SNAPSHOT && s->key[0] && s->at_ms != PLAN_FRAME_AT_COVER)
        ok = json_object_set_new(o, "atMs", json_integer(s->at_ms)) == 0;
    if (ok && s->width)
        ok = json_object_set_new(o, "width", json_integer(s->width)) == 0;
    if (ok && s->height)
        ok = json_object_set_new(o, "height", json_integer(s->height)) == 0;
    if (!ok)
        json_decref(o);
    return ok ? o : NULL;
}

static json_t *plan_spec_step_json(const plan_step_t *s)
{
    const char *kind = spec_step_kind_name(s->kind), *member = plan_spec_member(s->kind);
    if (!kind)
        return NULL;
    if (!member)
        return plan_spec_step_extras(s, json_pack("{s:s}", "kind", kind));
    json_t *spec = plan_spec_step_spec_json(s);
    return spec ? plan_spec_step_extras(s, json_pack("{s:s, s:s, s:o}", "kind", kind, "name", s->name, member, spec))
                : NULL;
}

char *plan_spec_to_json(const plan_spec_t *p)
{
    char *text = NULL;
    json_t *steps = json_array(), *o = NULL;
    for (size_t i = 0; steps && i < p->step_count && i < PLAN_STEPS_MAX; i++)
        if (json_array_append_new(steps, plan_spec_step_json(&p->steps[i])) != 0)
            goto out;
    o = steps ? json_pack("{s:i, s:s, s:s, s:O}", "version", PLAN_SPEC_VERSION, "objectId", p->object_id,
                          "fileKey", p->file_key, "steps", steps)
              : NULL;
    if (!o || (p->error[0] && json_object_set_new(o, "error", json_string(p->error)) != 0) ||
        (p->fops && json_object_set_new(o, "fops", json_true()) != 0))
        goto out;
    text = json_dumps(o, PLAN_SPEC_JSON_FLAGS);
out:
    json_decref(steps);
    json_decref(o);
    return text;
}
