/*
 * ws3: the WS3-HMAC-SHA256 request signature; see ws3.h and
 * ../shared/spec/api.md section 1.
 *
 * This file owns the Authorization header parser, the canonical forms and the
 * HMAC.  It must never log, never allocate outside the buf_t it is handed, and
 * never compare a signature with anything but ws3_signature_equal().
 */
#include "auth/ws3.h"
#include "auth/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "common/encoding.h"

/* ---- small character helpers ------------------------------------------ */

static bool ws3_is_space(char c)
{
    return c == ' ' || c == '\t';
}

static char ws3_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static int ws3_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* RFC 9110 tchar: the characters a header field name may contain. */
static bool ws3_is_tchar(char c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* ---- Authorization header --------------------------------------------- */

enum {
    WS3_MEMBER_CREDENTIAL = 1,
    WS3_MEMBER_SIGNED_HEADERS = 2,
    WS3_MEMBER_SIGNATURE = 4,
    WS3_MEMBER_ALL = 7,
};

/* A ';'-list of one or more non-empty header-name tokens. */
static bool ws3_signed_headers_valid(const char *s, size_t len)
{
    if (len == 0 || len > WS3_MAX_SIGNED_HEADERS)
        return false;
    size_t element = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == ';') {
            if (element == 0)
                return false;
            element = 0;
        } else if (ws3_is_tchar(s[i])) {
            element++;
        } else {
            return false;
        }
    }
    return element > 0;
}

/* Stores one "Name=value" member into `out`; `seen` catches duplicates. */
static bool ws3_auth_member(const char *m, size_t len, unsigned *seen, ws3_auth_header_t *out)
{
    static const struct {
        const char *name;
        unsigned bit;
    } members[] = {
        {"Credential=", WS3_MEMBER_CREDENTIAL},
        {"SignedHeaders=", WS3_MEMBER_SIGNED_HEADERS},
        {"Signature=", WS3_MEMBER_SIGNATURE},
    };
    for (size_t k = 0; k < sizeof(members) / sizeof(members[0]); k++) {
        size_t nlen = strlen(members[k].name);
        if (len < nlen || memcmp(m, members[k].name, nlen) != 0)
            continue;
        if (*seen & members[k].bit)
            return false;
        *seen |= members[k].bit;
        const char *v = m + nlen;
        size_t vlen = len - nlen;
        switch (members[k].bit) {
        case WS3_MEMBER_CREDENTIAL:
            if (vlen == 0 || vlen > WS3_MAX_CREDENTIAL)
                return false;
            /* Printable ASCII without space; ',' cannot occur (it split the members). */
            for (size_t i = 0; i < vlen; i++)
                if (v[i] <= ' ' || v[i] > '~')
                    return false;
            memcpy(out->credential, v, vlen);
            out->credential[vlen] = '\0';
            return true;
        case WS3_MEMBER_SIGNED_HEADERS:
            if (!ws3_signed_headers_valid(v, vlen))
                return false;
            memcpy(out->signed_headers, v, vlen);
            out->signed_headers[vlen] = '\0';
            return true;
        default:
            if (vlen != WS3_SIGNATURE_HEX_LEN)
                return false;
            for (size_t i = 0; i < vlen; i++) {
                if (ws3_hex_value(v[i]) < 0)
                    return false;
                out->signature[i] = ws3_lower(v[i]);
            }
            out->signature[vlen] = '\0';
            return true;
        }
    }
    return false; /* an unknown member: a typo must not pass silently */
}

