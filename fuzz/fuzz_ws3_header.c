/*
 * fuzz_ws3_header: feeds arbitrary bytes to ws3_auth_header_parse() (the
 * first code that reads an attacker's Authorization header) and checks that
 * whatever it accepts satisfies the invariants ws3.h promises.  Accepted
 * headers also go through the SignedHeaders helpers and the comparison.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "auth/ws3.h"

static void fuzz_check(int cond)
{
    if (!cond)
        __builtin_trap();
}

static int fuzz_printable_token(const char *s)
{
    for (; *s; s++)
        if (*s <= ' ' || *s > '~' || *s == ',')
            return 0;
    return 1;
}

static const char *fuzz_lookup(void *ctx, const char *lowercase_name)
{
    /* Every signed header exists, with the name as its value. */
    for (const char *p = lowercase_name; *p; p++)
        fuzz_check(!(*p >= 'A' && *p <= 'Z'));
    return lowercase_name;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ws3_auth_header_t h;
    if (!ws3_auth_header_parse((const char *)data, size, &h))
        return 0;

    size_t clen = strnlen(h.credential, sizeof(h.credential));
    fuzz_check(clen >= 1 && clen <= WS3_MAX_CREDENTIAL);
    fuzz_check(fuzz_printable_token(h.credential));

    size_t slen = strnlen(h.signature, sizeof(h.signature));
    fuzz_check(slen == WS3_SIGNATURE_HEX_LEN);
    for (size_t i = 0; i < slen; i++)
        fuzz_check((h.signature[i] >= '0' && h.signature[i] <= '9') ||
                   (h.signature[i] >= 'a' && h.signature[i] <= 'f'));
    fuzz_check(ws3_signature_equal(h.signature, h.signature));

    size_t hlen = strnlen(h.signed_headers, sizeof(h.signed_headers));
    fuzz_check(hlen >= 1 && hlen <= WS3_MAX_SIGNED_HEADERS);
    fuzz_check(h.signed_headers[0] != ';' && h.signed_headers[hlen - 1] != ';');
    fuzz_check(strstr(h.signed_headers, ";;") == NULL);
    fuzz_check(fuzz_printable_token(h.signed_headers));

    /* Each element of the list is found by the lookup helper. */
    char first[WS3_MAX_SIGNED_HEADERS + 1];
    size_t flen = strcspn(h.signed_headers, ";");
    for (size_t i = 0; i < flen; i++)
        first[i] = (char)(h.signed_headers[i] >= 'A' && h.signed_headers[i] <= 'Z'
                              ? h.signed_headers[i] - 'A' + 'a'
                              : h.signed_headers[i]);
    first[flen] = '\0';
    fuzz_check(ws3_signed_headers_contain(h.signed_headers, first));

    /* Any accepted list is one the canonical request accepts too. */
    ws3_request_t req;
    memset(&req, 0, sizeof(req));
    req.method = "GET";
    req.path = "/";
    req.header_lookup = fuzz_lookup;
    char sig[WS3_SIGNATURE_HEX_LEN + 1];
    fuzz_check(ws3_sign(&req, h.signed_headers, "0", "sk", sig));
    fuzz_check(strlen(sig) == WS3_SIGNATURE_HEX_LEN);
    return 0;
}
