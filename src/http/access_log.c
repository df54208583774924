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
    char path[512], key[160], method[32], client[64], agent[160];
    access_log_clean(e->path, path, sizeof(path));
    access_log_clean(e->method, method, sizeof(method));
    access_log_clean(e->access_key, key, sizeof(key));
    access_log_clean(e->client, client, sizeof(client));
    access_log_clean(e->user_agent, agent, sizeof(agent));
    char ts[TIMEUTIL_ISO_LEN];
    timeutil_iso8601(timeutil_now_ms(), ts);
    /* Every value is ASCII by now (cleaned above, or ours), so jansson's
     * UTF-8 check is skipped; this runs once per request. */
    json_t *o = json_object();
    if (!o)
        return;
    json_object_set_new_nocheck(o, "ts", json_string_nocheck(ts));
    json_object_set_new_nocheck(o, "requestId", json_string_nocheck(e->request_id));
    json_object_set_new_nocheck(o, "client", json_string_nocheck(client));
    json_object_set_new_nocheck(o, "userAgent", json_string_nocheck(agent));
    json_object_set_new_nocheck(o, "method", json_string_nocheck(method));
    json_object_set_new_nocheck(o, "path", json_string_nocheck(path));
    json_object_set_new_nocheck(o, "status", json_integer(e->status));
    json_object_set_new_nocheck(o, "bytesIn", json_integer((json_int_t)e->bytes_in));
    json_object_set_new_nocheck(o, "bytesOut", json_integer((json_int_t)e->bytes_out));
    json_object_set_new_nocheck(o, "durationMs", json_real((double)(int64_t)(e->duration_ms * 1000) / 1000.0));
    json_object_set_new_nocheck(o, "accessKey", json_string_nocheck(key));
    if (e->aborted)
        json_object_set_new_nocheck(o, "aborted", json_true());
    char line[2048];
    size_t n = json_dumpb(o, line, sizeof(line), JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    if (n > 0 && n <= sizeof(line))
        log_line(line, n);
    json_decref(o);
}
