/* event_body: a webhook delivery's JSON body; see event_body.h. */
#include "events/event_body.h"

#include <jansson.h>
#include <stdlib.h>

#include "common/timeutil.h"
#include "store/store.h"

char *event_body_json(const char *event_id, int type, int64_t event_ms, const char *video_id, const char *data)
{
    const char *name = store_event_type_name(type);
    json_t *d = data ? json_loads(data, JSON_REJECT_DUPLICATES, NULL) : NULL;
    if (!name || !event_id || !video_id || !json_is_object(d)) {
        json_decref(d);
        return NULL;
    }
    char when[TIMEUTIL_ISO_LEN];
    timeutil_iso8601(event_ms, when);
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:o}", "eventId", event_id, "eventType", name, "eventTime", when,
                             "videoId", video_id, "data", d);
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(body);
    return text;
}

char *event_body_gone_data(const char *video_id)
{
    json_t *d = json_pack("{s:s}", "videoId", video_id ? video_id : "");
    char *text = d ? json_dumps(d, JSON_COMPACT) : NULL;
    json_decref(d);
    return text;
}
