/*
 * faultproxy: a TCP proxy for tests that breaks connections on purpose.
 *
 *   faultproxy [--port N] [--drop-after-bytes N] [--drop-every K]
 *              [--drop-count M] [--verbose] TARGET
 *
 * Listens on 127.0.0.1 (port 0 by default: any free port), prints
 * "faultproxy: listening on 127.0.0.1:PORT" on stdout, and forwards every
 * accepted connection to TARGET ("HOST:PORT", numeric, "[v6]:PORT" for
 * IPv6).  TARGET "-" reads "HOST:PORT\n" from stdin first: the port is known
 * (and printed) before the target is, so a test can start the proxy, start
 * the server with the proxy's address as its public URL, and then tell the
 * proxy where the server listens.  Connections that arrive before the target
 * wait in the listen backlog.
 *
 * Faults, by rule:
 *   --drop-after-bytes N  once N bytes have come from the client on one
 *                         connection, those N bytes are delivered to the
 *                         server and both sides are then closed abruptly
 *                         (SO_LINGER 0: an RST, not a FIN), as a network
 *                         that dies mid-request would;
 *   --drop-every K        only every K-th connection (accept order, from 1)
 *                         is a candidate (default 1: all), so that a retry on
 *                         a new connection can succeed;
 *   --drop-count M        no more than M drops in all (default 0: no limit).
 * Each drop prints "faultproxy: connection ID dropped after N bytes from the
 * client" on stdout; on exit it prints "faultproxy: exiting: C connections,
 * D dropped".  SIGTERM or SIGINT stop it: open connections are closed and it
 * exits 0.
 *
 * One thread, one poll() loop, non-blocking sockets and a fixed buffer per
 * direction, so that a slow side holds back the other (no unbounded
 * buffering) and every byte is accounted for.  Half-closes are forwarded
 * (FIN as shutdown(SHUT_WR)); a reset or error on one side resets the other.
 * It never reads or alters the bytes it forwards.
 */
#define _GNU_SOURCE /* accept4, ppoll */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FP_BUF_SIZE (64 * 1024) /* per direction and connection */
#define FP_MAX_CONNS 256        /* more are accepted and closed at once */
#define FP_TARGET_MAX 256       /* "HOST:PORT" */

/* One direction of a connection: bytes read from one side, not yet written
 * to the other.  buf[off, len) is pending. */
typedef struct fp_dir {
    char *buf;
    size_t off, len;
    bool eof;  /* the source side sent FIN */
    bool shut; /* the FIN was passed on (shutdown(SHUT_WR) of the sink) */
} fp_dir_t;

typedef struct fp_conn {
    unsigned long id; /* accept order, from 1 */
    int client_fd, server_fd;
    bool connecting;   /* the connect to the target is in progress */
    bool candidate;    /* a drop applies to this connection */
    bool doomed;       /* the drop point is reached; dropped once `up` is flushed */
    uint64_t up_bytes; /* bytes read from the client */
    fp_dir_t up;       /* client -> server */
    fp_dir_t down;     /* server -> client */
    int client_pfd, server_pfd; /* indexes in the poll array, -1 when not polled */
} fp_conn_t;

typedef struct fp_options {
    int port;
    uint64_t drop_after; /* 0: never */
    unsigned long drop_every;
    unsigned long drop_count; /* 0: no limit */
    bool verbose;
    const char *target; /* "-": from stdin */
} fp_options_t;

typedef struct fp_state {
    fp_options_t opt;
    int listen_fd;
    struct sockaddr_storage target;
    socklen_t target_len;
    bool have_target;
    char stdin_line[FP_TARGET_MAX];
    size_t stdin_len;
    fp_conn_t *conns[FP_MAX_CONNS];
    size_t conn_count;
    unsigned long accepted;
    unsigned long dropped;
} fp_state_t;

static volatile sig_atomic_t fp_stop;

