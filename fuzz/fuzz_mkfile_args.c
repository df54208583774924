/*
 * fuzz_mkfile_args: mkfile's path (/mkfile/<size>/<name>/<b64>...) and its
 * body (the ctx list) come from the network; feeds arbitrary bytes to both
 * parsers and checks what they hand on: pair values decoded and NUL-free,
 * ctx entries non-empty, trimmed, comma-free, numbered in order.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "upload/mkfile_args.h"

static void fuzz_check(int cond)
{
    if (!cond)
        __builtin_trap();
}

static bool fuzz_pair(void *arg, const char *name, size_t name_len, const char *value)
{
    (void)arg;
    fuzz_check(memchr(name, '/', name_len) == NULL);
    fuzz_check(value != NULL);
    (void)strlen(value);
    return true;
}

static bool fuzz_ctx(void *arg, const char *text, size_t len, size_t index)
{
    size_t *next = arg;
    fuzz_check(index == *next);
    fuzz_check(len > 0 && memchr(text, ',', len) == NULL);
    fuzz_check(text[0] != ' ' && text[len - 1] != ' ' && text[0] != '\n' && text[len - 1] != '\n');
    (*next)++;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    int64_t file_size = -1;
    if (mkfile_args_parse_path(text, &file_size, fuzz_pair, NULL))
        fuzz_check(file_size >= 0);
    size_t next = 0;
    long n = mkfile_args_split_ctx_list((const char *)data, size, fuzz_ctx, &next);
    fuzz_check(n == -1 || (size_t)n == next);
    free(text);
    return 0;
}
