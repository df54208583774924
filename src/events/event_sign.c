/*
 * event_sign.c: webhook signatures (X-Vodup-Signature); see event_sign.h.
 *
 * The only allocation is the signed text (t "." body), freed before
 * returning; crypto_hmac() takes one contiguous buffer.
 */
#include "events/event_sign.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "auth/crypto.h"
#include "common/encoding.h"

#define EVENT_SIGN_T_DIGITS_MAX 19 /* INT64_MAX has 19 digits */
#define EVENT_SIGN_V1_MAX 16       /* more than a 1 KiB header can hold */

/* What a received header says, before any comparison. */
typedef struct event_sign_parsed {
    int64_t t;
    bool have_t;
    const char *v1[EVENT_SIGN_V1_MAX]; /* point into the header, not NUL-terminated */
    size_t v1_len[EVENT_SIGN_V1_MAX];
    size_t v1_count;
} event_sign_parsed_t;

bool event_sign_secret_new(char out[EVENT_SIGN_SECRET_LEN + 1])
{
    uint8_t raw[EVENT_SIGN_SECRET_BYTES];
    out[0] = '\0';
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return false;
    memcpy(out, EVENT_SIGN_SECRET_PREFIX, strlen(EVENT_SIGN_SECRET_PREFIX));
    encoding_hex(raw, sizeof(raw), out + strlen(EVENT_SIGN_SECRET_PREFIX));
    OPENSSL_cleanse(raw, sizeof(raw));
    return true;
}

static bool event_sign_is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

bool event_sign_secret_valid(const char *secret)
{
    size_t prefix = strlen(EVENT_SIGN_SECRET_PREFIX);
    return secret && strnlen(secret, EVENT_SIGN_SECRET_LEN + 1) == EVENT_SIGN_SECRET_LEN &&
           strncmp(secret, EVENT_SIGN_SECRET_PREFIX, prefix) == 0 &&
           event_sign_is_lower_hex(secret + prefix, EVENT_SIGN_SECRET_LEN - prefix);
}

/* hex receives the 64 lowercase hex digits of HMAC-SHA256(secret, t "." body). */
static bool event_sign_mac(const char *secret, int64_t t, const void *body, size_t len,
                           char hex[EVENT_SIGN_HEX_LEN + 1])
{
    char prefix[EVENT_SIGN_T_DIGITS_MAX + 2];
    int plen = snprintf(prefix, sizeof(prefix), "%" PRId64 ".", t);
    if (plen <= 0 || (size_t)plen >= sizeof(prefix) || len > SIZE_MAX - (size_t)plen)
        return false;
    uint8_t *text = malloc((size_t)plen + len + 1); /* +1: malloc(0) never happens */
    if (!text)
        return false;
    memcpy(text, prefix, (size_t)plen);
    if (len > 0)
        memcpy(text + plen, body, len);
    uint8_t mac[32];
    size_t mac_len = 0;
    bool ok = crypto_hmac(CRYPTO_SHA256, secret, strlen(secret), text, (size_t)plen + len, mac, &mac_len);
    free(text);
    if (ok)
        encoding_hex(mac, sizeof(mac), hex);
    return ok;
}

bool event_sign_header(const char *secret, int64_t unix_time, const void *body, size_t len, char *out,
                       size_t outlen)
{
    char hex[EVENT_SIGN_HEX_LEN + 1];
    if (!out || outlen == 0)
        return false;
    out[0] = '\0';
    if (!secret || !*secret || unix_time < 0 || (!body && len > 0))
        return false;
    if (!event_sign_mac(secret, unix_time, body, len, hex))
        return false;
    int n = snprintf(out, outlen, "t=%" PRId64 ",v1=%s", unix_time, hex);
    if (n < 0 || (size_t)n >= outlen) {
        out[0] = '\0';
        return false;
    }
    return true;
}

/* ---- parsing a received header -------------------------------------------- */

