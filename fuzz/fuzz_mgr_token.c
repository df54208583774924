/*
 * fuzz_mgr_token: the Authorization of every POST /fops reaches
 * mgr_token_split() and mgr_token_valid() (auth/mgr_token.h) before the
 * caller is known.  The input is "<Authorization>\n<body>": whatever the
 * split accepts has a non-empty AccessKey without blanks of at most
 * MGR_TOKEN_ACCESS_KEY_MAX bytes, and the check never crashes on it; a
 * token made for the same path and body verifies.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/mgr_token.h"

static void fuzz_check(int cond)
{
    if (!cond)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *nl = strchr(text, '\n');
    const char *body = nl ? nl + 1 : "";
    if (nl)
        *nl = '\0';
    size_t body_len = nl ? size - (size_t)(nl + 1 - text) : 0;
    char ak[MGR_TOKEN_ACCESS_KEY_MAX + 1];
    const char *sign = NULL;
    if (mgr_token_split(text, ak, &sign)) {
        fuzz_check(ak[0] != '\0' && strlen(ak) <= MGR_TOKEN_ACCESS_KEY_MAX && !strpbrk(ak, " \t"));
        fuzz_check(sign && sign[0] != '\0');
        (void)mgr_token_valid("secret", "/fops", body, body_len, sign);
        buf_t made;
        buf_init(&made, 0);
        if (mgr_token_make(ak, "secret", "/fops", body, body_len, &made)) {
            const char *mine = NULL;
            char again[MGR_TOKEN_ACCESS_KEY_MAX + 1];
            fuzz_check(mgr_token_split(made.data, again, &mine) && !strcmp(again, ak));
            fuzz_check(mgr_token_valid("secret", "/fops", body, body_len, mine));
        }
        buf_free(&made);
    }
    free(text);
    return 0;
}