bool ws3_auth_header_parse(const char *value, size_t len, ws3_auth_header_t *out)
{
    static const char algorithm[] = WS3_ALGORITHM;
    const size_t alen = sizeof(algorithm) - 1;
    ws3_auth_header_t parsed;
    unsigned seen = 0;

    if (value == NULL || out == NULL)
        return false;
    memset(&parsed, 0, sizeof(parsed));

    /* HTTP allows optional whitespace around a field value. */
    while (len > 0 && ws3_is_space(value[0])) {
        value++;
        len--;
    }
    while (len > 0 && ws3_is_space(value[len - 1]))
        len--;

    /* The algorithm, then at least one space before the first member. */
    if (len <= alen || memcmp(value, algorithm, alen) != 0 || !ws3_is_space(value[alen]))
        return false;

    size_t pos = alen;
    for (;;) {
        while (pos < len && ws3_is_space(value[pos]))
            pos++;
        size_t start = pos;
        while (pos < len && value[pos] != ',')
            pos++;
        size_t end = pos;
        while (end > start && ws3_is_space(value[end - 1]))
            end--;
        if (end == start || !ws3_auth_member(value + start, end - start, &seen, &parsed))
            return false;
        if (pos == len)
            break;
        pos++; /* the ',' */
    }
    if (seen != WS3_MEMBER_ALL)
        return false;
    *out = parsed;
    return true;
}

/* ---- CanonicalQuery ---------------------------------------------------- */

/*
 * Reads the RFC 3986 percent-encoding of a byte string one character at a
 * time, so that pairs can be sorted by their encoded form (the form the
 * canonical query shows) without materialising it.
 */
typedef struct ws3_encoded_reader {
    const unsigned char *s;
    size_t len;
    size_t i;
    int sub; /* 0: at a new byte; 1, 2: at the hex digits of an escape */
} ws3_encoded_reader_t;

static bool ws3_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '~';
}

/* Returns the next encoded character, or -1 at the end. */
static int ws3_encoded_next(ws3_encoded_reader_t *r)
{
    static const char digits[] = "0123456789ABCDEF";
    if (r->i >= r->len)
        return -1;
    unsigned char c = r->s[r->i];
    if (r->sub == 0 && ws3_unreserved(c)) {
        r->i++;
        return c;
    }
    int out;
    switch (r->sub) {
    case 0:
        out = '%';
        r->sub = 1;
        break;
    case 1:
        out = digits[c >> 4];
        r->sub = 2;
        break;
    default:
        out = digits[c & 0xf];
        r->sub = 0;
        r->i++;
        break;
    }
    return out;
}

static int ws3_encoded_compare(const char *a, size_t alen, const char *b, size_t blen)
{
    ws3_encoded_reader_t ra = {(const unsigned char *)a, alen, 0, 0};
    ws3_encoded_reader_t rb = {(const unsigned char *)b, blen, 0, 0};
    for (;;) {
        int ca = ws3_encoded_next(&ra), cb = ws3_encoded_next(&rb);
        if (ca != cb)
            return ca < cb ? -1 : 1; /* -1 (end) sorts before any character */
        if (ca < 0)
            return 0;
    }
}

static int ws3_pair_compare(const void *x, const void *y)
{
    const ws3_pair_t *a = *(const ws3_pair_t *const *)x;
    const ws3_pair_t *b = *(const ws3_pair_t *const *)y;
    int c = ws3_encoded_compare(a->name, a->name_len, b->name, b->name_len);
    if (c != 0)
        return c;
    return ws3_encoded_compare(a->value ? a->value : "", a->value ? a->value_len : 0,
                               b->value ? b->value : "", b->value ? b->value_len : 0);
}

static size_t ws3_encoded_len(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ws3_unreserved((unsigned char)s[i]) ? 1 : 3;
    return n;
}

