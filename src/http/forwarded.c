/* forwarded: trusted proxies and the client behind them; see forwarded.h. */
#include "http/forwarded.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* Parses an address into family and 16 bytes; an IPv4-mapped IPv6 address
 * ("::ffff:10.0.0.1", as a dual-stack socket reports IPv4 peers) counts as
 * the IPv4 address, so one list entry covers both spellings. */
static bool forwarded_addr_parse(const char *text, int *family, uint8_t addr[16])
{
    memset(addr, 0, 16);
    if (inet_pton(AF_INET, text, addr) == 1) {
        *family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, text, addr) != 1)
        return false;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    *family = AF_INET6;
    if (memcmp(addr, mapped, sizeof(mapped)) == 0) {
        memmove(addr, addr + 12, 4);
        memset(addr + 4, 0, 12);
        *family = AF_INET;
    }
    return true;
}

static void forwarded_mask(uint8_t addr[16], int prefix)
{
    for (int i = 0; i < 16; i++) {
        int keep = prefix - i * 8;
        addr[i] &= keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
    }
}

/* One entry, "ADDR" or "ADDR/PREFIX", already trimmed. */
static bool forwarded_net_parse(const char *entry, forwarded_net_t *net)
{
    char text[FORWARDED_ADDR_MAX + 8];
    if (strlen(entry) >= sizeof(text))
        return false;
    snprintf(text, sizeof(text), "%s", entry);
    char *slash = strchr(text, '/');
    if (slash)
        *slash = '\0';
    if (!forwarded_addr_parse(text, &net->family, net->addr))
        return false;
    int max = net->family == AF_INET ? 32 : 128;
    net->prefix = max;
    if (slash) {
        char *end;
        long v = strtol(slash + 1, &end, 10);
        if (slash[1] < '0' || slash[1] > '9' || *end || v > max)
            return false;
        net->prefix = (int)v;
    }
    forwarded_mask(net->addr, net->prefix);
    return true;
}

/* Copies the next comma-separated item of *p, trimmed, into out (cut to
 * outlen - 1 bytes, which then fails to parse as anything); advances *p. */
static void forwarded_next_item(const char **p, char *out, size_t outlen)
{
    const char *s = *p;
    const char *comma = strchr(s, ',');
    size_t len = comma ? (size_t)(comma - s) : strlen(s);
    *p = comma ? comma + 1 : s + len;
    while (len > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len >= outlen)
        len = outlen - 1;
    memcpy(out, s, len);
    out[len] = '\0';
}

void forwarded_sockaddr_text(const struct sockaddr *sa, char out[FORWARDED_ADDR_MAX])
{
    out[0] = '\0';
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, FORWARDED_ADDR_MAX);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, FORWARDED_ADDR_MAX);
}

bool forwarded_proxies_parse(const char *list, forwarded_proxies_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    const char *p = list ? list : "";
    while (*p) {
        char item[FORWARDED_ADDR_MAX + 8];
        forwarded_next_item(&p, item, sizeof(item));
        if (!item[0])
            continue;
        if (out->count == FORWARDED_MAX_NETS) {
            snprintf(err, errlen, "more than %d entries", FORWARDED_MAX_NETS);
            return false;
        }
        if (!forwarded_net_parse(item, &out->nets[out->count])) {
            snprintf(err, errlen, "'%s' is not an IP address or ADDRESS/PREFIX range", item);
            return false;
        }
        out->count++;
    }
    return true;
}

bool forwarded_is_trusted(const forwarded_proxies_t *p, const char *addr)
{
    int family;
    uint8_t bytes[16];
    if (p->count == 0 || !addr || !forwarded_addr_parse(addr, &family, bytes))
        return false;
    for (size_t i = 0; i < p->count; i++) {
        const forwarded_net_t *n = &p->nets[i];
        uint8_t masked[16];
        memcpy(masked, bytes, sizeof(masked));
        forwarded_mask(masked, n->prefix);
        if (n->family == family && memcmp(masked, n->addr, sizeof(masked)) == 0)
            return true;
    }
    return false;
}

/* X-Forwarded-For entries are bare addresses from nginx, but other proxies
 * write "[v6]:port" or "v4:port": the port is dropped. */
static void forwarded_strip_port(char *entry)
{
    size_t len = strlen(entry);
    if (entry[0] == '[') {
        char *close = strchr(entry, ']');
        if (close) {
            memmove(entry, entry + 1, (size_t)(close - entry - 1));
            entry[close - entry - 1] = '\0';
        }
        return;
    }
    char *colon = strchr(entry, ':');
    if (colon && colon == strrchr(entry, ':') && len < FORWARDED_ADDR_MAX)
        *colon = '\0';
}

void forwarded_client(const forwarded_proxies_t *p, const char *peer, const char *xff,
                      char out[FORWARDED_ADDR_MAX])
{
    snprintf(out, FORWARDED_ADDR_MAX, "%s", peer ? peer : "");
    if (!xff || !forwarded_is_trusted(p, peer))
        return;
    /* Walk from the right: each trusted hop vouches for the entry before it. */
    size_t end = strlen(xff);
    while (end > 0) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        char entry[FORWARDED_ADDR_MAX + 8];
        const char *item = xff + start;
        forwarded_next_item(&item, entry, sizeof(entry)); /* up to the comma at `end` */
        forwarded_strip_port(entry);
        int family;
        uint8_t bytes[16];
        if (!forwarded_addr_parse(entry, &family, bytes))
            return; /* not an address: the last trusted hop stands */
        size_t n = strnlen(entry, FORWARDED_ADDR_MAX - 1); /* an address is shorter */
        memcpy(out, entry, n);
        out[n] = '\0';
        if (!forwarded_is_trusted(p, entry))
            return;
        end = start > 0 ? start - 1 : 0;
    }
}

const char *forwarded_proto(const forwarded_proxies_t *p, const char *peer, const char *xfp)
{
    if (!xfp || !forwarded_is_trusted(p, peer))
        return NULL;
    const char *last = strrchr(xfp, ',');
    last = last ? last + 1 : xfp;
    while (*last == ' ' || *last == '\t')
        last++;
    size_t len = strlen(last);
    while (len > 0 && (last[len - 1] == ' ' || last[len - 1] == '\t'))
        len--;
    if (len == 5 && strncasecmp(last, "https", 5) == 0)
        return "https";
    if (len == 4 && strncasecmp(last, "http", 4) == 0)
        return "http";
    return NULL;
}
