/* tus_headers: parsers of tus request headers; see tus_headers.h. */
#include "upload/tus_headers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/encoding.h"

bool tus_parse_size(const char *s, int64_t *out)
{
    return s && encoding_parse_decimal(s, strlen(s), out);
}

/* Standard base64 (RFC 4648 section 4, padded) decoded onto out. */
static bool tus_b64_decode(const char *s, size_t len, buf_t *out)
{
    if (len % 4 != 0)
        return false;
    char tmp[TUS_METADATA_MAX];
    if (len > sizeof(tmp))
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '-' || c == '_')
            return false;
        tmp[i] = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    return encoding_b64url_decode(tmp, len, out);
}

static bool tus_key_char(char c)
{
    return c > 0x20 && c < 0x7f && c != ',';
}

/* One "key[ value]" pair of [p, end): its key and value spans. */
static bool tus_metadata_pair(const char *p, const char *end, const char **key, size_t *key_len, const char **value,
                              size_t *value_len)
{
    const char *sp = memchr(p, ' ', (size_t)(end - p));
    *key = p;
    *key_len = (size_t)((sp ? sp : end) - p);
    *value = sp ? sp + 1 : end;
    *value_len = sp ? (size_t)(end - sp - 1) : 0;
    if (*key_len == 0)
        return false;
    for (size_t i = 0; i < *key_len; i++)
        if (!tus_key_char(p[i]))
            return false;
    buf_t b;
    buf_init(&b, 0);
    bool ok = !sp || (*value_len > 0 && tus_b64_decode(*value, *value_len, &b));
    buf_free(&b);
    return ok;
}

/* Calls fn for each pair; false when one is malformed or fn says stop. */
static bool tus_metadata_walk(const char *s, bool (*fn)(void *arg, const char *key, size_t key_len,
                                                         const char *value, size_t value_len),
                              void *arg)
{
    const char *p = s;
    for (;;) {
        while (*p == ' ')
            p++; /* whitespace after a comma, as some clients send */
        const char *end = p + strcspn(p, ",");
        const char *key, *value;
        size_t key_len, value_len;
        if (!tus_metadata_pair(p, end, &key, &key_len, &value, &value_len) ||
            !fn(arg, key, key_len, value, value_len))
            return false;
        if (!*end)
            return true;
        p = end + 1;
    }
}

typedef struct tus_meta_seen {
    const char *keys[TUS_METADATA_MAX / 2];
    size_t lens[TUS_METADATA_MAX / 2];
    size_t count;
} tus_meta_seen_t;

static bool tus_metadata_unique(void *arg, const char *key, size_t key_len, const char *value, size_t value_len)
{
    (void)value;
    (void)value_len;
    tus_meta_seen_t *seen = arg;
    for (size_t i = 0; i < seen->count; i++)
        if (seen->lens[i] == key_len && memcmp(seen->keys[i], key, key_len) == 0)
            return false;
    seen->keys[seen->count] = key;
    seen->lens[seen->count++] = key_len;
    return true;
}

bool tus_metadata_valid(const char *s)
{
    if (!s || strlen(s) > TUS_METADATA_MAX)
        return false;
    tus_meta_seen_t *seen = calloc(1, sizeof(*seen));
    bool ok = seen && tus_metadata_walk(s, tus_metadata_unique, seen);
    free(seen);
    return ok;
}

typedef struct tus_meta_find {
    const char *key;
    buf_t *out;
    bool found;
} tus_meta_find_t;

static bool tus_metadata_match(void *arg, const char *key, size_t key_len, const char *value, size_t value_len)
{
    tus_meta_find_t *f = arg;
    if (strlen(f->key) != key_len || memcmp(f->key, key, key_len) != 0)
        return true;
    f->found = value_len == 0 || tus_b64_decode(value, value_len, f->out);
    return false; /* stop: keys are unique */
}

