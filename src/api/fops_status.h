/*
 * fops_status: a persistent job as the vendor's status query and
 * notification show it (GET /status/get/prefop; the notify body):
 *
 *   {"id":"<persistentId>","code":C,"desc":"...","separate":0,
 *    "inputkey":"<fileKey>","inputbucket":"<bucket>","inputfsize":N,
 *    "items":[{"cmd":"<the task's fops text>","code":c,"desc":"...","error":"..."|null,
 *              "key":"<output key>","url":"<playback URL>","fsize":N,
 *              "duration":D,"resolution":"WxH","bit_rate":"B"}, ...]}
 *
 * Job code C (query): 0 pending, 1 processing, 3 done; once done, with a
 * notify URL, 4 notifying, 5 notification failed, 6 notification
 * delivered.  In the notification itself C is 3.  Item code c: 0 pending,
 * 1 processing, 2 failed, 3 succeeded.  key, url and the measures are
 * present once the item succeeded.  URLs are signed when the account's
 * playback is (docs/playback.md).
 */
#ifndef VODUP_API_FOPS_STATUS_H
#define VODUP_API_FOPS_STATUS_H

#include <stdbool.h>

#include "api/api.h"

/* The JSON text (malloc'd; NULL when the task is not a job or on failure)
 * of task t.  notification: the body's variant (C = 3). */
char *fops_status_text(const api_ctx_t *ctx, const store_task_t *t, bool notification);

/* The same, read from the store by persistentId (any account: the id is
 * the capability); NULL when there is no such job.  The dispatcher's
 * renderer for PersistentNotify deliveries (arg: the api_ctx_t). */
char *fops_status_render(void *arg, const char *task_id);

#endif
