/*
 * api_handlers: the per-family API handlers called by api.c once a call is
 * authenticated and its parameters gathered.  Each returns true when the
 * response is ready, false when it completes later through
 * call->on_complete (see api.h).  Not for use outside src/api/.
 */
#ifndef VODUP_API_HANDLERS_H
#define VODUP_API_HANDLERS_H

#include <jansson.h>

#include "api/api.h"
#include "api/params.h"

/* token_api.c */
bool token_api_get_upload_token(const api_ctx_t *ctx, api_call_t *call, const params_t *params);
/* Whether the processing resources a request names exist in the caller's
 * account, in getUploadToken's order; false with the response set (400
 * "Parameter X does not exist.", or the store's error) when one does not. */
struct token_request;
bool token_api_resources_exist(const api_ctx_t *ctx, api_call_t *call, const struct token_request *req);

/* video_api.c */
bool video_api_get_video_info(const api_ctx_t *ctx, api_call_t *call, const params_t *params);
bool video_api_get_video_list(const api_ctx_t *ctx, api_call_t *call, const params_t *params);
bool video_api_get_play_info(const api_ctx_t *ctx, api_call_t *call, const params_t *params);

/* delete_api.c */
bool delete_api_delete_video(const api_ctx_t *ctx, api_call_t *call, const params_t *params);

/* task_api.c: getTaskInfo, reprocessVideo, cancelTask */
bool task_api_get_task_info(const api_ctx_t *ctx, api_call_t *call, const params_t *params);
bool task_api_reprocess_video(const api_ctx_t *ctx, api_call_t *call, const params_t *params);
bool task_api_cancel_task(const api_ctx_t *ctx, api_call_t *call, const params_t *params);

/* fops_api.c: the vendor's POST /fops and GET /status/get/prefop */
bool fops_api_submit(const api_ctx_t *ctx, api_call_t *call, const params_t *params);
bool fops_api_status(const api_ctx_t *ctx, api_call_t *call, const params_t *params);

/* link_api.c: createUploadLink, and the upload page's routes under /upload/ */
bool link_api_create(const api_ctx_t *ctx, api_call_t *call, const params_t *params);
bool link_api_page(const api_ctx_t *ctx, api_call_t *call, const params_t *params);

/* video_api.c: the getVideoInfo `data` of a video (NULL when out of memory). */
json_t *video_api_video_json(const api_ctx_t *ctx, const api_call_t *call, const store_video_t *v);

/* token_api.c: registers a video now (on a reader thread: waits for the
 * store) and answers {"videoId","fileKey","uploadUrl","uploadToken"}
 * without the envelope (the upload page's); params as getUploadToken's.
 * result: the store's (video_id and file_key also with STORE_CONFLICT: a
 * fileId whose upload completed). */
bool token_api_register_now(const api_ctx_t *ctx, api_call_t *call, const params_t *params,
                            store_video_reg_result_t *result);

/* The compact JSON text of root, malloc'd (NULL on failure); api.c. */
char *api_json_text(const json_t *root, size_t flags);


#endif
