/*
 * fuzz_event_url: webhook URLs come from whoever configures an account's
 * webhook, and the allow-list from the operator; both reach
 * events/event_url.c as arbitrary text.  The input is "URL\nALLOW-LIST"
 * (no newline: the whole input is the URL and the list is empty).
 *
 * Whatever is accepted must satisfy what event_url.h promises: the URL is
 * bounded printable ASCII starting with http:// or https://, its host is
 * non-empty, lowercase, within the DNS limit and holds no userinfo or
 * blank, the host check agrees with the URL check, a host always matches a
 * list naming exactly it and never the "*." wildcard of itself, and
 * event_url_permitted() is exactly check-then-list.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "events/event_url.h"

static void fuzz_check(int cond)
{
    if (!cond)
        __builtin_trap();
}

static void fuzz_accepted_host(const char *host)
{
    size_t n = strlen(host);
    fuzz_check(n >= 1 && n <= EVENT_URL_HOST_MAX);
    for (size_t i = 0; i < n; i++)
        fuzz_check(host[i] > ' ' && host[i] < 0x7f && host[i] != '@' && host[i] != ',' &&
                   !(host[i] >= 'A' && host[i] <= 'Z'));
    fuzz_check(host[n - 1] != '.');
    fuzz_check(event_url_host_allowed(host, NULL));
    fuzz_check(event_url_host_allowed(host, host));
    char wildcard[EVENT_URL_HOST_MAX + 3] = "*.";
    memcpy(wildcard + 2, host, n + 1);
    fuzz_check(!event_url_host_allowed(host, wildcard));
}

static void fuzz_url(const char *url, const char *list)
{
    char err[EVENT_URL_ERROR_MAX];
    char host[EVENT_URL_HOST_MAX + 1];
    int ok = event_url_check(url, err, sizeof(err));
    fuzz_check(ok == event_url_host(url, host));
    if (ok) {
        fuzz_check(strlen(url) <= EVENT_URL_MAX);
        fuzz_check(strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0);
        fuzz_accepted_host(host);
        fuzz_check(event_url_permitted(url, list, err, sizeof(err)) == event_url_host_allowed(host, list));
    } else {
        fuzz_check(host[0] == '\0');
        fuzz_check(!event_url_permitted(url, list, err, sizeof(err)));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *newline = strchr(text, '\n');
    const char *list = "";
    if (newline) {
        *newline = '\0';
        list = newline + 1;
    }
    fuzz_url(text, list);
    char err[EVENT_URL_ERROR_MAX];
    (void)event_url_allow_list_check(list, err, sizeof(err));
    (void)event_url_host_allowed(text, list);
    free(text);
    return 0;
}