bool ws3_canonical_query(const ws3_pair_t *pairs, size_t count, buf_t *out)
{
    const size_t start = out->len;
    const size_t align = alignof(const ws3_pair_t *);
    const size_t max = SIZE_MAX / 4;

    if (count == 0)
        return true;

    /* Length of the result: name=value per pair, '&' between pairs. */
    size_t total = count - 1;
    for (size_t i = 0; i < count; i++) {
        if (pairs[i].name_len > max || pairs[i].value_len > max)
            return false;
        size_t n = ws3_encoded_len(pairs[i].name, pairs[i].name_len) + 1;
        if (pairs[i].value)
            n += ws3_encoded_len(pairs[i].value, pairs[i].value_len);
        if (n > max - total)
            return false;
        total += n;
    }
    if (count > max / sizeof(const ws3_pair_t *))
        return false;

    /*
     * The sort needs an array of pair pointers, and this module allocates
     * nothing outside the caller's buffer: grow `out` once, enough for the
     * result and then (aligned, past the result's NUL) the array.  The
     * appends below stay within that room, so the buffer never moves and
     * never writes over the array while it is read.  (On a capped buffer
     * the array counts against the cap; canonical buffers are uncapped.)
     */
    size_t array_off = start + total + 1;
    array_off += (align - array_off % align) % align;
    size_t extra = array_off - start + count * sizeof(const ws3_pair_t *);
    if (!buf_grow(out, extra))
        return false;
    const ws3_pair_t **sorted = (const ws3_pair_t **)(void *)(out->data + array_off);
    for (size_t i = 0; i < count; i++)
        sorted[i] = &pairs[i];
    qsort(sorted, count, sizeof(*sorted), ws3_pair_compare);

    for (size_t i = 0; i < count; i++) {
        const ws3_pair_t *p = sorted[i];
        bool ok = (i == 0 || buf_append(out, "&", 1)) &&
                  encoding_percent_encode(p->name, p->name_len, out) && buf_append(out, "=", 1) &&
                  (!p->value || encoding_percent_encode(p->value, p->value_len, out));
        if (!ok) {
            out->len = start;
            out->data[start] = '\0';
            return false;
        }
    }
    return true;
}

/* ---- CanonicalRequest -------------------------------------------------- */

/* Appends `value` with outer whitespace trimmed and inner runs folded to one space. */
static bool ws3_append_folded(buf_t *out, const char *value)
{
    const char *p = value;
    while (ws3_is_space(*p))
        p++;
    bool pending_space = false;
    for (; *p; p++) {
        if (ws3_is_space(*p)) {
            pending_space = true;
            continue;
        }
        if (pending_space && !buf_append(out, " ", 1))
            return false;
        pending_space = false;
        if (!buf_append(out, p, 1))
            return false;
    }
    return true;
}

static bool ws3_append_sha256_hex(buf_t *out, const void *data, size_t len)
{
    uint8_t digest[32];
    char hex[2 * sizeof(digest) + 1];
    if (!crypto_sha256(data, len, digest))
        return false;
    encoding_hex(digest, sizeof(digest), hex);
    return buf_append(out, hex, 2 * sizeof(digest));
}

bool ws3_canonical_request(const ws3_request_t *req, const char *signed_headers, buf_t *out)
{
    const size_t start = out->len;
    char list[WS3_MAX_SIGNED_HEADERS + 1];
    char hex[2 * sizeof(req->body_sha256) + 1];
    bool ok = false;

    if (req->method == NULL || req->path == NULL || req->header_lookup == NULL ||
        signed_headers == NULL)
        goto out;
    size_t list_len = strlen(signed_headers);
    if (!ws3_signed_headers_valid(signed_headers, list_len))
        goto out;
    for (size_t i = 0; i <= list_len; i++)
        list[i] = ws3_lower(signed_headers[i]);

    if (!buf_append_str(out, req->method) || !buf_append(out, "\n", 1) ||
        !buf_append_str(out, req->path) || !buf_append(out, "\n", 1) ||
        !ws3_canonical_query(req->query, req->query_count, out) || !buf_append(out, "\n", 1))
        goto out;

    /* Each signed header as "name:value\n", in the order the list gives. */
    for (size_t i = 0; i < list_len;) {
        size_t j = i;
        while (j < list_len && list[j] != ';')
            j++;
        list[j] = '\0'; /* temporarily, to hand the name to the lookup */
        const char *value = req->header_lookup(req->header_ctx, list + i);
        bool appended = value != NULL && buf_append(out, list + i, j - i) &&
                        buf_append(out, ":", 1) && ws3_append_folded(out, value) &&
                        buf_append(out, "\n", 1);
        if (j < list_len)
            list[j] = ';';
        if (!appended)
            goto out;
        i = j + 1;
    }

    encoding_hex(req->body_sha256, sizeof(req->body_sha256), hex);
    if (!buf_append(out, "\n", 1) || !buf_append(out, list, list_len) ||
        !buf_append(out, "\n", 1) || !buf_append(out, hex, 2 * sizeof(req->body_sha256)))
        goto out;
    ok = true;
out:
    if (!ok && out->data) {
        out->len = start;
        out->data[start] = '\0';
    }
    return ok;
}

