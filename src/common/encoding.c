/* encoding: hex, url-safe base64, percent-encoding; see encoding.h. */
#include "common/encoding.h"

#include <openssl/evp.h>
#include <string.h>

void encoding_hex(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0xf];
    }
    out[2 * len] = '\0';
}

bool encoding_b64url_encode(const void *in, size_t len, buf_t *out)
{
    if (len > (SIZE_MAX / 4) * 3 - 3)
        return false;
    size_t need = 4 * ((len + 2) / 3);
    size_t start = out->len;
    if (!buf_grow(out, need))
        return false;
    out->len += need;
    /* EVP_EncodeBlock writes need bytes plus a NUL, which buf_grow left room for. */
    unsigned char *dst = (unsigned char *)out->data + start;
    const unsigned char *src = in;
    size_t done = 0;
    while (done < len) {
        /* EVP_EncodeBlock takes an int length: go in bounded steps. */
        size_t step = len - done > 3u << 20 ? 3u << 20 : len - done;
        int n = EVP_EncodeBlock(dst, src + done, (int)step);
        dst += n;
        done += step;
    }
    for (size_t i = start; i < out->len; i++) {
        if (out->data[i] == '+')
            out->data[i] = '-';
        else if (out->data[i] == '/')
            out->data[i] = '_';
    }
    out->data[out->len] = '\0';
    return true;
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

bool encoding_b64url_decode(const char *in, size_t len, buf_t *out)
{
    /* Padding is optional, but at most the two '=' a quantum can need. */
    size_t pad = 0;
    while (len > 0 && in[len - 1] == '=' && pad < 2) {
        len--;
        pad++;
    }
    if (len % 4 == 1 || (pad > 0 && (len + pad) % 4 != 0))
        return false;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value((unsigned char)in[i]);
        if (v < 0)
            return false;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            unsigned char byte = (unsigned char)(acc >> bits);
            if (!buf_append(out, &byte, 1))
                return false;
        }
    }
    /* Leftover bits must be zero: one text, one encoding. */
    return bits == 0 || (acc & ((1u << bits) - 1)) == 0;
}

bool encoding_percent_encode(const char *in, size_t len, buf_t *out)
{
    static const char digits[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == '~';
        if (keep) {
            if (!buf_append(out, &c, 1))
                return false;
        } else {
            char esc[3] = {'%', digits[c >> 4], digits[c & 0xf]};
            if (!buf_append(out, esc, 3))
                return false;
        }
    }
    return true;
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t encoding_form_unescape(char *s, size_t len)
{
    size_t w = 0;
    for (size_t r = 0; r < len; r++) {
        if (s[r] == '+') {
            s[w++] = ' ';
        } else if (s[r] == '%' && r + 2 < len &&
                   hex_value((unsigned char)s[r + 1]) >= 0 && hex_value((unsigned char)s[r + 2]) >= 0) {
            s[w++] = (char)(hex_value((unsigned char)s[r + 1]) * 16 + hex_value((unsigned char)s[r + 2]));
            r += 2;
        } else {
            s[w++] = s[r];
        }
    }
    return w;
}

bool encoding_parse_decimal(const char *s, size_t len, int64_t *out)
{
    if (!s || len == 0 || len > 18)
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}
