/*
 * log: operational messages and the access log, one line each on stderr.
 *
 * Every line is one JSON object: operational lines are
 * {"ts","level","msg"}, access lines carry the request's fields (see
 * http/access_log.c), so a log shipper parses one format and nothing else
 * is mixed in.  Each line is written with a single
 * write(2) so lines from different threads never interleave.  Never pass a
 * secret key or a full signature to these functions.
 */
#ifndef VODUP_LOG_H
#define VODUP_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

/* Writes one already-formatted line (a '\n' is added) in one write(2). */
void log_line(const char *line, size_t len);

/* Lines below this level are dropped.  Set once at start-up, before threads. */
void log_set_level(int level);

#endif
