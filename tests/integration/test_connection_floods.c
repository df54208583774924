/*
 * test_connection_floods: connection floods against a real `vodup serve`
 * (security review, issue 10, findings 3 and 4).  The attacker's sockets
 * are bound to 127.0.0.2, a different loopback address from the victim's
 * 127.0.0.1, so that `connections-per-ip` bounds the attacker and not the
 * victim; the victim is a signed getVideoList that must answer within
 * API_DEADLINE_MS while the flood runs.
 *
 *   - slow headers: TRICKLE_CONNECTIONS connections each sending one header
 *     byte every TRICKLE_INTERVAL_MS (and reconnecting when closed), which
 *     used to take every slot of `connection-limit` for good;
 *   - half-closed: HALF_CLOSED_CONNECTIONS connections that send half a
 *     request head and close, which used to stay in CLOSE-WAIT (holding a
 *     slot) until the 60 s idle timeout; none may be left after a moment;
 *   - without the per-address bound, the header deadline alone closes a
 *     trickling connection within `header-timeout`, and the reaper closes
 *     half-closed connections at once; a connection that completed its
 *     request head is not subject to the deadline, and a client that
 *     half-closes after a complete request still gets its answer.
 *
 * Bounded: loopback only, a few thousand sockets (fewer when the descriptor
 * limit is lower), about a minute in all; every server is stopped by PID.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define ATTACKER_ADDR "127.0.0.2"
#define TRICKLE_CONNECTIONS 1100
#define TRICKLE_INTERVAL_MS 2000
#define HALF_CLOSED_CONNECTIONS 2500
#define HALF_CLOSED_MAX_MS 20000 /* the flood stops making connections after this */
#define API_DEADLINE_MS 2000
#define PROBE_TIMEOUT_MS 10000 /* a failing probe still ends the test in bounded time */
#define PROBES 5
#define FD_MARGIN 200          /* descriptors the test needs besides the attacker's */

static const char trickle_head[] = "GET /vod/videoManage/getVideoList HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
                                   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char half_head[] = "GET /vod/videoManage/getVideoList HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ";

static int fd_budget; /* attacker sockets this process may hold at once */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Raises the soft descriptor limit to the hard one (the servers this test
 * starts inherit it) and says how many attacker sockets fit. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    long limit = rl.rlim_cur == RLIM_INFINITY ? 1 << 20 : (long)rl.rlim_cur;
    fd_budget = (int)(limit > 2L * FD_MARGIN ? limit - FD_MARGIN : limit / 2);
    print_message("  descriptor limit %ld: up to %d attacker sockets at once\n", limit, fd_budget);
}

/* ---- the attacker's sockets ----------------------------------------------- */

/* A socket from ATTACKER_ADDR to the server, connecting without blocking
 * (blocking: false) or within 1 s.  -1 on failure. */