static void fp_on_signal(int sig)
{
    (void)sig;
    fp_stop = 1;
}

static void fp_usage(FILE *f)
{
    fprintf(f, "usage: faultproxy [--port N] [--drop-after-bytes N] [--drop-every K] [--drop-count M]\n"
               "                  [--verbose] TARGET\n"
               "TARGET is HOST:PORT, or - to read HOST:PORT from stdin after listening.\n");
}

static bool fp_parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!text || text[0] < '0' || text[0] > '9')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* Parses the command line; false (after printing why) on any mistake. */
static bool fp_parse_args(int argc, char **argv, fp_options_t *o)
{
    *o = (fp_options_t){.drop_every = 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t n;
        if (!strcmp(a, "--verbose")) {
            o->verbose = true;
            continue;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fp_usage(stdout);
            exit(0);
        }
        if (!strcmp(a, "--port")) {
            if (!fp_parse_u64(v, 0, 65535, &n))
                goto bad_value;
            o->port = (int)n;
        } else if (!strcmp(a, "--drop-after-bytes")) {
            if (!fp_parse_u64(v, 1, UINT64_MAX, &n))
                goto bad_value;
            o->drop_after = n;
        } else if (!strcmp(a, "--drop-every")) {
            if (!fp_parse_u64(v, 1, ULONG_MAX, &n))
                goto bad_value;
            o->drop_every = (unsigned long)n;
        } else if (!strcmp(a, "--drop-count")) {
            if (!fp_parse_u64(v, 0, ULONG_MAX, &n))
                goto bad_value;
            o->drop_count = (unsigned long)n;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "faultproxy: unknown option %s\n", a);
            fp_usage(stderr);
            return false;
        } else if (!o->target) {
            o->target = a;
            continue;
        } else {
            fprintf(stderr, "faultproxy: more than one TARGET\n");
            return false;
        }
        i++; /* the option's value */
        continue;
    bad_value:
        fprintf(stderr, "faultproxy: %s needs a valid number, got '%s'\n", a, v ? v : "(nothing)");
        return false;
    }
    if (!o->target) {
        fp_usage(stderr);
        return false;
    }
    return true;
}

/* Resolves "HOST:PORT" or "[HOST]:PORT" (numeric only: a test names addresses). */
static bool fp_set_target(fp_state_t *st, const char *text)
{
    char host[FP_TARGET_MAX];
    const char *colon = strrchr(text, ':');
    if (!colon || colon == text || (size_t)(colon - text) >= sizeof(host))
        goto bad;
    const char *h = text;
    size_t hl = (size_t)(colon - text);
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    uint64_t port;
    if (!fp_parse_u64(colon + 1, 1, 65535, &port))
        goto bad;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST};
    struct addrinfo *res = NULL;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res)
        goto bad;
    memcpy(&st->target, res->ai_addr, res->ai_addrlen);
    st->target_len = res->ai_addrlen;
    freeaddrinfo(res);
    if (st->target.ss_family == AF_INET)
        ((struct sockaddr_in *)&st->target)->sin_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in6 *)&st->target)->sin6_port = htons((uint16_t)port);
    st->have_target = true;
    if (st->opt.verbose)
        printf("faultproxy: forwarding to %s\n", text);
    return true;
bad:
    fprintf(stderr, "faultproxy: bad target '%s' (want numeric HOST:PORT)\n", text);
    return false;
}

/* Reads the target line from stdin as it arrives.  Returns -1 on failure
 * (EOF before a line, or a bad line), 0 when incomplete, 1 when set. */
