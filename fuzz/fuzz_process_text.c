/*
 * fuzz_process_text: the text the processing stage reads back from ffmpeg,
 * whose content the uploaded file steers: -progress blocks (fed in pieces
 * of every size, as a pipe delivers them), HLS playlists (durations and
 * bandwidths read by output_check) and the master playlist the soft
 * subtitle rewrite edits.  Nothing may crash, and a rewritten master must
 * still start with #EXTM3U and carry the subtitle group.
 */
#define _GNU_SOURCE /* memmem */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "process/hls.h"
#include "process/output_check.h"
#include "process/progress.h"

static void fuzz_check(int cond)
{
    if (!cond)
        __builtin_trap();
}

static void fuzz_block(void *arg, int64_t out_time_us, bool end)
{
    (void)end;
    (*(int *)arg)++;
    fuzz_check(progress_percent(out_time_us, 10.0) >= 0 && progress_percent(out_time_us, 10.0) <= 100);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    int blocks = 0;
    progress_parser_t p;
    progress_init(&p, fuzz_block, &blocks);
    size_t piece = size ? (size_t)data[0] % 17 + 1 : 1;
    for (size_t i = 0; i < size; i += piece)
        progress_feed(&p, text + i, size - i < piece ? size - i : piece);
    fuzz_check(output_check_playlist_duration(text, size) >= 0);
    fuzz_check(output_check_master_bandwidth(text, size) >= 0);
    buf_t out;
    buf_init(&out, 0);
    if (hls_master_add_subtitles(text, size, "en", &out)) {
        fuzz_check(out.len >= 7 && memcmp(out.data, "#EXTM3U", 7) == 0);
        fuzz_check(memmem(out.data, out.len, "TYPE=SUBTITLES", 14) != NULL);
    }
    buf_free(&out);
    return 0;
}
