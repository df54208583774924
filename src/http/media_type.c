/* media_type: the playback origin's Content-Type allow-list; see media_type.h. */
#include "http/media_type.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define MEDIA_TYPE_FALLBACK "application/octet-stream"

/*
 * The allow-list.  A pattern ending in '/' admits every subtype of that
 * type.  `inline_ok` false still sends the type (players fetch manifests
 * with XHR and ignore Content-Disposition) but as an attachment, so that a
 * browser navigating to it never renders it: browsers render XML types as
 * documents, and XHTML inside one would run script.
 */
static const struct {
    const char *pattern;
    bool inline_ok;
} media_type_allowed[] = {
    {"video/", true},                        /* video/mp2t among them */
    {"audio/", true},
    {"application/vnd.apple.mpegurl", true}, /* HLS playlists; Safari plays them when opened */
    {"application/x-mpegurl", true},         /* the older HLS spelling */
    {"application/dash+xml", false},         /* DASH manifests: XML */
    {"application/mxf", true},               /* upload's own name for .mxf */
    {"text/vtt", true},                      /* subtitles */
    {"image/jpeg", true},                    /* covers and thumbnails */
    {"image/png", true},
    {"image/webp", true},
};

/* RFC 6838 restricted-name characters (type and subtype). */
static bool media_type_name_char(unsigned char c)
{
    return isalnum(c) || (c && strchr("!#$&-^_.+", c));
}

/* Copies the essence ("type/subtype", lower-cased, parameters dropped) of
 * s into out; false unless it is two non-empty restricted names. */
static bool media_type_essence(const char *s, char out[MEDIA_TYPE_MAX + 1])
{
    size_t n = 0, slash = 0;
    for (; s[n] && s[n] != ';'; n++) {
        unsigned char c = (unsigned char)s[n];
        if (n == MEDIA_TYPE_MAX)
            return false;
        if (c == '/' && !slash && n > 0)
            slash = n;
        else if (!media_type_name_char(c))
            return false;
        out[n] = (char)tolower(c);
    }
    out[n] = '\0';
    return slash && slash + 1 < n;
}

/* Whether a subtype ends in "+xml": Firefox renders any such type as an
 * XML document, so "video/x+xml" must not pass as video. */
static bool media_type_is_xml(const char *essence)
{
    size_t n = strlen(essence);
    return n >= 4 && strcmp(essence + n - 4, "+xml") == 0;
}

void media_type_for_playback(const char *stored, media_type_answer_t *out)
{
    char essence[MEDIA_TYPE_MAX + 1];
    if (stored && media_type_essence(stored, essence)) {
        for (size_t i = 0; i < sizeof(media_type_allowed) / sizeof(media_type_allowed[0]); i++) {
            const char *p = media_type_allowed[i].pattern;
            size_t plen = strlen(p);
            bool any_subtype = p[plen - 1] == '/';
            if (any_subtype ? strncmp(essence, p, plen) != 0 || media_type_is_xml(essence) : strcmp(essence, p) != 0)
                continue;
            snprintf(out->content_type, sizeof(out->content_type), "%s", essence);
            out->attachment = !media_type_allowed[i].inline_ok;
            return;
        }
    }
    snprintf(out->content_type, sizeof(out->content_type), "%s", MEDIA_TYPE_FALLBACK);
    out->attachment = true;
}
