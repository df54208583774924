/*
 * forwarded: who sent a request when vodup sits behind reverse proxies.
 *
 * The trusted-proxies option lists addresses and CIDR ranges (IPv4 or IPv6,
 * comma-separated).  X-Forwarded-For and X-Forwarded-Proto are believed only
 * when the connection's peer is in that list: from anyone else they are
 * client-written text, and believing them would let a client pick the
 * address its limits and log lines are charged to, or the scheme of the URLs
 * an answer gives.  Through a chain of proxies the client is the rightmost
 * X-Forwarded-For entry that is not itself a trusted proxy (what each proxy
 * appended); everything left of it was written by the client and is
 * ignored.  Pure functions over text: no sockets, no allocation.
 */
#ifndef VODUP_HTTP_FORWARDED_H
#define VODUP_HTTP_FORWARDED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FORWARDED_MAX_NETS 32
#define FORWARDED_ADDR_MAX 46 /* INET6_ADDRSTRLEN */

typedef struct forwarded_net {
    int family;        /* AF_INET or AF_INET6 */
    uint8_t addr[16];  /* network bytes, host bits cleared */
    int prefix;        /* 0..32 or 0..128 */
} forwarded_net_t;

typedef struct forwarded_proxies {
    forwarded_net_t nets[FORWARDED_MAX_NETS];
    size_t count; /* 0: no proxy is trusted, the headers are never read */
} forwarded_proxies_t;

struct sockaddr;

/* A socket address (AF_INET or AF_INET6; sa may be NULL) as text, "" for
 * anything else. */
void forwarded_sockaddr_text(const struct sockaddr *sa, char out[FORWARDED_ADDR_MAX]);

/* Parses the trusted-proxies list ("" gives an empty set).  False, with a
 * message naming the bad entry in err, on a malformed one or more than
 * FORWARDED_MAX_NETS entries. */
bool forwarded_proxies_parse(const char *list, forwarded_proxies_t *out, char *err, size_t errlen);

/* Whether the textual address (IPv4, IPv6, or IPv4-mapped IPv6) is in the
 * set.  False for anything that is not an address. */
bool forwarded_is_trusted(const forwarded_proxies_t *p, const char *addr);

/* The client's address: the peer itself unless the peer is trusted; then the
 * rightmost X-Forwarded-For entry (xff may be NULL) that is not trusted.  An
 * entry that is not an address ends the walk at the last trusted hop seen.
 * Writes at most FORWARDED_ADDR_MAX bytes including the NUL. */
void forwarded_client(const forwarded_proxies_t *p, const char *peer, const char *xff,
                      char out[FORWARDED_ADDR_MAX]);

/* "https" or "http" from a trusted peer's X-Forwarded-Proto (its last
 * entry, as the nearest proxy set it); NULL when the peer is not trusted or
 * the header is absent or names anything else. */
const char *forwarded_proto(const forwarded_proxies_t *p, const char *peer, const char *xfp);

#endif