static int fp_read_target(fp_state_t *st)
{
    ssize_t n = read(STDIN_FILENO, st->stdin_line + st->stdin_len, sizeof(st->stdin_line) - 1 - st->stdin_len);
    if (n < 0)
        return errno == EINTR || errno == EAGAIN ? 0 : -1;
    if (n == 0) {
        fprintf(stderr, "faultproxy: stdin closed before the target line\n");
        return -1;
    }
    st->stdin_len += (size_t)n;
    st->stdin_line[st->stdin_len] = '\0';
    char *nl = strchr(st->stdin_line, '\n');
    if (!nl) {
        if (st->stdin_len == sizeof(st->stdin_line) - 1) {
            fprintf(stderr, "faultproxy: target line too long\n");
            return -1;
        }
        return 0;
    }
    *nl = '\0';
    if (nl > st->stdin_line && nl[-1] == '\r')
        nl[-1] = '\0';
    return fp_set_target(st, st->stdin_line) ? 1 : -1;
}

static int fp_listen(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 128) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        close(fd);
        return -1;
    }
    printf("faultproxy: listening on 127.0.0.1:%d\n", ntohs(a.sin_port));
    return fd;
}

/* ---- connections ---------------------------------------------------------- */

/* Closes a socket with an RST instead of a FIN. */
static void fp_close_reset(int fd)
{
    if (fd < 0)
        return;
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fd);
}

/* Removes c from the table and frees it; reset: both sides get an RST. */
static void fp_conn_close(fp_state_t *st, size_t index, bool reset)
{
    fp_conn_t *c = st->conns[index];
    if (reset) {
        fp_close_reset(c->client_fd);
        fp_close_reset(c->server_fd);
    } else {
        close(c->client_fd);
        if (c->server_fd >= 0)
            close(c->server_fd);
    }
    if (st->opt.verbose)
        printf("faultproxy: connection %lu closed%s (%" PRIu64 " bytes from the client)\n", c->id,
               reset ? " by reset" : "", c->up_bytes);
    free(c->up.buf);
    free(c->down.buf);
    free(c);
    st->conns[index] = st->conns[--st->conn_count];
    st->conns[st->conn_count] = NULL;
}

