/*
 * test_signed_playback: an account's playback access over HTTP, with a
 * video processed by the real ffmpeg into an HLS template:
 *  - public (the default): plain URLs play, urlsExpireAt is null;
 *  - `vodup admin playback set signed`: a plain URL is 403; getPlayInfo's
 *    and getVideoInfo's URLs play: the original, the cover, and the HLS
 *    master, then the variant playlist and a segment it names by relative
 *    URLs (a real HLS fetch, the token carried by the path);
 *  - a tampered signature, a token moved onto another video's key, and a URL
 *    past its expiry are 403;
 *  - --rotate-key invalidates every URL signed before; back to public, plain
 *    URLs play again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "harness_upload.h"

#define FFMPEG "/usr/bin/ffmpeg"
#define WAIT_MS 60000

static harness_server_t *srv;

static int teardown(void **state)
{
    (void)state;
    int status = srv ? harness_server_finish(srv) : 0;
    srv = NULL;
    return status;
}

static json_t *video_call(const char *name, const char *id, const char *extra)
{
    char *form = harness_strf("videoId=%s%s", id, extra ? extra : "");
    json_t *d = harness_api(srv, NULL, name, form, 200);
    free(form);
    return d;
}

/* The path of a URL this server made, without its leading '/'. */
static const char *url_path(const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : NULL;
    assert_non_null(p);
    return p + 1;
}

/* GET the URL; its status, and its body into *body when asked (freed by the caller). */
static long get(const char *url, char **body)
{
    harness_upload_response_t r;
    assert_true(harness_playback(srv, "GET", url_path(url), NULL, &r));
    long status = r.status;
    if (body)
        *body = r.body ? strdup(r.body) : strdup("");
    harness_upload_response_free(&r);
    return status;
}

/* The first line of a playlist that is not a tag: a URI, relative to it. */
static char *first_uri(const char *playlist)
{
    for (const char *line = playlist; *line;) {
        size_t n = strcspn(line, "\r\n");
        if (n && line[0] != '#')
            return strndup(line, n);
        line += n;
        line += strspn(line, "\r\n");
    }
    fail_msg("no URI in the playlist: %s", playlist);
    return NULL;
}

/* base's directory + "/" + rel: how a player resolves a relative URI. */
static char *resolve(const char *base, const char *rel)
{
    return harness_strf("%.*s/%s", (int)(strrchr(base, '/') - base), base, rel);
}

static void assert_hls_plays(const char *master_url)
{
    char *master = NULL, *variant = NULL, *segment = NULL;
    assert_int_equal(get(master_url, &master), 200);
    char *variant_rel = first_uri(master);
    char *variant_url = resolve(master_url, variant_rel);
    free(variant_rel);
    assert_int_equal(get(variant_url, &variant), 200);
    char *rel = first_uri(variant);
    char *segment_url = resolve(variant_url, rel);
    assert_non_null(strstr(segment_url, ".ts"));
    assert_int_equal(get(segment_url, &segment), 200);
    free(rel);
    free(master);
    free(variant);
    free(segment);
    free(variant_url);
    free(segment_url);
}

static json_t *upload_processed(void)
{
    char *clip = harness_strf("%s/clip.mp4", srv->root);
    char *cmd = harness_strf("%s -nostdin -v error -y -f lavfi -i testsrc2=size=160x120:rate=25:duration=2 "
                             "-c:v libx264 -preset ultrafast -pix_fmt yuv420p '%s'", FFMPEG, clip);
    assert_int_equal(system(cmd), 0);
    FILE *f = fopen(clip, "rb");
    assert_non_null(f);
    static char data[1 << 20];
    size_t len = fread(data, 1, sizeof(data), f);
    fclose(f);
    json_t *t = harness_api(srv, NULL, "getUploadToken", "originFileName=clip.mp4&transCodeCombineName=hls", 200);
    harness_upload_response_t u;
    assert_true(harness_form_upload(srv, harness_json_str(t, "uploadToken"), data, len, &u));
    assert_int_equal(u.status, 200);
    harness_upload_response_free(&u);
    int64_t deadline = harness_now_ms() + WAIT_MS;
    json_t *v;
    while (strcmp(harness_json_str(v = video_call("getVideoInfo", harness_json_str(t, "videoId"), NULL), "status"),
                  "ready") != 0) {
        assert_string_not_equal(harness_json_str(v, "status"), "failed");
        json_decref(v);
        assert_true(harness_now_ms() < deadline);
        usleep(100 * 1000);
    }
    json_decref(t);
    free(cmd);
    free(clip);
    return v;
}

