/*
 * fuzz_play_sign: every playback request's path reaches play_sign_parse()
 * (auth/play_sign.h) from an anonymous client.  Whatever it accepts must be
 * what the header promises: a token of 1..10 digits of expiry, a depth up to
 * PLAY_SIGN_DEPTH_MAX and 32 lower-case hex digits, and a non-empty key that
 * is the rest of the path; and play_sign_verify() never crashes on it.  A
 * token made for the key it returned verifies, at its own expiry.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/play_sign.h"

static void fuzz_check(int cond)
{
    if (!cond)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t key[PLAY_SIGN_KEY_LEN] = {1, 2, 3};
    char *path = malloc(size + 1);
    if (!path)
        return 0;
    memcpy(path, data, size);
    path[size] = '\0';
    play_sign_token_t t;
    const char *file_key;
    if (play_sign_parse(path, &t, &file_key)) {
        fuzz_check(t.expires >= 0 && t.expires <= 9999999999LL);
        fuzz_check(t.depth >= 0 && t.depth <= PLAY_SIGN_DEPTH_MAX);
        fuzz_check(strlen(t.sig) == PLAY_SIGN_SIG_HEX && strspn(t.sig, "0123456789abcdef") == PLAY_SIGN_SIG_HEX);
        fuzz_check(file_key > path && file_key <= path + size && file_key[0] != '\0' && file_key[-1] == '/');
        (void)play_sign_verify(key, &t, file_key, 0);
        char token[PLAY_SIGN_TOKEN_MAX], again[PLAY_SIGN_TOKEN_MAX + 2];
        if (t.expires > 0 && play_sign_token(key, file_key, t.depth, t.expires, token)) {
            snprintf(again, sizeof(again), "/%s/", token);
            play_sign_token_t t2;
            const char *k2;
            char *full = malloc(strlen(again) + strlen(file_key) + 1);
            if (full) {
                strcpy(full, again);
                strcat(full, file_key);
                fuzz_check(play_sign_parse(full, &t2, &k2));
                fuzz_check(play_sign_verify(key, &t2, k2, t2.expires) == PLAY_SIGN_OK);
                free(full);
            }
        }
    } else {
        fuzz_check(file_key == NULL);
    }
    free(path);
    return 0;
}
