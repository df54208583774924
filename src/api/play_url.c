/* play_url: an answer's playback URLs, signed or not; see play_url.h. */
#include "api/play_url.h"

#include <string.h>
#include <time.h>

#include "common/buf.h"

/* The segments of the key's directory: 3 for video/<date>/<id>/<name>. */
static int play_url_depth(const char *file_key)
{
    int n = 0;
    for (const char *p = file_key; *p; p++)
        n += *p == '/';
    return n;
}

bool play_url_begin(play_url_t *u, const api_ctx_t *ctx, const char *base, const store_video_t *v, int64_t ttl_s)
{
    memset(u, 0, sizeof(*u));
    u->ctx = ctx;
    u->base = base ? base : ctx->public_url;
    u->domain = v->domain;
    store_playback_t pb;
    if (ctx->store->ops->playback_get(ctx->store, v->account_id, &pb) != STORE_OK)
        return false;
    if (pb.access != STORE_PLAYBACK_SIGNED)
        return true;
    u->is_signed = true;
    u->expires = (int64_t)time(NULL) + ttl_s;
    bool ok = pb.has_key && play_sign_token(pb.key, v->file_key, play_url_depth(v->file_key), u->expires, u->token);
    memset(pb.key, 0, sizeof(pb.key));
    return ok;
}

char *play_url_for(const play_url_t *u, const char *key)
{
    const char *domain = u->domain;
    buf_t b;
    buf_init(&b, 0);
    bool ok;
    if (!domain || !*domain)
        ok = buf_printf(&b, "%s/", u->base);
    else
        ok = buf_printf(&b, "%s%s/", strstr(domain, "://") ? "" : "https://", domain);
    ok = ok && (!u->is_signed || buf_printf(&b, "%s/", u->token)) && buf_printf(&b, "%s", key);
    if (!ok) {
        buf_free(&b);
        return NULL;
    }
    return buf_steal(&b);
}