static int attacker_socket(const harness_server_t *s, bool blocking)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (blocking ? 0 : SOCK_NONBLOCK), 0);
    if (fd < 0)
        return -1;
    int one = 1;
    /* The port is chosen at connect, for the 4-tuple: thousands of
     * reconnections then never collide with the server's TIME-WAITs. */
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
    struct timeval tv = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    struct sockaddr_in from = {.sin_family = AF_INET}, to = {.sin_family = AF_INET};
    inet_pton(AF_INET, ATTACKER_ADDR, &from.sin_addr);
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    to.sin_port = htons((uint16_t)s->port);
    if (bind(fd, (struct sockaddr *)&from, sizeof(from)) != 0 ||
        (connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0 && errno != EINPROGRESS)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Whether ATTACKER_ADDR can be used at all (Linux routes all of 127/8 to lo). */
static bool attacker_address_usable(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in from = {.sin_family = AF_INET};
    inet_pton(AF_INET, ATTACKER_ADDR, &from.sin_addr);
    bool ok = fd >= 0 && bind(fd, (struct sockaddr *)&from, sizeof(from)) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* Whether the server has closed this connection (end of stream or reset). */
static bool server_closed(int fd)
{
    char buf[512];
    ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTCONN);
}

/* ---- the slow-headers flood ------------------------------------------------ */

typedef struct trickle_flood {
    const harness_server_t *srv;
    int count;
    int *fds;
    size_t *sent; /* bytes of trickle_head each has sent */
    atomic_bool stop;
    atomic_int held;               /* sockets that have trickled for two rounds or more */
    atomic_uint_fast64_t closed;   /* closed by the server, in total */
    pthread_t thread;
} trickle_flood_t;

/* One byte more on one connection, or a new connection in place of a closed one. */
static void trickle_one(trickle_flood_t *f, int i)
{
    if (f->fds[i] >= 0 && server_closed(f->fds[i])) {
        close(f->fds[i]);
        f->fds[i] = -1;
        atomic_fetch_add(&f->closed, 1);
    }
    if (f->fds[i] < 0) {
        f->fds[i] = attacker_socket(f->srv, false);
        f->sent[i] = 0;
        return;
    }
    if (f->sent[i] < sizeof(trickle_head) - 1 &&
        send(f->fds[i], trickle_head + f->sent[i], 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1)
        f->sent[i]++;
}

static void *trickle_run(void *arg)
{
    trickle_flood_t *f = arg;
    while (!atomic_load(&f->stop)) {
        int64_t next = mono_ms() + TRICKLE_INTERVAL_MS;
        int held = 0;
        for (int i = 0; i < f->count; i++) {
            trickle_one(f, i);
            held += f->fds[i] >= 0 && f->sent[i] >= 2;
        }
        atomic_store(&f->held, held);
        while (!atomic_load(&f->stop) && mono_ms() < next)
            sleep_ms(20);
    }
    return NULL;
}

static void trickle_start(trickle_flood_t *f, const harness_server_t *s, int count)
{
    memset(f, 0, sizeof(*f));
    f->srv = s;
    f->count = count;
    f->fds = malloc(sizeof(int) * (size_t)count);
    f->sent = calloc((size_t)count, sizeof(size_t));
    assert_non_null(f->fds);
    assert_non_null(f->sent);
    for (int i = 0; i < count; i++)
        f->fds[i] = -1;
    assert_int_equal(pthread_create(&f->thread, NULL, trickle_run, f), 0);
}

static void trickle_stop(trickle_flood_t *f)
{
    atomic_store(&f->stop, true);
    pthread_join(f->thread, NULL);
    for (int i = 0; i < f->count; i++)
        if (f->fds[i] >= 0)
            close(f->fds[i]);
    free(f->fds);
    free(f->sent);
}

/* ---- the victim ------------------------------------------------------------- */

static size_t discard_cb(char *data, size_t size, size_t n, void *arg)
{
    (void)data;
    (void)arg;
    return size * n;
}

/* A signed getVideoList from 127.0.0.1; its status (0: no answer within
 * PROBE_TIMEOUT_MS) and how long it took. */
static long probe_api(harness_server_t *s, int64_t *elapsed_ms)
{
    harness_request_t req = {.path = HARNESS_PATH_LIST};
    struct curl_slist *headers = harness_request_headers(s, &req, NULL);
    char *url = harness_url(s, HARNESS_PATH_LIST);
    CURL *c = curl_easy_init();
    assert_true(headers && url && c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)PROBE_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_cb);
    int64_t t0 = mono_ms();
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    *elapsed_ms = mono_ms() - t0;
    curl_easy_cleanup(c);
    curl_slist_free_all(headers);
    free(url);
    return status;
}

/* PROBES calls, one a second; each must be a 200 within API_DEADLINE_MS.
 * `progress` (printed with each call) says how far the flood is.  Returns
 * how many were not; *slowest gets the slowest, in ms.  The caller asserts
 * once its flood is stopped, so that a failure leaves no flood behind. */
static int probe_during_flood(harness_server_t *s, const char *progress_label, atomic_int *progress,
                              int64_t *slowest)
{
    int failures = 0;
    *slowest = 0;
    for (int i = 0; i < PROBES; i++) {
        int64_t ms;
        long status = probe_api(s, &ms);
        print_message("  %s %5d: getVideoList -> %ld in %lld ms\n", progress_label, atomic_load(progress), status,
                      (long long)ms);
        failures += status != 200 || ms > API_DEADLINE_MS;
        *slowest = ms > *slowest ? ms : *slowest;
        sleep_ms(1000);
    }
    return failures;
}

/* ---- the half-closed flood -------------------------------------------------- */

typedef struct half_flood {
    const harness_server_t *srv;
    int count;
    atomic_int done;
    atomic_int connected;
    int64_t elapsed_ms; /* from the first connection to the last; read after the join */
    pthread_t thread;
} half_flood_t;

static void *half_run(void *arg)
{
    half_flood_t *f = arg;
    int64_t until = mono_ms() + HALF_CLOSED_MAX_MS; /* connects block when the backlog is full */
    for (int i = 0; i < f->count && mono_ms() < until; i++) {
        int fd = attacker_socket(f->srv, true);
        if (fd >= 0) {
            if (send(fd, half_head, sizeof(half_head) - 1, MSG_NOSIGNAL) > 0)
                atomic_fetch_add(&f->connected, 1);
            close(fd); /* the FIN follows the bytes at once */
        }
        atomic_store(&f->done, i + 1);
    }
    f->elapsed_ms = mono_ms() - (until - HALF_CLOSED_MAX_MS);
    return NULL;
}

/* Sockets of the server's port in CLOSE-WAIT (/proc/net/tcp state 08):
 * connections the client closed and the server still holds. */
static int close_wait_count(int port)
{
    FILE *f = fopen("/proc/net/tcp", "r");
    if (!f)
        return -1;
    char line[512];
    int n = 0;
    while (fgets(line, sizeof(line), f)) {
        unsigned local_port, state;
        if (sscanf(line, " %*d: %*8[0-9A-Fa-f]:%x %*8[0-9A-Fa-f]:%*x %x", &local_port, &state) == 2 &&
            (int)local_port == port && state == 0x08)
            n++;
    }
    fclose(f);
    return n;
}

/* ---- tests ------------------------------------------------------------------ */

static harness_server_t *start_server(const char *const *args)
{
    harness_server_t *s = harness_server_start(args);
    assert_non_null(s);
    harness_response_t r;
    assert_true(harness_call(s, NULL, "GET", HARNESS_PATH_LIST, NULL, NULL, &r));
    assert_api_ok(&r);
    harness_response_free(&r);
    return s;
}

static void test_slow_headers_flood(void **state)
{
    (void)state;
    harness_server_t *s = start_server(NULL); /* defaults: header-timeout 10, connections-per-ip 64 */
    int count = TRICKLE_CONNECTIONS < fd_budget ? TRICKLE_CONNECTIONS : fd_budget;
    trickle_flood_t f;
    trickle_start(&f, s, count);
    sleep_ms(2 * TRICKLE_INTERVAL_MS + 500); /* every socket connected and trickling (or refused) */
    int64_t slowest;
    int failures = probe_during_flood(s, "attacker connections still trickling:", &f.held, &slowest);
    trickle_stop(&f);
    print_message("  slow headers: %d connections from %s, %llu closed by the server; slowest call %lld ms\n",
                  count, ATTACKER_ADDR, (unsigned long long)atomic_load(&f.closed), (long long)slowest);
    assert_int_equal(failures, 0);
    assert_int_equal(harness_server_stop(s), 0);
}

static void test_half_closed_flood(void **state)
{
    (void)state;
    harness_server_t *s = start_server(NULL);
    half_flood_t f = {.srv = s, .count = HALF_CLOSED_CONNECTIONS};
    assert_int_equal(pthread_create(&f.thread, NULL, half_run, &f), 0);
    int64_t slowest;
    int failures = probe_during_flood(s, "half-closed connections made so far:", &f.done, &slowest);
    pthread_join(f.thread, NULL);
    /* What is left in CLOSE-WAIT, a moment after the last one. */
    int left = -1;
    int64_t until = mono_ms() + 3000;
    while ((left = close_wait_count(s->port)) > 0 && mono_ms() < until)
        sleep_ms(100);
    int64_t ms;
    long status = probe_api(s, &ms);
    print_message("  half-closed: %d of %d connected in %lld ms; %d left in CLOSE-WAIT; slowest call %lld ms, "
                  "then %ld in %lld ms\n",
                  atomic_load(&f.connected), f.count, (long long)f.elapsed_ms, left, (long long)slowest, status,
                  (long long)ms);
    assert_int_equal(failures, 0);
    assert_int_equal(left, 0);
    assert_int_equal(status, 200);
    assert_true(ms <= API_DEADLINE_MS);
    assert_int_equal(harness_server_stop(s), 0);
}

/* Milliseconds until the server closes a connection that trickles a byte
 * every 100 ms; -1 when it is still open after limit_ms. */
static int64_t trickle_until_closed(const harness_server_t *s, int limit_ms)
{
    int fd = attacker_socket(s, true);
    assert_true(fd >= 0);
    int64_t t0 = mono_ms();
    for (size_t i = 0; mono_ms() - t0 < limit_ms; i = (i + 1) % (sizeof(trickle_head) - 1)) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) > 0 && server_closed(fd))
            break;
        send(fd, trickle_head + i, 1, MSG_NOSIGNAL);
    }
    int64_t ms = mono_ms() - t0;
    close(fd);
    return ms < limit_ms ? ms : -1;
}

