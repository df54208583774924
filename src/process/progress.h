/*
 * progress: reads ffmpeg's `-progress pipe:1` output, blocks of key=value
 * lines each ending with "progress=continue" or "progress=end", in pieces
 * as a pipe delivers them.  Only out_time_us matters to vodup (percent =
 * out_time_us / probed duration).  Pure: no I/O, bounded memory (a line
 * longer than PROGRESS_LINE_MAX is dropped, not buffered).
 */
#ifndef VODUP_PROCESS_PROGRESS_H
#define VODUP_PROCESS_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROGRESS_LINE_MAX 256

/* Called at the end of each block: the latest out_time_us (-1 while ffmpeg
 * reports N/A), and whether ffmpeg said this was the last block. */
typedef void (*progress_fn)(void *arg, int64_t out_time_us, bool end);

typedef struct progress_parser {
    char line[PROGRESS_LINE_MAX];
    size_t len;
    bool overlong;        /* the current line passed PROGRESS_LINE_MAX: skipped to its end */
    int64_t out_time_us;  /* of the block being read */
    progress_fn fn;
    void *arg;
} progress_parser_t;

void progress_init(progress_parser_t *p, progress_fn fn, void *arg);
void progress_feed(progress_parser_t *p, const char *data, size_t len);

/* Percent done (0..100) of a task whose source lasts duration_s. */
int progress_percent(int64_t out_time_us, double duration_s);

#endif
