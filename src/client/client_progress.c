/*
 * client_progress.c: the progress bar; see client_progress.h.
 */
#include "client/client_progress.h"

#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/timeutil.h"

#define CLIENT_PROGRESS_DEFAULT_WIDTH 80
#define CLIENT_PROGRESS_BAR_MIN 10
#define CLIENT_PROGRESS_BAR_MAX 40
#define CLIENT_PROGRESS_LABEL_WIDTH 10 /* "processing", the longest status before an end */

void client_format_bytes(double bytes, char *out, size_t outlen)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    size_t u = 0;
    while (bytes >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
        bytes /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(out, outlen, "%.0f B", bytes);
    else if (bytes < 10)
        snprintf(out, outlen, "%.2f %s", bytes, units[u]);
    else
        snprintf(out, outlen, "%.1f %s", bytes, units[u]);
}

void client_format_eta(int64_t eta_s, char *out, size_t outlen)
{
    if (eta_s < 0 || eta_s > 99LL * 3600)
        snprintf(out, outlen, "--:--");
    else if (eta_s >= 3600)
        snprintf(out, outlen, "%lld:%02lld:%02lld", (long long)(eta_s / 3600), (long long)(eta_s / 60 % 60),
                 (long long)(eta_s % 60));
    else
        snprintf(out, outlen, "%lld:%02lld", (long long)(eta_s / 60), (long long)(eta_s % 60));
}

/*
 * "HEAD [####......]TAIL" fitted to `width` columns: the bar takes the room
 * left, between CLIENT_PROGRESS_BAR_MIN and _MAX cells, and is left out when
 * there is less (or when fraction < 0).  The last column stays free, so the
 * cursor never wraps.
 */
static size_t client_progress_join(char *out, size_t outlen, const char *head, double fraction, const char *tail,
                                   int width)
{
    int room = width - 1 - (int)strlen(head) - (int)strlen(tail) - 3; /* " [" and "]" */
    char bar[CLIENT_PROGRESS_BAR_MAX + 3] = "";
    if (fraction >= 0 && room >= CLIENT_PROGRESS_BAR_MIN) {
        int cells = room > CLIENT_PROGRESS_BAR_MAX ? CLIENT_PROGRESS_BAR_MAX : room;
        int full = (int)((fraction > 1 ? 1 : fraction) * cells);
        bar[0] = '[';
        for (int i = 0; i < cells; i++)
            bar[1 + i] = i < full ? '#' : '.';
        bar[1 + cells] = ']';
        bar[2 + cells] = '\0';
    }
    int n = snprintf(out, outlen, "%s%s%s%s", head, bar[0] ? " " : "", bar, tail);
    if (n < 0)
        n = 0;
    if ((size_t)n >= outlen)
        n = (int)outlen - 1;
    /* A terminal narrower than the essentials: cut rather than wrap. */
    if (width > 0 && n > width - 1) {
        n = width - 1 > 0 ? width - 1 : 0;
        out[n] = '\0';
    }
    return (size_t)n;
}

size_t client_progress_format(char *out, size_t outlen, int width, const char *label, int64_t done, int64_t total,
                              double rate)
{
    char d[32], t[32], r[40], eta[32];
    if (done > total)
        done = total;
    if (done < 0)
        done = 0;
    int pct = total > 0 ? (int)(done * 100 / total) : 100;
    client_format_bytes((double)done, d, sizeof(d));
    client_format_bytes((double)total, t, sizeof(t));
    if (rate >= 0) {
        client_format_bytes(rate, r, sizeof(r));
        strncat(r, "/s", sizeof(r) - strlen(r) - 1);
    } else {
        snprintf(r, sizeof(r), "-- B/s");
    }
    client_format_eta(rate > 0 ? (int64_t)((double)(total - done) / rate + 0.5) : (done >= total ? 0 : -1), eta,
                      sizeof(eta));

    char head[128], tail[96];
    snprintf(head, sizeof(head), "%s%s%s / %s %3d%%", label ? label : "", label && *label ? "  " : "", d, t, pct);
    snprintf(tail, sizeof(tail), "  %s  ETA %s", r, eta);
    return client_progress_join(out, outlen, head, total > 0 ? (double)done / (double)total : 1, tail, width);
}