static void fp_tune_socket(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Accepts every pending connection and starts its connect to the target. */
static void fp_accept_all(fp_state_t *st)
{
    for (;;) {
        int cfd = accept4(st->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
                fprintf(stderr, "faultproxy: accept: %s\n", strerror(errno));
            return;
        }
        st->accepted++;
        fp_conn_t *c = NULL;
        int sfd = -1;
        if (st->conn_count == FP_MAX_CONNS) {
            fprintf(stderr, "faultproxy: more than %d connections; refusing one\n", FP_MAX_CONNS);
            goto refuse;
        }
        c = calloc(1, sizeof(*c));
        if (!c || !(c->up.buf = malloc(FP_BUF_SIZE)) || !(c->down.buf = malloc(FP_BUF_SIZE)))
            goto refuse;
        sfd = socket(st->target.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (sfd < 0)
            goto refuse;
        if (connect(sfd, (struct sockaddr *)&st->target, st->target_len) != 0 && errno != EINPROGRESS) {
            fprintf(stderr, "faultproxy: connect to the target: %s\n", strerror(errno));
            goto refuse;
        }
        fp_tune_socket(cfd);
        fp_tune_socket(sfd);
        c->id = st->accepted;
        c->client_fd = cfd;
        c->server_fd = sfd;
        c->connecting = true;
        c->candidate = st->opt.drop_after > 0 && c->id % st->opt.drop_every == 0;
        st->conns[st->conn_count++] = c;
        if (st->opt.verbose)
            printf("faultproxy: connection %lu accepted%s\n", c->id, c->candidate ? " (drop candidate)" : "");
        continue;
    refuse:
        if (c) {
            free(c->up.buf);
            free(c->down.buf);
            free(c);
        }
        if (sfd >= 0)
            close(sfd);
        fp_close_reset(cfd);
    }
}

/* How many bytes may be read from the client now: buffer room, cut at the
 * drop point of a candidate connection. */
static size_t fp_up_room(const fp_conn_t *c, const fp_state_t *st)
{
    if (c->up.eof || c->doomed || c->up.len == FP_BUF_SIZE)
        return 0;
    size_t room = FP_BUF_SIZE - c->up.len;
    if (c->candidate && st->opt.drop_after - c->up_bytes < room)
        room = (size_t)(st->opt.drop_after - c->up_bytes);
    return room;
}

/* Reads from fd into d.  Returns 1 on progress or nothing to do, 0 on EOF,
 * -1 on error (a reset). */
static int fp_fill(int fd, fp_dir_t *d, size_t room, size_t *got)
{
    *got = 0;
    if (room == 0)
        return 1;
    ssize_t n = recv(fd, d->buf + d->len, room, 0);
    if (n > 0) {
        d->len += (size_t)n;
        *got = (size_t)n;
        return 1;
    }
    if (n == 0) {
        d->eof = true;
        return 0;
    }
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 1 : -1;
}

/* Writes what d holds to fd; true unless the write failed for good. */
static bool fp_flush(int fd, fp_dir_t *d)
{
    while (d->off < d->len) {
        ssize_t n = send(fd, d->buf + d->off, d->len - d->off, MSG_NOSIGNAL);
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
        d->off += (size_t)n;
    }
    d->off = d->len = 0;
    return true;
}

/* Passes a FIN on once everything before it is written. */
static void fp_forward_eof(int sink_fd, fp_dir_t *d)
{
    if (d->eof && !d->shut && d->len == 0) {
        shutdown(sink_fd, SHUT_WR);
        d->shut = true;
    }
}

/*
 * Moves bytes for one connection after poll() reported on it.  Returns false
 * when the connection was closed (and freed).
 */
static bool fp_conn_step(fp_state_t *st, size_t index, short client_ev, short server_ev)
{
    fp_conn_t *c = st->conns[index];
    if (c->connecting) {
        if (!(server_ev & (POLLOUT | POLLERR | POLLHUP)))
            return true;
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(c->server_fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            err = errno;
        if (err == EINPROGRESS)
            return true;
        if (err != 0) {
            fprintf(stderr, "faultproxy: connection %lu: connect to the target: %s\n", c->id, strerror(err));
            fp_conn_close(st, index, true);
            return false;
        }
        c->connecting = false;
    }

    size_t got;
    if (client_ev & (POLLIN | POLLHUP | POLLERR)) {
        size_t room = fp_up_room(c, st);
        if (fp_fill(c->client_fd, &c->up, room, &got) < 0)
            goto reset;
        c->up_bytes += got;
        if (c->candidate && c->up_bytes >= st->opt.drop_after) {
            /* Counted when decided, so that connections at the drop point
             * together cannot exceed --drop-count. */
            if (st->opt.drop_count == 0 || st->dropped < st->opt.drop_count) {
                c->doomed = true;
                st->dropped++;
            } else {
                c->candidate = false;
            }
        }
    }
    if (server_ev & (POLLIN | POLLHUP | POLLERR)) {
        size_t room = c->down.eof ? 0 : FP_BUF_SIZE - c->down.len;
        if (fp_fill(c->server_fd, &c->down, room, &got) < 0)
            goto reset;
    }
    if (!fp_flush(c->server_fd, &c->up) || !fp_flush(c->client_fd, &c->down))
        goto reset;
    if (c->doomed && c->up.len == 0) {
        printf("faultproxy: connection %lu dropped after %" PRIu64 " bytes from the client\n", c->id, c->up_bytes);
        fp_conn_close(st, index, true);
        return false;
    }
    fp_forward_eof(c->server_fd, &c->up);
    fp_forward_eof(c->client_fd, &c->down);
    if (c->up.shut && c->down.shut) {
        fp_conn_close(st, index, false);
        return false;
    }
    return true;
reset:
    /* One side reset or failed: the other learns it the same way. */
    fp_conn_close(st, index, true);
    return false;
}

/* ---- the loop ------------------------------------------------------------- */

static short fp_client_events(const fp_conn_t *c, const fp_state_t *st)
{
    short ev = 0;
    if (!c->connecting && fp_up_room(c, st) > 0)
        ev |= POLLIN;
    if (c->down.len > c->down.off)
        ev |= POLLOUT;
    return ev;
}

static short fp_server_events(const fp_conn_t *c)
{
    if (c->connecting)
        return POLLOUT;
    short ev = 0;
    if (!c->down.eof && c->down.len < FP_BUF_SIZE)
        ev |= POLLIN;
    if (c->up.len > c->up.off)
        ev |= POLLOUT;
    return ev;
}

static int fp_run(fp_state_t *st, const sigset_t *wait_mask)
{
    static struct pollfd pfds[2 * FP_MAX_CONNS + 1];
    while (!fp_stop) {
        nfds_t n = 0;
        /* Slot 0: stdin while the target is unknown, then the listen socket. */
        pfds[n++] = (struct pollfd){.fd = st->have_target ? st->listen_fd : STDIN_FILENO, .events = POLLIN};
        for (size_t i = 0; i < st->conn_count; i++) {
            fp_conn_t *c = st->conns[i];
            short ce = fp_client_events(c, st), se = fp_server_events(c);
            /* A socket we want nothing from stays out of poll(), so that a
             * peer's hang-up cannot spin the loop while the other side drains. */
            c->client_pfd = ce ? (int)n : -1;
            if (ce)
                pfds[n++] = (struct pollfd){.fd = c->client_fd, .events = ce};
            c->server_pfd = se ? (int)n : -1;
            if (se)
                pfds[n++] = (struct pollfd){.fd = c->server_fd, .events = se};
        }
        int r = ppoll(pfds, n, NULL, wait_mask);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "faultproxy: poll: %s\n", strerror(errno));
            return 1;
        }
        /* Connections first: the table is only appended to by accepting,
         * which comes after, so the indexes in pfds stay valid. */
        for (size_t i = 0; i < st->conn_count;) {
            fp_conn_t *c = st->conns[i];
            short ce = c->client_pfd >= 0 ? pfds[c->client_pfd].revents : 0;
            short se = c->server_pfd >= 0 ? pfds[c->server_pfd].revents : 0;
            if ((ce || se) && !fp_conn_step(st, i, ce, se))
                continue; /* closed: the last connection moved into slot i */
            i++;
        }
        if (pfds[0].revents) {
            if (!st->have_target) {
                int t = fp_read_target(st);
                if (t < 0)
                    return 1;
            } else {
                fp_accept_all(st);
            }
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    static fp_state_t st;
    int rc = 1;
    st.listen_fd = -1;
    if (!fp_parse_args(argc, argv, &st.opt))
        return 2;
    /* Line-buffered even into a file or a pipe: tests read the port and the
     * drops while the proxy runs. */
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* SIGTERM and SIGINT are delivered only inside ppoll(), so a stop can
     * never fall between the check of fp_stop and the wait. */
    sigset_t block, wait_mask;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &wait_mask);
    sigdelset(&wait_mask, SIGTERM);
    sigdelset(&wait_mask, SIGINT);
    struct sigaction sa = {.sa_handler = fp_on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (strcmp(st.opt.target, "-") != 0 && !fp_set_target(&st, st.opt.target))
        return 2;
    st.listen_fd = fp_listen(st.opt.port);
    if (st.listen_fd < 0) {
        fprintf(stderr, "faultproxy: cannot listen on 127.0.0.1:%d: %s\n", st.opt.port, strerror(errno));
        return 1;
    }
    rc = fp_run(&st, &wait_mask);
    while (st.conn_count > 0)
        fp_conn_close(&st, st.conn_count - 1, false);
    close(st.listen_fd);
    printf("faultproxy: exiting: %lu connections, %lu dropped\n", st.accepted, st.dropped);
    return rc;
}
