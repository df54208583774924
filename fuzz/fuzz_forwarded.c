/*
 * fuzz_forwarded: X-Forwarded-For and X-Forwarded-Proto reach
 * forwarded_client() and forwarded_proto() (http/forwarded.h) from any peer
 * in trusted-proxies, and the option's text reaches forwarded_proxies_parse.
 * The input is "<trusted-proxies>\n<X-Forwarded-For>": the client found is
 * always NUL-terminated, shorter than FORWARDED_ADDR_MAX, and either the
 * peer or text that occurs in the header.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/forwarded.h"

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
    const char *xff = nl ? nl + 1 : "";
    if (nl)
        *nl = '\0';
    forwarded_proxies_t p;
    char err[128];
    if (!forwarded_proxies_parse(text, &p, err, sizeof(err)))
        forwarded_proxies_parse("127.0.0.1,10.0.0.0/8,::1", &p, err, sizeof(err));
    char out[FORWARDED_ADDR_MAX];
    memset(out, 'x', sizeof(out));
    forwarded_client(&p, "127.0.0.1", xff, out);
    size_t len = strnlen(out, sizeof(out));
    fuzz_check(len < sizeof(out));
    fuzz_check(strcmp(out, "127.0.0.1") == 0 || len == 0 || strstr(xff, out) != NULL || strchr(xff, '['));
    (void)forwarded_proto(&p, "127.0.0.1", xff);
    free(text);
    return 0;
}
