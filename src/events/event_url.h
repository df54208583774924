/*
 * event_url: which URLs vodup may POST webhooks to.
 *
 * A webhook URL comes from whoever configures an account's webhook, so it is
 * untrusted text.  A URL passes event_url_check() when it is at most
 * EVENT_URL_MAX bytes of printable ASCII (no whitespace, no control
 * characters, no bytes >= 0x80: an internationalised host is written in
 * punycode), starts with "http://" or "https://" (any case), has a host, and
 * has no userinfo (user:pass@): credentials in a URL end up in logs, and
 * "https://trusted.example@evil.example/" is a classic way to mislead a
 * reader.  The host must be a DNS name or IPv4 address of letters, digits,
 * '-', '_' and '.' with no empty label, or a bracketed IPv6 address without
 * a zone id.
 *
 * The URL is split by libcurl's own parser (curl_url()), not by hand: the
 * host checked here is the host libcurl connects to when event_http sends
 * the request, including libcurl's normalisations (http://0x7f.1/ is
 * 127.0.0.1, IPv6 addresses are written in their shortest form).
 *
 * The operator's allow-list is a comma-separated list of entries, each a
 * host name ("hooks.example.com", matched exactly) or "*.suffix"
 * ("*.example.com" matches a.example.com and a.b.example.com, not
 * example.com itself, nor badexample.com).  Blanks around entries are
 * ignored; comparison ignores case and one trailing dot.  A list that is
 * NULL or blank allows any host; a list of only commas allows none (a list
 * the operator wrote but that names nothing fails closed).
 *
 * An allow-list of names does not stop a name that resolves to an internal
 * address; see event_http.h.  Pure functions: no I/O, no logging; libcurl's
 * URL handle is the only allocation, freed before returning.
 */
#ifndef VODUP_EVENT_URL_H
#define VODUP_EVENT_URL_H

#include <stdbool.h>
#include <stddef.h>

#define EVENT_URL_MAX 2048      /* bytes of a webhook URL */
#define EVENT_URL_HOST_MAX 255  /* a DNS name's limit; host buffers hold one more */
#define EVENT_URL_ERROR_MAX 96  /* enough for every reason this module gives */

/* True when `url` is an acceptable webhook URL (see above).  Otherwise err
 * (may be NULL) receives a short reason that never quotes the URL. */
bool event_url_check(const char *url, char *err, size_t errlen);

/* The host of a URL that passes event_url_check(), lowercased and without a
 * trailing dot, into host.  False (host "") for any other URL. */
bool event_url_host(const char *url, char host[EVENT_URL_HOST_MAX + 1]);

/* True when `host` (as event_url_host() gives it) matches allow_list. */
bool event_url_host_allowed(const char *host, const char *allow_list);

/* True when every entry of allow_list is a host name, "*.suffix" or a
 * bracketed IPv6 address (for checking the option when it is loaded; a bare
 * "*" is refused: a blank list is how to allow any host).  err as above. */
bool event_url_allow_list_check(const char *allow_list, char *err, size_t errlen);

/* event_url_check() and then the allow-list: what a delivery needs. */
bool event_url_permitted(const char *url, const char *allow_list, char *err, size_t errlen);

#endif