bool tus_metadata_get(const char *s, const char *key, buf_t *out)
{
    tus_meta_find_t f = {key, out, false};
    if (s && strlen(s) <= TUS_METADATA_MAX)
        tus_metadata_walk(s, tus_metadata_match, &f);
    return f.found;
}

static const struct {
    const char *name;
    int alg;
    size_t len;
} tus_checksum_algs[] = {
    {"sha1", TUS_CK_SHA1, 20},
    {"md5", TUS_CK_MD5, 16},
    {"crc32", TUS_CK_CRC32, 4},
};

int tus_checksum_parse(const char *s, tus_checksum_t *out)
{
    memset(out, 0, sizeof(*out));
    const char *sp = s ? strchr(s, ' ') : NULL;
    if (!sp || sp == s || strlen(sp + 1) == 0 || strlen(sp + 1) > 64)
        return TUS_CK_MALFORMED;
    size_t name_len = (size_t)(sp - s);
    for (size_t i = 0; i < sizeof(tus_checksum_algs) / sizeof(tus_checksum_algs[0]); i++) {
        if (strlen(tus_checksum_algs[i].name) != name_len || memcmp(s, tus_checksum_algs[i].name, name_len) != 0)
            continue;
        buf_t b;
        buf_init(&b, 0);
        bool ok = tus_b64_decode(sp + 1, strlen(sp + 1), &b) && b.len == tus_checksum_algs[i].len;
        if (ok) {
            memcpy(out->digest, b.data, b.len);
            out->digest_len = b.len;
            out->alg = tus_checksum_algs[i].alg;
        }
        buf_free(&b);
        return ok ? TUS_CK_OK : TUS_CK_MALFORMED;
    }
    for (size_t i = 0; i < name_len; i++)
        if (!tus_key_char(s[i]))
            return TUS_CK_MALFORMED;
    return TUS_CK_UNKNOWN;
}

void tus_concat_free(tus_concat_t *c)
{
    for (size_t i = 0; i < c->count; i++)
        free(c->ids[i]);
    free(c->ids);
    memset(c, 0, sizeof(*c));
}

/* The id of a part URL: what follows its last "/files/", one segment. */
static char *tus_concat_part(const char *url, size_t len)
{
    const char *id = NULL;
    for (size_t i = 0; i + 7 <= len; i++)
        if (memcmp(url + i, "/files/", 7) == 0)
            id = url + i + 7;
    if (!id && len > 6 && memcmp(url, "files/", 6) == 0)
        id = url + 6;
    size_t id_len = id ? len - (size_t)(id - url) : 0;
    if (id_len == 0 || id_len > 128 || memchr(id, '/', id_len) || memchr(id, '?', id_len))
        return NULL;
    return strndup(id, id_len);
}

static bool tus_concat_add(tus_concat_t *c, const char *url, size_t len)
{
    if (c->count == TUS_CONCAT_MAX_PARTS)
        return false;
    char *id = tus_concat_part(url, len);
    if (!id)
        return false;
    c->ids[c->count++] = id;
    return true;
}

bool tus_concat_parse(const char *s, tus_concat_t *out)
{
    memset(out, 0, sizeof(*out));
    if (!s)
        return false;
    if (strcmp(s, "partial") == 0) {
        out->kind = TUS_CONCAT_PARTIAL;
        return true;
    }
    if (strncmp(s, "final;", 6) != 0)
        return false;
    out->ids = calloc(TUS_CONCAT_MAX_PARTS, sizeof(*out->ids));
    if (!out->ids)
        return false;
    out->kind = TUS_CONCAT_FINAL;
    for (const char *p = s + 6; *p;) {
        size_t n = strcspn(p, " ");
        if (n > 0 && !tus_concat_add(out, p, n)) {
            tus_concat_free(out);
            return false;
        }
        p += n;
        p += *p == ' ';
    }
    if (out->count == 0) {
        tus_concat_free(out);
        return false;
    }
    return true;
}

void tus_http_date(int64_t ms, char out[40])
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
             tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}
