/* utf8: UTF-8 decoding and the display-control check; see utf8.h. */
#include "common/utf8.h"

/*
 * Every code point of general category Cc, Cf, Zl or Zp in Unicode 15.1,
 * as ranges in ascending order.  Unassigned code points are not listed: a
 * later Unicode version may add format characters, and this table then
 * needs the new ones.
 */
static const struct {
    uint32_t first, last;
} utf8_control_ranges[] = {
    {0x0000, 0x001F},   /* Cc: C0 controls */
    {0x007F, 0x009F},   /* Cc: DEL, C1 controls (NEL U+0085 among them) */
    {0x00AD, 0x00AD},   /* soft hyphen */
    {0x0600, 0x0605},   /* Arabic number signs */
    {0x061C, 0x061C},   /* Arabic letter mark (bidi) */
    {0x06DD, 0x06DD},   /* Arabic end of ayah */
    {0x070F, 0x070F},   /* Syriac abbreviation mark */
    {0x0890, 0x0891},   /* Arabic pound and piastre marks above */
    {0x08E2, 0x08E2},   /* Arabic disputed end of ayah */
    {0x180E, 0x180E},   /* Mongolian vowel separator */
    {0x200B, 0x200F},   /* zero width space, non-joiner, joiner; LRM, RLM */
    {0x2028, 0x202E},   /* Zl, Zp; bidi embeddings and overrides LRE..RLO */
    {0x2060, 0x2064},   /* word joiner, invisible operators */
    {0x2066, 0x206F},   /* bidi isolates LRI..PDI; deprecated format characters */
    {0xFEFF, 0xFEFF},   /* zero width no-break space (BOM) */
    {0xFFF9, 0xFFFB},   /* interlinear annotation */
    {0x110BD, 0x110BD}, /* Kaithi number sign */
    {0x110CD, 0x110CD}, /* Kaithi number sign above */
    {0x13430, 0x1343F}, /* Egyptian hieroglyph format controls */
    {0x1BCA0, 0x1BCA3}, /* shorthand format controls */
    {0x1D173, 0x1D17A}, /* musical symbol beams, ties, slurs, phrases */
    {0xE0001, 0xE0001}, /* language tag */
    {0xE0020, 0xE007F}, /* tag characters */
};

size_t utf8_decode(const char *s, size_t len, size_t i, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned char c = u[i];
    size_t n;
    uint32_t v;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        v = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        v = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        v = c & 0x07;
    } else {
        return 0; /* a continuation byte, 0xc0/0xc1 (overlong) or above U+10FFFF */
    }
    if (n > len - i)
        return 0;
    for (size_t k = 1; k < n; k++) {
        if ((u[i + k] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (u[i + k] & 0x3f);
    }
    /* Overlong three- and four-byte forms, surrogates, above U+10FFFF. */
    if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10ffff)) || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return n;
}

bool utf8_is_control(uint32_t cp)
{
    for (size_t i = 0; i < sizeof(utf8_control_ranges) / sizeof(utf8_control_ranges[0]); i++) {
        if (cp < utf8_control_ranges[i].first)
            return false; /* ascending: no later range can hold it */
        if (cp <= utf8_control_ranges[i].last)
            return true;
    }
    return false;
}

utf8_verdict_t utf8_check_text(const char *s, size_t len)
{
    bool control = false;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = utf8_decode(s, len, i, &cp);
        if (n == 0)
            return UTF8_TEXT_INVALID;
        control = control || utf8_is_control(cp);
        i += n;
    }
    return control ? UTF8_TEXT_CONTROL : UTF8_TEXT_OK;
}
