/*
 * delete_api: deleteVideo (docs/api.md).  The video's row, task, outputs
 * and event go in one store transaction (store.h, video_delete); then the
 * objects that held its bytes are removed from the blob store at once, so
 * that the data directory keeps nothing of it.  An object that cannot be
 * removed now is left to the sweep, which removes every object no row
 * names.  A deleted video's URLs answer 404 from the moment the
 * transaction commits: playback finds no row for them.
 */
#include <jansson.h>
#include <stdlib.h>

#include "api/api_handlers.h"
#include "api/errors.h"
#include "blob/blob.h"
#include "common/log.h"
#include "common/timeutil.h"

static void delete_api_remove_objects(const api_ctx_t *ctx, const char *video_id, const store_id_list_t *objects)
{
    for (size_t i = 0; ctx->blob && i < objects->count; i++) {
        int rc = ctx->blob->ops->object_remove(ctx->blob, objects->items[i]);
        if (rc != BLOB_OK && rc != BLOB_NOT_FOUND)
            log_warn("video %s deleted: object %s not removed; the sweep will", video_id, objects->items[i]);
    }
}

bool delete_api_delete_video(const api_ctx_t *ctx, api_call_t *call, const params_t *params)
{
    const param_t *id = params_get(params, "videoId");
    if (!id || id->value_len == 0) {
        api_call_error(call, API_ERR_PARAM, "Parameter videoId is required.");
        return true;
    }
    /* The event carries the video as it was; none means it is not there. */
    char *data = video_api_info_text(ctx, call->key.account_id, id->value);
    if (!data) {
        api_call_error(call, API_ERR_VIDEO_NOT_FOUND, NULL);
        return true;
    }
    store_id_list_t objects = {0};
    int rc = ctx->store->ops->video_delete(ctx->store, call->key.account_id, id->value, timeutil_now_ms(), data,
                                           &objects);
    free(data);
    if (rc == STORE_OK) {
        delete_api_remove_objects(ctx, id->value, &objects);
        api_call_success(call, json_pack("{s:s}", "videoId", id->value));
    } else {
        api_call_store_error(call, rc);
    }
    store_id_list_free(&objects);
    return true;
}