/* ---- StringToSign, signature ------------------------------------------- */

bool ws3_string_to_sign(const char *timestamp, const char *canonical, size_t canonical_len,
                        buf_t *out)
{
    const size_t start = out->len;
    if (timestamp == NULL || canonical == NULL)
        return false;
    if (buf_append_str(out, WS3_ALGORITHM "\n") && buf_append_str(out, timestamp) &&
        buf_append(out, "\n", 1) && ws3_append_sha256_hex(out, canonical, canonical_len))
        return true;
    if (out->data) {
        out->len = start;
        out->data[start] = '\0';
    }
    return false;
}

void ws3_signature(const char *secret_key, const char *string_to_sign, size_t len,
                   char out_hex[WS3_SIGNATURE_HEX_LEN + 1])
{
    uint8_t mac[WS3_SIGNATURE_HEX_LEN / 2];
    size_t mac_len = 0;

    /* An empty string never equals a real signature, so a failure here can
     * only make verification fail, never pass. */
    out_hex[0] = '\0';
    if (secret_key == NULL || string_to_sign == NULL)
        return;
    if (!crypto_hmac(CRYPTO_SHA256, secret_key, strlen(secret_key), string_to_sign, len, mac, &mac_len))
        return;
    encoding_hex(mac, sizeof(mac), out_hex);
    OPENSSL_cleanse(mac, sizeof(mac));
}

bool ws3_signature_equal(const char *expected_hex, const char *given_hex)
{
    char given[WS3_SIGNATURE_HEX_LEN];

    if (expected_hex == NULL || given_hex == NULL)
        return false;
    /* Lengths are public (always 64 for a real signature); only the bytes
     * must be compared in constant time. */
    if (strlen(expected_hex) != WS3_SIGNATURE_HEX_LEN || strlen(given_hex) != WS3_SIGNATURE_HEX_LEN)
        return false;
    for (size_t i = 0; i < WS3_SIGNATURE_HEX_LEN; i++)
        given[i] = ws3_lower(given_hex[i]);
    return CRYPTO_memcmp(expected_hex, given, WS3_SIGNATURE_HEX_LEN) == 0;
}

bool ws3_sign(const ws3_request_t *req, const char *signed_headers, const char *timestamp,
              const char *secret_key, char out_hex[WS3_SIGNATURE_HEX_LEN + 1])
{
    buf_t canonical, to_sign;
    bool ok = false;

    buf_init(&canonical, 0);
    buf_init(&to_sign, 0);
    out_hex[0] = '\0';
    if (!ws3_canonical_request(req, signed_headers, &canonical) ||
        !ws3_string_to_sign(timestamp, canonical.data, canonical.len, &to_sign))
        goto out;
    ws3_signature(secret_key, to_sign.data, to_sign.len, out_hex);
    ok = out_hex[0] != '\0';
out:
    buf_free(&canonical);
    buf_free(&to_sign);
    return ok;
}

bool ws3_signed_headers_contain(const char *list, const char *lowercase_name)
{
    if (list == NULL || lowercase_name == NULL)
        return false;
    size_t nlen = strlen(lowercase_name);
    const char *p = list;
    for (;;) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == nlen && len > 0) {
            size_t i = 0;
            while (i < len && ws3_lower(p[i]) == ws3_lower(lowercase_name[i]))
                i++;
            if (i == len)
                return true;
        }
        if (end == NULL)
            return false;
        p = end + 1;
    }
}