static void test_header_deadline_alone(void **state)
{
    (void)state;
    static const char *const args[] = {"--header-timeout", "1", "--connections-per-ip", "65536", NULL};
    harness_server_t *s = start_server(args);
    int64_t ms = trickle_until_closed(s, 5000);
    print_message("  --header-timeout 1: a trickling connection was closed after %lld ms\n", (long long)ms);
    assert_true(ms >= 900 && ms <= 1000 + 2 * 200 + 300); /* the deadline, two reaper scans, slack */

    /* A connection that completed a request is not subject to the deadline. */
    int fd = attacker_socket(s, true);
    assert_true(fd >= 0);
    static const char healthz[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    char buf[1024];
    for (int round = 0; round < 2; round++) {
        assert_int_equal(send(fd, healthz, sizeof(healthz) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(healthz) - 1);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        assert_int_equal(poll(&p, 1, 5000), 1);
        ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
        assert_true(n > 12);
        assert_memory_equal(buf, "HTTP/1.1 200", 12);
        if (round == 0)
            sleep_ms(2500); /* past the deadline, idle and kept alive */
    }
    close(fd);
    print_message("  a kept-alive connection idle for 2.5 s still served its second request\n");
    assert_int_equal(harness_server_stop(s), 0);
}

/* Half-closed connections are reaped by the peer watch, not by the
 * deadline (10 s here) nor the idle timeout (60 s); a client that
 * half-closes after a complete request still gets its answer. */
static void test_half_closed_reaped_alone(void **state)
{
    (void)state;
    enum { HALF = 200, WHOLE = 20 };
    static const char *const args[] = {"--connections-per-ip", "65536", NULL};
    harness_server_t *s = start_server(args);
    int half[HALF], whole[WHOLE];
    static const char healthz[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    for (int i = 0; i < HALF; i++) {
        half[i] = attacker_socket(s, true);
        assert_true(half[i] >= 0);
        send(half[i], half_head, sizeof(half_head) - 1, MSG_NOSIGNAL);
        shutdown(half[i], SHUT_WR);
    }
    for (int i = 0; i < WHOLE; i++) {
        whole[i] = attacker_socket(s, true);
        assert_true(whole[i] >= 0);
        send(whole[i], healthz, sizeof(healthz) - 1, MSG_NOSIGNAL);
        shutdown(whole[i], SHUT_WR);
    }
    int64_t t0 = mono_ms();
    int open = HALF;
    while (open > 0 && mono_ms() - t0 < 3000) {
        sleep_ms(50);
        open = 0;
        for (int i = 0; i < HALF; i++)
            open += half[i] >= 0 && !server_closed(half[i]);
    }
    int64_t ms = mono_ms() - t0;
    int answered = 0;
    char buf[1024];
    for (int i = 0; i < WHOLE; i++) {
        struct pollfd p = {.fd = whole[i], .events = POLLIN};
        ssize_t n = poll(&p, 1, 2000) == 1 ? recv(whole[i], buf, sizeof(buf) - 1, MSG_DONTWAIT) : -1;
        answered += n > 12 && memcmp(buf, "HTTP/1.1 200", 12) == 0;
        close(whole[i]);
    }
    for (int i = 0; i < HALF; i++)
        close(half[i]);
    print_message("  %d half-closed connections: %d still open after %lld ms; %d of %d half-closed after a "
                  "whole request answered 200\n",
                  HALF, open, (long long)ms, answered, WHOLE);
    assert_int_equal(open, 0);
    assert_int_equal(answered, WHOLE);
    assert_int_equal(harness_server_stop(s), 0);
}

/* Opens n connections from ATTACKER_ADDR, then sends a /healthz on each:
 * how many the server answered 200. */
static int healthz_on_each(const harness_server_t *s, int n)
{
    static const char healthz[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    int fds[16], answered = 0;
    assert_true(n <= 16);
    for (int i = 0; i < n; i++)
        assert_true((fds[i] = attacker_socket(s, true)) >= 0);
    sleep_ms(300); /* every connection accepted (or refused) before any request */
    for (int i = 0; i < n; i++) {
        char buf[64];
        send(fds[i], healthz, sizeof(healthz) - 1, MSG_NOSIGNAL);
        struct pollfd p = {.fd = fds[i], .events = POLLIN};
        ssize_t got = poll(&p, 1, 2000) == 1 ? recv(fds[i], buf, sizeof(buf), MSG_DONTWAIT) : -1;
        answered += got > 12 && memcmp(buf, "HTTP/1.1 200", 12) == 0;
        close(fds[i]);
    }
    return answered;
}

/* connections-per-ip bounds each address but a trusted proxy's: every
 * connection through a reverse proxy comes from the proxy. */
static void test_per_ip_bound_spares_trusted_proxies(void **state)
{
    (void)state;
    static const char *const bounded[] = {"--connections-per-ip", "4", NULL};
    harness_server_t *s = start_server(bounded);
    int answered = healthz_on_each(s, 10);
    print_message("  untrusted %s, connections-per-ip 4: %d of 10 connections answered\n", ATTACKER_ADDR, answered);
    assert_int_equal(answered, 4);
    assert_int_equal(harness_server_stop(s), 0);
    static const char *const proxied[] = {"--connections-per-ip", "4", "--trusted-proxies", ATTACKER_ADDR, NULL};
    s = start_server(proxied);
    answered = healthz_on_each(s, 10);
    print_message("  trusted proxy %s, connections-per-ip 4: %d of 10 connections answered\n", ATTACKER_ADDR,
                  answered);
    assert_int_equal(answered, 10);
    assert_int_equal(harness_server_stop(s), 0);
}

/* Every test needs a second loopback address for the attacker. */
static int test_setup(void **state)
{
    (void)state;
    if (!attacker_address_usable()) {
        print_message("  cannot bind %s (Linux routes all of 127/8 to lo; this system does not): skipped\n",
                      ATTACKER_ADDR);
        skip();
    }
    return 0;
}

int main(void)
{
    raise_fd_limit();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_header_deadline_alone, test_setup),
        cmocka_unit_test_setup(test_half_closed_reaped_alone, test_setup),
        cmocka_unit_test_setup(test_slow_headers_flood, test_setup),
        cmocka_unit_test_setup(test_half_closed_flood, test_setup),
        cmocka_unit_test_setup(test_per_ip_bound_spares_trusted_proxies, test_setup),
    };
    return cmocka_run_group_tests_name("integration.test_connection_floods", tests, NULL, NULL);
}
