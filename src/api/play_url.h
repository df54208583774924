/*
 * play_url: the URLs an answer gives for a video's original and outputs
 * (playUrl, coverUrl, outputs[].url; docs/playback.md).
 *
 * The base is the video's domain ("https://" added when it has no scheme)
 * or, without one, the server's public URL.  When the video's account plays
 * signed, every URL carries one token (auth/play_sign.h) that covers the
 * video's directory, video/<YYYYMMDD>/<videoId>/, where its original and
 * all its outputs live: so the URLs an HLS master playlist makes relative
 * to itself are covered too.  Private to src/api.
 */
#ifndef VODUP_API_PLAY_URL_H
#define VODUP_API_PLAY_URL_H

#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"
#include "auth/play_sign.h"

typedef struct play_url {
    const api_ctx_t *ctx;
    const char *base;  /* the server's public URL, for a video without a domain */
    const char *domain;
    bool is_signed;
    int64_t expires;                   /* Unix seconds; 0 when not signed */
    char token[PLAY_SIGN_TOKEN_MAX];   /* "" when not signed */
} play_url_t;

/* Prepares the URLs of video v, signed for ttl_s seconds from now when its
 * account plays signed.  base (NULL: ctx->public_url) is the server's public
 * URL as this answer's caller reaches it (api_call_public_url).  False when the account's access cannot be read or
 * the token cannot be made (the caller answers an internal error). */
bool play_url_begin(play_url_t *u, const api_ctx_t *ctx, const char *base, const store_video_t *v, int64_t ttl_s);

/* The URL of key (malloc'd; NULL when out of memory). */
char *play_url_for(const play_url_t *u, const char *key);

#endif