/* The order of the numbers follows client_progress_format's; the unit test pins them. */
/* NOLINTNEXTLINE(bugprone-easily-swappable-parameters) */
size_t client_progress_format_percent(char *out, size_t outlen, int width, const char *label, int percent,
                                      int64_t elapsed_s)
{
    char head[128], tail[48], elapsed[32];
    if (percent > 100)
        percent = 100;
    client_format_eta(elapsed_s, elapsed, sizeof(elapsed));
    snprintf(tail, sizeof(tail), "  elapsed %s", elapsed);
    /* The label is padded so that the percentage and the bar keep their
     * column when the status changes from "uploaded" to "processing". */
    if (percent < 0) {
        /* No number to draw: an empty bar would read as 0%. */
        snprintf(head, sizeof(head), "%-*s   --%%", CLIENT_PROGRESS_LABEL_WIDTH, label ? label : "");
        return client_progress_join(out, outlen, head, -1, tail, width);
    }
    snprintf(head, sizeof(head), "%-*s  %3d%%", CLIENT_PROGRESS_LABEL_WIDTH, label ? label : "", percent);
    return client_progress_join(out, outlen, head, percent / 100.0, tail, width);
}

void client_progress_init(client_progress_t *p, int64_t total, bool enabled)
{
    memset(p, 0, sizeof(*p));
    p->enabled = enabled;
    p->total = total;
}

/* Bytes per second over the sample window, -1 until two samples span time. */
static double client_progress_rate(const client_progress_t *p)
{
    if (p->sample_count < 2)
        return -1;
    size_t newest = (p->sample_next + CLIENT_PROGRESS_WINDOW - 1) % CLIENT_PROGRESS_WINDOW;
    size_t oldest = p->sample_count < CLIENT_PROGRESS_WINDOW ? 0 : p->sample_next;
    int64_t dt = p->sample_ns[newest] - p->sample_ns[oldest];
    if (dt <= 0)
        return -1;
    return (double)(p->sample_done[newest] - p->sample_done[oldest]) * 1e9 / (double)dt;
}

static int client_terminal_width(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return CLIENT_PROGRESS_DEFAULT_WIDTH;
}

void client_progress_update(client_progress_t *p, int64_t done, const char *label, bool force)
{
    if (!p->enabled)
        return;
    int64_t now = timeutil_monotonic_ns();
    if (!force && p->last_draw_ns && now - p->last_draw_ns < 1000000000 / CLIENT_PROGRESS_HZ)
        return;
    p->last_draw_ns = now;
    p->sample_ns[p->sample_next] = now;
    p->sample_done[p->sample_next] = done;
    p->sample_next = (p->sample_next + 1) % CLIENT_PROGRESS_WINDOW;
    if (p->sample_count < CLIENT_PROGRESS_WINDOW)
        p->sample_count++;
    char line[CLIENT_PROGRESS_LINE_MAX];
    size_t n = client_progress_format(line, sizeof(line), client_terminal_width(), label, done, p->total,
                                      client_progress_rate(p));
    fprintf(stderr, "\r%.*s\x1b[K", (int)n, line);
    fflush(stderr);
    p->drawn = true;
}

void client_progress_update_percent(client_progress_t *p, const char *label, int percent, int64_t elapsed_s)
{
    if (!p->enabled)
        return;
    char line[CLIENT_PROGRESS_LINE_MAX];
    size_t n = client_progress_format_percent(line, sizeof(line), client_terminal_width(), label, percent, elapsed_s);
    fprintf(stderr, "\r%.*s\x1b[K", (int)n, line);
    fflush(stderr);
    p->drawn = true;
}

void client_progress_end(client_progress_t *p)
{
    if (p->enabled && p->drawn) {
        fputs("\r\x1b[K", stderr);
        fflush(stderr);
    }
    p->drawn = false;
}
