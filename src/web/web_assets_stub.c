/* TEMPORARY: until the generated asset table lands. */
#include "web/web_assets.h"
#include <string.h>
static const unsigned char stub_html[] = "<!doctype html><title>vodup upload</title><p>page</p>";
static const web_asset_t stub = {"index.html", "text/html; charset=utf-8", stub_html, sizeof(stub_html) - 1, "\"stub\""};
const web_asset_t *web_asset_find(const char *name)
{
    return strcmp(name, "index.html") == 0 ? &stub : NULL;
}
