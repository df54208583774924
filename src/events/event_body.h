/*
 * event_body: the JSON body of a webhook delivery (docs/events.md):
 *   {"eventId":"ev...","eventType":"ProcessingComplete",
 *    "eventTime":"2026-12-04T17:20:00Z","videoId":"...","data":{...}}
 * data is the video as getVideoInfo's `data` shows it, frozen when the event
 * was first sent (or, for VideoDeleted, just before the video was removed).
 * Pure: no I/O.
 */
#ifndef VODUP_EVENTS_EVENT_BODY_H
#define VODUP_EVENTS_EVENT_BODY_H

#include <stdint.h>

/* The body as compact JSON text (malloc'd; the caller frees it), or NULL
 * when type is out of range, data is not a JSON object, or out of memory. */
char *event_body_json(const char *event_id, int type, int64_t event_ms, const char *video_id, const char *data);

/* The data of an event whose video is gone before it was first sent:
 * {"videoId": video_id} (malloc'd), NULL when out of memory. */
char *event_body_gone_data(const char *video_id);

#endif
