/*
 * event_url.c: webhook URL checks and the host allow-list; see event_url.h.
 */
#include "events/event_url.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

static bool event_url_fail(char *err, size_t errlen, const char *reason)
{
    if (err && errlen > 0)
        snprintf(err, errlen, "%s", reason);
    return false;
}

/* The scheme prefix, or 0 when the URL has neither.  Checked on the text
 * before libcurl sees it, so no other scheme is ever parsed or guessed. */
static size_t event_url_scheme_len(const char *url)
{
    if (strncasecmp(url, "http://", 7) == 0)
        return 7;
    if (strncasecmp(url, "https://", 8) == 0)
        return 8;
    return 0;
}

/* Length, characters and scheme, on the raw text. */
static bool event_url_check_text(const char *url, char *err, size_t errlen)
{
    if (!url || !*url)
        return event_url_fail(err, errlen, "the URL is empty");
    size_t len = strnlen(url, EVENT_URL_MAX + 1);
    if (len > EVENT_URL_MAX)
        return event_url_fail(err, errlen, "the URL is longer than 2048 bytes");
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)url[i] <= ' ' || (unsigned char)url[i] >= 0x7f)
            return event_url_fail(err, errlen, "the URL holds whitespace, a control or a non-ASCII character");
    size_t scheme = event_url_scheme_len(url);
    if (scheme == 0)
        return event_url_fail(err, errlen, "the URL must start with http:// or https://");
    /* libcurl reads "http:///h" as host h; an empty authority is a mistake. */
    if (url[scheme] == '/' || url[scheme] == '\0')
        return event_url_fail(err, errlen, "the URL has no host");
    return true;
}

/* True when libcurl finds the part (an empty one included). */
static bool event_url_has_part(CURLU *h, CURLUPart part)
{
    char *value = NULL;
    CURLUcode rc = curl_url_get(h, part, &value, 0);
    curl_free(value);
    return rc == CURLUE_OK;
}

static bool event_url_is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
}

/* Letters, digits, '-', '_', '.'; no empty label except one trailing dot. */
static bool event_url_is_name(const char *s, size_t n)
{
    if (n == 0 || s[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!event_url_is_name_char(s[i]) || (s[i] == '.' && i + 1 < n && s[i + 1] == '.'))
            return false;
    return true;
}

/* "[" hex digits, ':' and '.' (an embedded IPv4) "]". */
static bool event_url_is_ipv6(const char *s, size_t n)
{
    if (n < 3 || s[0] != '[' || s[n - 1] != ']')
        return false;
    for (size_t i = 1; i + 1 < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F') ||
              s[i] == ':' || s[i] == '.'))
            return false;
    return true;
}

/* Copies the host lowercased and without a trailing dot, once it is known to be well formed. */
static bool event_url_take_host(const char *raw, char host[EVENT_URL_HOST_MAX + 1])
{
    size_t n = strlen(raw);
    if (n == 0 || n > EVENT_URL_HOST_MAX || !(event_url_is_name(raw, n) || event_url_is_ipv6(raw, n)))
        return false;
    if (raw[n - 1] == '.')
        n--;
    for (size_t i = 0; i < n; i++)
        host[i] = (char)tolower((unsigned char)raw[i]);
    host[n] = '\0';
    return true;
}

/* The parts libcurl found: scheme, no userinfo, a well-formed host. */
static bool event_url_check_parts(CURLU *h, char host[EVENT_URL_HOST_MAX + 1], char *err, size_t errlen)
{
    if (event_url_has_part(h, CURLUPART_USER) || event_url_has_part(h, CURLUPART_PASSWORD))
        return event_url_fail(err, errlen, "the URL holds a user name or password");
    if (event_url_has_part(h, CURLUPART_ZONEID))
        return event_url_fail(err, errlen, "the URL's IPv6 address has a zone id");
    char *raw = NULL;
    bool ok = curl_url_get(h, CURLUPART_HOST, &raw, 0) == CURLUE_OK && raw && event_url_take_host(raw, host);
    curl_free(raw);
    return ok || event_url_fail(err, errlen, "the URL's host is missing or not a valid host name");
}

