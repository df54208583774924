/* ids: see ids.h. */
#include "common/ids.h"

#include <openssl/rand.h>
#include <string.h>
#include <time.h>

#include "common/encoding.h"
#include "common/timeutil.h"

int64_t ids_now_ms(void)
{
    return timeutil_now_ms();
}

bool ids_video_id(int64_t now_ms, char out[IDS_VIDEO_ID_LEN + 1])
{
    uint8_t raw[16];
    uint64_t ms = (uint64_t)now_ms;
    for (int i = 0; i < 6; i++)
        raw[i] = (uint8_t)(ms >> (8 * (5 - i)));
    if (RAND_bytes(raw + 6, 10) != 1)
        return false;
    encoding_hex(raw, sizeof(raw), out);
    return true;
}

bool ids_random_string(const char *prefix, const char *alphabet, size_t total_len, char *out)
{
    size_t plen = strlen(prefix), alen = strlen(alphabet);
    if (plen > total_len || alen == 0 || alen > 256)
        return false;
    memcpy(out, prefix, plen);
    /* Rejection sampling keeps every character equally likely. */
    unsigned limit = 256 - (256 % (unsigned)alen);
    size_t i = plen;
    while (i < total_len) {
        uint8_t r[32];
        if (RAND_bytes(r, sizeof(r)) != 1)
            return false;
        for (size_t j = 0; j < sizeof(r) && i < total_len; j++)
            if (r[j] < limit)
                out[i++] = alphabet[r[j] % alen];
    }
    out[total_len] = '\0';
    return true;
}

bool ids_random_hex(size_t nbytes, char *out)
{
    uint8_t r[64];
    if (nbytes > sizeof(r) || RAND_bytes(r, (int)nbytes) != 1)
        return false;
    encoding_hex(r, nbytes, out);
    return true;
}

bool ids_token_chars(const char *s, size_t len, size_t max)
{
    if (!s || len < 1 || len > max)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return false;
    }
    return true;
}
