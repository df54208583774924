/*
 * client_progress: the progress bars of `vodup upload` on stderr: bytes
 * sent during the upload, then, with --wait, the server's processing
 * percentage.
 *
 * Drawn only when stderr is a terminal, redrawn in place ("\r" and
 * erase-to-end-of-line) at most CLIENT_PROGRESS_HZ times a second, so that a
 * log file or a pipe gets no flood of lines.  The rate is measured over the
 * last few seconds rather than since the start, so it follows the network
 * and the ETA does not lag behind a change of speed.  The formatting
 * functions are pure; only client_progress_update, _update_percent and _end
 * write to stderr, and only from the thread that owns the struct.
 */
#ifndef VODUP_CLIENT_PROGRESS_H
#define VODUP_CLIENT_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLIENT_PROGRESS_HZ 10
#define CLIENT_PROGRESS_WINDOW 50 /* samples at up to CLIENT_PROGRESS_HZ: about 5 s */
#define CLIENT_PROGRESS_LINE_MAX 512

typedef struct client_progress {
    bool enabled;
    bool drawn;            /* a bar is on the screen */
    int64_t total;
    int64_t last_draw_ns;
    int64_t sample_ns[CLIENT_PROGRESS_WINDOW];
    int64_t sample_done[CLIENT_PROGRESS_WINDOW];
    size_t sample_count, sample_next;
} client_progress_t;

/* enabled: draw at all (callers pass isatty(STDERR_FILENO)). */
void client_progress_init(client_progress_t *p, int64_t total, bool enabled);

/* Records `done` bytes and redraws when due (or always when force). */
void client_progress_update(client_progress_t *p, int64_t done, const char *label, bool force);

/* Draws the processing bar (client_progress_format_percent) now; the
 * caller paces it (one poll of the server, one draw). */
void client_progress_update_percent(client_progress_t *p, const char *label, int percent, int64_t elapsed_s);

/* Erases the bar, leaving the cursor at the start of an empty line. */
void client_progress_end(client_progress_t *p);

/* "0 B", "512 B", "1.5 KiB", "12.3 MiB", "1.02 GiB" ... */
void client_format_bytes(double bytes, char *out, size_t outlen);

/* "0:07", "12:34", "1:02:03"; "--:--" when unknown (eta_s < 0). */
void client_format_eta(int64_t eta_s, char *out, size_t outlen);

/*
 * One bar line fitted to `width` columns:
 * "LABEL  12.3 MiB / 100.0 MiB  12% [###.......]  8.1 MiB/s  ETA 0:11".
 * rate < 0 means not known yet.  Returns the line's length.
 */
size_t client_progress_format(char *out, size_t outlen, int width, const char *label, int64_t done, int64_t total,
                              double rate);

/*
 * The processing bar fitted to `width` columns, in the upload bar's style:
 * "LABEL   42% [########............]  elapsed 0:12", the label padded to
 * 10 columns and the time being how long the wait has lasted.  percent < 0
 * (the server gave none) leaves the bar out, "LABEL   --%  elapsed 0:12",
 * since an empty bar would read as 0%; more than 100 is shown as 100.
 * Returns the line's length.
 */
size_t client_progress_format_percent(char *out, size_t outlen, int width, const char *label, int percent,
                                      int64_t elapsed_s);

#endif
