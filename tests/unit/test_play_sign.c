/*
 * test_play_sign: signed playback URLs (auth/play_sign.h): the token for a
 * directory and for one file against vectors computed with `openssl dgst
 * -sha256 -mac HMAC`; what a directory token covers and what it does not;
 * expiry; and the parser's refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "auth/play_sign.h"

#define EXPIRES INT64_C(1767225600)

static uint8_t key[PLAY_SIGN_KEY_LEN];

static int setup(void **state)
{
    (void)state;
    for (int i = 0; i < PLAY_SIGN_KEY_LEN; i++)
        key[i] = (uint8_t)i;
    return 0;
}

/* printf 'vsig1\n1767225600\n/video/20261204/abc/' |
 *   openssl dgst -sha256 -mac HMAC -macopt hexkey:000102...1f   (first 32 hex digits) */
static void test_vectors(void **state)
{
    (void)state;
    char token[PLAY_SIGN_TOKEN_MAX];
    assert_true(play_sign_token(key, "video/20261204/abc/clip.mp4", 3, EXPIRES, token));
    assert_string_equal(token, "vsig.1767225600.3.42368a97c21df64acdbbd37134344e44");
    assert_true(play_sign_token(key, "video/20261204/abc/clip.mp4", 0, EXPIRES, token));
    assert_string_equal(token, "vsig.1767225600.0.83f5e63ba6f4c72efd475c2556d32168");
}

static enum play_sign_result check(const char *path, int64_t now)
{
    play_sign_token_t t;
    const char *file_key;
    if (!play_sign_parse(path, &t, &file_key))
        return (enum play_sign_result)-1;
    return play_sign_verify(key, &t, file_key, now);
}

static void test_directory_token_covers_its_directory(void **state)
{
    (void)state;
    const char *tok = "/vsig.1767225600.3.42368a97c21df64acdbbd37134344e44/";
    static const struct {
        const char *rest;
        int want;
    } cases[] = {
        {"video/20261204/abc/clip.mp4", PLAY_SIGN_OK},
        {"video/20261204/abc/hd/index.m3u8", PLAY_SIGN_OK},
        {"video/20261204/abc/hd/1280x720/seg_00001.ts", PLAY_SIGN_OK},
        {"video/20261204/abd/clip.mp4", PLAY_SIGN_BAD},   /* another video */
        {"video/20261204/abcd/clip.mp4", PLAY_SIGN_BAD},  /* a prefix that is not its directory */
        {"video/20261205/abc/clip.mp4", PLAY_SIGN_BAD},
        {"video/20261204/abc", PLAY_SIGN_BAD},            /* nothing below the directory */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char path[256];
        snprintf(path, sizeof(path), "%s%s", tok, cases[i].rest);
        if ((int)check(path, EXPIRES) != cases[i].want)
            fail_msg("%s: got %d, want %d", cases[i].rest, (int)check(path, EXPIRES), cases[i].want);
    }
    /* A file token covers that file only. */
    assert_int_equal(check("/vsig.1767225600.0.83f5e63ba6f4c72efd475c2556d32168/video/20261204/abc/clip.mp4", 0),
                     PLAY_SIGN_OK);
    assert_int_equal(check("/vsig.1767225600.0.83f5e63ba6f4c72efd475c2556d32168/video/20261204/abc/cover.jpg", 0),
                     PLAY_SIGN_BAD);
}

static void test_expiry_and_tampering(void **state)
{
    (void)state;
    const char *good = "/vsig.1767225600.3.42368a97c21df64acdbbd37134344e44/video/20261204/abc/clip.mp4";
    assert_int_equal(check(good, EXPIRES), PLAY_SIGN_OK);
    assert_int_equal(check(good, EXPIRES + 1), PLAY_SIGN_EXPIRED);
    /* The expiry, the depth and the signature are all signed. */
    assert_int_equal(check("/vsig.1767225601.3.42368a97c21df64acdbbd37134344e44/video/20261204/abc/clip.mp4", 0),
                     PLAY_SIGN_BAD);
    assert_int_equal(check("/vsig.1767225600.2.42368a97c21df64acdbbd37134344e44/video/20261204/abc/clip.mp4", 0),
                     PLAY_SIGN_BAD);
    assert_int_equal(check("/vsig.1767225600.3.42368a97c21df64acdbbd37134344e45/video/20261204/abc/clip.mp4", 0),
                     PLAY_SIGN_BAD);
    uint8_t other[PLAY_SIGN_KEY_LEN] = {0};
    play_sign_token_t t;
    const char *file_key;
    assert_true(play_sign_parse(good, &t, &file_key));
    assert_int_equal(play_sign_verify(other, &t, file_key, 0), PLAY_SIGN_BAD);
}

static void test_parse_refusals(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "/video/20261204/abc/clip.mp4",                                      /* no token: a plain key */
        "vsig.1767225600.3.42368a97c21df64acdbbd37134344e44/video/a/b/c",    /* no leading '/' */
        "/vsig..3.42368a97c21df64acdbbd37134344e44/video/a/b/c",             /* no expiry */
        "/vsig.17672256001.3.42368a97c21df64acdbbd37134344e44/video/a/b/c",  /* 11 digits */
        "/vsig.1767225600.99.42368a97c21df64acdbbd37134344e44/video/a/b/c",  /* depth past the limit */
        "/vsig.1767225600.3.42368a97c21df64acdbbd37134344e4/video/a/b/c",    /* 31 hex digits */
        "/vsig.1767225600.3.42368A97C21DF64ACDBBD37134344E44/video/a/b/c",   /* upper case */
        "/vsig.1767225600.3.42368a97c21df64acdbbd37134344e44",               /* no key */
        "/vsig.1767225600.3.42368a97c21df64acdbbd37134344e44/",              /* an empty key */
        "/vsig.-1.3.42368a97c21df64acdbbd37134344e44/video/a/b/c",
        "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        play_sign_token_t t;
        const char *file_key = "x";
        if (play_sign_parse(bad[i], &t, &file_key))
            fail_msg("accepted: %s", bad[i]);
        assert_null(file_key);
    }
    play_sign_token_t t;
    const char *file_key;
    assert_false(play_sign_parse(NULL, &t, &file_key));
    char token[PLAY_SIGN_TOKEN_MAX];
    assert_false(play_sign_token(key, "video/abc", 3, EXPIRES, token)); /* fewer segments than the depth */
    assert_false(play_sign_token(key, "video/a/b/c.mp4", 0, 0, token)); /* no expiry */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_directory_token_covers_its_directory),
        cmocka_unit_test(test_expiry_and_tampering),
        cmocka_unit_test(test_parse_refusals),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