/* 1 to 19 decimal digits that fit an int64_t; nothing else. */
static bool event_sign_parse_t(const char *s, size_t n, int64_t *out)
{
    if (n == 0 || n > EVENT_SIGN_T_DIGITS_MAX)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0'); /* 19 digits cannot wrap a uint64_t */
    }
    if (v > INT64_MAX)
        return false;
    *out = (int64_t)v;
    return true;
}

/* One "name=value" entry.  Unknown names are skipped so the scheme can grow. */
static bool event_sign_parse_item(event_sign_parsed_t *p, const char *item, size_t n)
{
    const char *eq = memchr(item, '=', n);
    if (!eq || eq == item)
        return false;
    size_t name_len = (size_t)(eq - item);
    const char *value = eq + 1;
    size_t value_len = n - name_len - 1;
    if (name_len == 1 && item[0] == 't') {
        if (p->have_t) /* two timestamps: which one was signed is ambiguous */
            return false;
        p->have_t = event_sign_parse_t(value, value_len, &p->t);
        return p->have_t;
    }
    if (name_len == 2 && memcmp(item, "v1", 2) == 0) {
        if (p->v1_count == EVENT_SIGN_V1_MAX)
            return false;
        p->v1[p->v1_count] = value;
        p->v1_len[p->v1_count++] = value_len;
    }
    return true;
}

static bool event_sign_is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Splits at ',' and trims blanks around each entry; an empty entry is malformed. */
static bool event_sign_parse(const char *header, event_sign_parsed_t *p)
{
    memset(p, 0, sizeof(*p));
    size_t total = strnlen(header, EVENT_SIGN_VERIFY_HEADER_MAX + 1);
    if (total > EVENT_SIGN_VERIFY_HEADER_MAX)
        return false;
    const char *s = header, *end = header + total;
    while (s <= end) {
        const char *comma = memchr(s, ',', (size_t)(end - s));
        const char *item_end = comma ? comma : end;
        const char *a = s, *b = item_end;
        while (a < b && event_sign_is_blank(*a))
            a++;
        while (b > a && event_sign_is_blank(b[-1]))
            b--;
        if (a == b || !event_sign_parse_item(p, a, (size_t)(b - a)))
            return false;
        s = item_end + 1;
    }
    return p->have_t && p->v1_count > 0;
}

/* ---- verifying --------------------------------------------------------------- */

/* "ok", "too old" or "too new"; the differences are taken in unsigned
 * arithmetic, where they cannot overflow whatever now is. */
static const char *event_sign_check_time(int64_t t, int64_t now, int64_t tolerance_s)
{
    if (tolerance_s < 0)
        return "ok";
    if (now > t && (uint64_t)now - (uint64_t)t > (uint64_t)tolerance_s)
        return "too old";
    if (t > now && (uint64_t)t - (uint64_t)now > (uint64_t)tolerance_s)
        return "too new";
    return "ok";
}

/* Compares every v1, not stopping at the first match, in constant time per
 * entry: how far a forged value matched must not show in the timing. */
static bool event_sign_any_match(const event_sign_parsed_t *p, const char expected[EVENT_SIGN_HEX_LEN])
{
    int matched = 0;
    for (size_t i = 0; i < p->v1_count; i++)
        if (p->v1_len[i] == EVENT_SIGN_HEX_LEN)
            matched |= CRYPTO_memcmp(p->v1[i], expected, EVENT_SIGN_HEX_LEN) == 0;
    return matched != 0;
}

bool event_sign_verify(const char *secret, const char *header_value, const void *body, size_t len, int64_t now,
                       int64_t tolerance_s, const char **why)
{
    const char *reason = "malformed";
    event_sign_parsed_t p;
    char expected[EVENT_SIGN_HEX_LEN + 1];
    if (!secret || !*secret || !header_value || (!body && len > 0) || !event_sign_parse(header_value, &p))
        goto out;
    reason = event_sign_check_time(p.t, now, tolerance_s);
    if (strcmp(reason, "ok") != 0)
        goto out;
    reason = "mismatch";
    if (event_sign_mac(secret, p.t, body, len, expected) && event_sign_any_match(&p, expected))
        reason = "ok";
out:
    if (why)
        *why = reason;
    return strcmp(reason, "ok") == 0;
}