static const char *master_of(const json_t *v)
{
    const char *url = harness_json_str(json_array_get(json_object_get(v, "outputs"), 0), "url");
    assert_non_null(url);
    return url;
}

static void test_signed_playback(void **state)
{
    (void)state;
    const char *args[] = {"--processing", "on", NULL};
    srv = harness_server_start(args);
    assert_non_null(srv);
    assert_int_equal(harness_admin(srv, NULL, "template", "add", "hls", "--container", "hls", "--rendition",
                                   "160x120", NULL),
                     0);
    json_t *v = upload_processed();
    const char *id = harness_json_str(v, "videoId");
    char *plain = strdup(harness_json_str(v, "playUrl"));
    /* Public: plain URLs play, nothing expires. */
    assert_true(json_is_null(json_object_get(v, "urlsExpireAt")));
    assert_int_equal(get(plain, NULL), 200);
    assert_hls_plays(master_of(v));

    char *out = NULL;
    assert_int_equal(harness_admin(srv, &out, "--json", "playback", "set", "signed", NULL), 0);
    assert_non_null(strstr(out, "\"access\":\"signed\""));
    free(out);
    assert_int_equal(get(plain, NULL), 403);
    assert_int_equal(get(master_of(v), NULL), 403);

    json_t *p = video_call("getPlayInfo", id, "&expires=600");
    const char *signed_url = harness_json_str(p, "playUrl");
    assert_non_null(strstr(signed_url, "/vsig."));
    assert_false(json_is_null(json_object_get(p, "urlsExpireAt")));
    assert_int_equal(get(signed_url, NULL), 200);
    assert_int_equal(get(harness_json_str(p, "coverUrl"), NULL), 200);
    assert_hls_plays(master_of(p));
    /* getVideoInfo's URLs are signed too. */
    json_t *info = video_call("getVideoInfo", id, NULL);
    assert_int_equal(get(harness_json_str(info, "playUrl"), NULL), 200);
    json_decref(info);

    /* A tampered signature; the token on a key it does not cover. */
    char *bad = strdup(signed_url);
    char *sig = strstr(bad, "/vsig.");
    sig = strchr(strchr(strchr(sig + 6, '.') + 1, '.') + 1, '/') - 1; /* the last hex digit */
    *sig = *sig == '0' ? '1' : '0';
    assert_int_equal(get(bad, NULL), 403);
    free(bad);
    json_t *other = harness_api(srv, NULL, "getUploadToken", "originFileName=other.mp4", 200);
    harness_upload_response_t u;
    assert_true(harness_form_upload(srv, harness_json_str(other, "uploadToken"), "bytes", 5, &u));
    harness_upload_response_free(&u);
    const char *tok = strstr(signed_url, "/vsig.");
    char *moved = harness_strf("%.*s/%s", (int)(strchr(tok + 1, '/') - signed_url), signed_url,
                               harness_json_str(other, "fileKey"));
    assert_int_equal(get(moved, NULL), 403);
    free(moved);
    json_decref(other);

    /* Expired. */
    json_t *brief = video_call("getPlayInfo", id, "&expires=1");
    char *brief_url = strdup(harness_json_str(brief, "playUrl"));
    json_decref(brief);
    usleep(2100 * 1000);
    assert_int_equal(get(brief_url, NULL), 403);
    free(brief_url);
    json_decref(harness_api(srv, NULL, "getPlayInfo", "videoId=x&expires=0", 400));

    /* Rotating the key invalidates what was signed; public plays plain again. */
    assert_int_equal(harness_admin(srv, NULL, "playback", "set", "signed", "--rotate-key", NULL), 0);
    assert_int_equal(get(signed_url, NULL), 403);
    assert_int_equal(harness_admin(srv, NULL, "playback", "set", "public", NULL), 0);
    assert_int_equal(get(plain, NULL), 200);
    json_decref(p);
    json_decref(v);
    free(plain);
}

int main(void)
{
    if (access(FFMPEG, X_OK) != 0) {
        fprintf(stderr, "test_signed_playback: %s is required (scripts/install-deps.sh)\n", FFMPEG);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_signed_playback, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
