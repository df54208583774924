/*
 * fuzz_upload_token: feeds arbitrary bytes to the upload token's split,
 * signature check and policy parser, as the upload endpoint does with a
 * token from the network, and checks the parts and the parsed policy.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "auth/upload_token.h"

static void fuzz_check(int cond)
{
    if (!cond)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *token = (const char *)data;
    upload_token_parts_t parts;
    if (!upload_token_split(token, size, &parts))
        return 0;

    /* Three non-empty parts that tile the input around two ':'. */
    fuzz_check(parts.access_key == token && parts.access_key_len > 0);
    fuzz_check(parts.encoded_sign_len > 0 && parts.encoded_policy_len > 0);
    fuzz_check(parts.access_key_len + parts.encoded_sign_len + parts.encoded_policy_len + 2 == size);
    fuzz_check(memchr(parts.access_key, ':', parts.access_key_len) == NULL);
    fuzz_check(memchr(parts.encoded_policy, ':', parts.encoded_policy_len) == NULL);

    (void)upload_token_signature_valid(&parts, "testsk");

    upload_policy_t p;
    if (upload_token_policy_parse(&parts, &p)) {
        fuzz_check(p.scope != NULL && p.bucket != NULL && p.bucket[0] != '\0');
        fuzz_check(p.overwrite == 0 || p.overwrite == 1);
        fuzz_check(p.deadline_ms >= 0 && p.fsize_limit >= 0);
        size_t blen = strlen(p.bucket);
        fuzz_check(strncmp(p.scope, p.bucket, blen) == 0);
        if (p.key != NULL)
            fuzz_check(p.scope[blen] == ':' && strcmp(p.scope + blen + 1, p.key) == 0);
        else
            fuzz_check(p.scope[blen] == '\0');
        upload_policy_free(&p);
    } else {
        fuzz_check(p.scope == NULL && p.bucket == NULL && p.key == NULL);
    }
    return 0;
}
