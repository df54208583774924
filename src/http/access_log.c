/* access_log: JSON access log lines; see access_log.h. */
#include "http/access_log.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timeutil.h"

/* Copies s into out with anything but printable ASCII replaced by '?', so
 * a hostile path or header can neither break the JSON (jansson rejects
 * invalid UTF-8) nor forge terminal escapes in an operator's log viewer. */
static void access_log_clean(const char *s, char *out, size_t outlen)
{
    size_t i = 0;
    for (; s && s[i] && i + 1 < outlen; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
    }
    out[i] = '\0';
}

void access_log_write(const access_log_entry_t *e)
{
    char path[512], key[160];
    access_log_clean(e->path, path, sizeof(path));
    access_log_clean(e->access_key, key, sizeof(key));
    char ts[TIMEUTIL_ISO_LEN];
    timeutil_iso8601(timeutil_now_ms(), ts);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:i, s:I, s:I, s:f, s:s}", "ts", ts, "requestId", e->request_id,
                          "method", e->method, "path", path, "status", e->status, "bytesIn",
                          (json_int_t)e->bytes_in, "bytesOut", (json_int_t)e->bytes_out, "durationMs",
                          (double)((int64_t)(e->duration_ms * 1000)) / 1000.0, "accessKey", key);
    if (!o)
        return;
    if (e->aborted)
        json_object_set_new(o, "aborted", json_true());
    char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    if (line) {
        log_line(line, strlen(line));
        free(line);
    }
    json_decref(o);
}