/* The whole check; host receives the host when the URL passes. */
static bool event_url_parse(const char *url, char host[EVENT_URL_HOST_MAX + 1], char *err, size_t errlen)
{
    host[0] = '\0';
    if (!event_url_check_text(url, err, errlen))
        return false;
    CURLU *h = curl_url();
    if (!h)
        return event_url_fail(err, errlen, "out of memory");
    bool ok = curl_url_set(h, CURLUPART_URL, url, 0) == CURLUE_OK
                  ? event_url_check_parts(h, host, err, errlen)
                  : event_url_fail(err, errlen, "the URL is malformed");
    curl_url_cleanup(h);
    if (!ok)
        host[0] = '\0';
    return ok;
}

bool event_url_check(const char *url, char *err, size_t errlen)
{
    char host[EVENT_URL_HOST_MAX + 1];
    return event_url_parse(url, host, err, errlen);
}

bool event_url_host(const char *url, char host[EVENT_URL_HOST_MAX + 1])
{
    return event_url_parse(url, host, NULL, 0);
}

/* ---- the allow-list ------------------------------------------------------------ */

static bool event_url_is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* The next entry of a comma-separated list, blanks trimmed; *next moves past
 * it.  False at the end of the list.  Entries may be empty. */
static bool event_url_next_entry(const char **next, const char **entry, size_t *len)
{
    const char *s = *next;
    if (!s)
        return false;
    const char *comma = strchr(s, ',');
    const char *end = comma ? comma : s + strlen(s);
    while (s < end && event_url_is_blank(*s))
        s++;
    const char *e = end;
    while (e > s && event_url_is_blank(e[-1]))
        e--;
    *entry = s;
    *len = (size_t)(e - s);
    *next = comma ? comma + 1 : NULL;
    return true;
}

static bool event_url_list_is_blank(const char *list)
{
    for (; list && *list; list++)
        if (!event_url_is_blank(*list))
            return false;
    return true;
}

/* One entry against the host (lowercase, no trailing dot). */
static bool event_url_entry_matches(const char *entry, size_t n, const char *host, size_t host_len)
{
    if (n > 0 && entry[n - 1] == '.')
        n--;
    if (n > 2 && entry[0] == '*' && entry[1] == '.') {
        /* The suffix keeps its dot, so *.example.com never matches badexample.com,
         * and the host must be longer than it, so not example.com itself. */
        size_t suffix = n - 1;
        return host_len > suffix && strncasecmp(host + host_len - suffix, entry + 1, suffix) == 0;
    }
    return n == host_len && strncasecmp(host, entry, n) == 0;
}

bool event_url_host_allowed(const char *host, const char *allow_list)
{
    if (!host || !*host)
        return false;
    if (event_url_list_is_blank(allow_list))
        return true;
    const char *next = allow_list, *entry;
    size_t len, host_len = strlen(host);
    while (event_url_next_entry(&next, &entry, &len)) /* an empty entry matches no host */
        if (event_url_entry_matches(entry, len, host, host_len))
            return true;
    return false;
}

/* One non-empty entry: a name, "*." and a name, or a bracketed IPv6 address. */
static bool event_url_entry_valid(const char *entry, size_t n)
{
    if (n > EVENT_URL_HOST_MAX + 2)
        return false;
    if (n > 2 && entry[0] == '*' && entry[1] == '.')
        return event_url_is_name(entry + 2, n - 2);
    return event_url_is_name(entry, n) || event_url_is_ipv6(entry, n);
}

bool event_url_allow_list_check(const char *allow_list, char *err, size_t errlen)
{
    const char *next = allow_list, *entry;
    size_t len;
    while (event_url_next_entry(&next, &entry, &len)) {
        if (len == 1 && entry[0] == '*')
            return event_url_fail(err, errlen, "\"*\" is not an entry: leave the list empty to allow any host");
        if (len > 0 && !event_url_entry_valid(entry, len))
            return event_url_fail(err, errlen, "an entry is not a host name, *.suffix or [IPv6 address]");
    }
    return true;
}

bool event_url_permitted(const char *url, const char *allow_list, char *err, size_t errlen)
{
    char host[EVENT_URL_HOST_MAX + 1];
    if (!event_url_parse(url, host, err, errlen))
        return false;
    if (!event_url_host_allowed(host, allow_list))
        return event_url_fail(err, errlen, "the URL's host is not in the allow-list (webhook-allow-hosts, callback-allow-hosts)");
    return true;
}
