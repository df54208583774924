/*
 * fuzz_block_ctx: feeds arbitrary bytes to the block ctx decoder (a ctx
 * comes from the network in /bput paths and mkfile bodies) and, as a
 * second parser of request data, to playback's Range header parser.
 * Checks: a decoded ctx re-encodes to exactly the input (one text, one
 * state), and a parsed range lies inside the object.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/playback.h"
#include "upload/block_ctx.h"

static void fuzz_check(int cond)
{
    if (!cond)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned char secret[32] = "fuzzing-secret-fuzzing-secret-0";
    block_ctx_t ctx;
    if (block_ctx_decode((const char *)data, size, secret, &ctx)) {
        char text[BLOCK_CTX_TEXT_LEN + 1];
        fuzz_check(block_ctx_encode(&ctx, secret, text));
        fuzz_check(size == BLOCK_CTX_TEXT_LEN && memcmp(text, data, size) == 0);
        fuzz_check(ctx.offset >= 0 && ctx.offset <= ctx.block_size && ctx.block_size > 0);
    }

    /* Range: the first 4 bytes pick the object size, the rest is the header. */
    if (size < 4)
        return 0;
    int64_t object_size = (int64_t)((uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | data[2] << 8 | data[3]);
    char *header = malloc(size - 3);
    if (!header)
        return 0;
    memcpy(header, data + 4, size - 4);
    header[size - 4] = '\0';
    int64_t first = -1, last = -1;
    if (playback_parse_range(header, object_size, &first, &last) == PLAYBACK_RANGE_OK)
        fuzz_check(first >= 0 && first <= last && last < object_size);
    free(header);
    return 0;
}
