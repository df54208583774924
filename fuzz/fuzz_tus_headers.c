/*
 * fuzz_tus_headers: the tus request headers a client controls reach
 * upload/tus_headers.h's parsers (Upload-Length/-Offset, Upload-Metadata,
 * Upload-Checksum, Upload-Concat) and tus_id_decode.  Checks: a metadata
 * value found valid has each key's value decodable; a parsed concatenation
 * names 1..TUS_CONCAT_MAX_PARTS ids without '/'; a digest has its
 * algorithm's length.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "upload/tus_headers.h"
#include "upload/tus_id.h"

static void fuzz_check(int cond)
{
    if (!cond)
        __builtin_trap();
}

static const unsigned char secret[32] = "0123456789abcdef0123456789abcde";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    int64_t v;
    if (tus_parse_size(text, &v))
        fuzz_check(v >= 0);
    if (tus_metadata_valid(text)) {
        buf_t b;
        buf_init(&b, 0);
        tus_metadata_get(text, "filetype", &b);
        buf_free(&b);
    }
    tus_checksum_t ck;
    if (tus_checksum_parse(text, &ck) == TUS_CK_OK)
        fuzz_check(ck.digest_len == 20 || ck.digest_len == 16 || ck.digest_len == 4);
    tus_concat_t c;
    if (tus_concat_parse(text, &c)) {
        fuzz_check(c.kind == TUS_CONCAT_PARTIAL || (c.count >= 1 && c.count <= TUS_CONCAT_MAX_PARTS));
        for (size_t i = 0; i < c.count; i++)
            fuzz_check(c.ids[i][0] && !strchr(c.ids[i], '/'));
        tus_concat_free(&c);
    }
    tus_id_t id;
    if (tus_id_decode(text, size, secret, &id))
        fuzz_check(strlen(id.block_id) == BLOB_ID_LEN);
    free(text);
    return 0;
}
