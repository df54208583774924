/* Unit tests for common/utf8: well-formed UTF-8 without Unicode controls
 * (Cc, Cf, Zl, Zp), the rule for names people read (getUploadToken's
 * originFileName; docs/api.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "common/utf8.h"

#define OK UTF8_TEXT_OK
#define INVALID UTF8_TEXT_INVALID
#define CONTROL UTF8_TEXT_CONTROL

static void test_check_text(void **state)
{
    (void)state;
    static const struct {
        const char *what, *text;
        utf8_verdict_t want;
    } cases[] = {
        {"empty", "", OK},
        {"ASCII", "clip 01.mp4", OK},
        {"Latin-1 letters", "vid\xc3\xa9o.mp4", OK},
        {"CJK", "\xe8\xa7\x86\xe9\xa2\x91.mp4", OK},
        {"emoji (4 bytes)", "\xf0\x9f\x8e\xac.mp4", OK},
        {"no-break space (Zs)", "a\xc2\xa0" "b.mp4", OK},
        {"right-to-left letters", "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d.mp4", OK},
        {"last code point before the C1 block", "\x7e.mp4", OK},
        {"U+00A0 just after C1", "\xc2\xa0.mp4", OK},
        {"U+2027 before the separators", "a\xe2\x80\xa7" "b.mp4", OK},
        {"U+202F after the overrides", "a\xe2\x80\xaf" "b.mp4", OK},
        {"U+2065 (unassigned, between the ranges)", "a\xe2\x81\xa5" "b.mp4", OK},
        /* Cc */
        {"NUL", "a\0b", CONTROL},
        {"tab", "a\tb.mp4", CONTROL},
        {"DEL", "a\x7f" "b.mp4", CONTROL},
        {"U+0080 (C1)", "a\xc2\x80" "b.mp4", CONTROL},
        {"NEL U+0085", "a\xc2\x85" "b.mp4", CONTROL},
        {"U+009F (C1)", "a\xc2\x9f" "b.mp4", CONTROL},
        /* Cf */
        {"soft hyphen U+00AD", "a\xc2\xad" "b.mp4", CONTROL},
        {"Arabic letter mark U+061C", "a\xd8\x9c" "b.mp4", CONTROL},
        {"zero width space U+200B", "a\xe2\x80\x8b" "b.mp4", CONTROL},
        {"zero width non-joiner U+200C", "a\xe2\x80\x8c" "b.mp4", CONTROL},
        {"zero width joiner U+200D", "a\xe2\x80\x8d" "b.mp4", CONTROL},
        {"LRM U+200E", "a\xe2\x80\x8e" "b.mp4", CONTROL},
        {"RLM U+200F", "a\xe2\x80\x8f" "b.mp4", CONTROL},
        {"LRE U+202A", "a\xe2\x80\xaa" "b.mp4", CONTROL},
        {"RLE U+202B", "a\xe2\x80\xab" "b.mp4", CONTROL},
        {"PDF U+202C", "a\xe2\x80\xac" "b.mp4", CONTROL},
        {"LRO U+202D", "a\xe2\x80\xad" "b.mp4", CONTROL},
        {"RLO U+202E (abc\\u202Egpj.mp4)", "abc\xe2\x80\xaegpj.mp4", CONTROL},
        {"word joiner U+2060", "a\xe2\x81\xa0" "b.mp4", CONTROL},
        {"LRI U+2066", "a\xe2\x81\xa6" "b.mp4", CONTROL},
        {"RLI U+2067", "a\xe2\x81\xa7" "b.mp4", CONTROL},
        {"FSI U+2068", "a\xe2\x81\xa8" "b.mp4", CONTROL},
        {"PDI U+2069", "a\xe2\x81\xa9" "b.mp4", CONTROL},
        {"BOM U+FEFF", "\xef\xbb\xbf" "a.mp4", CONTROL},
        {"interlinear annotation U+FFF9", "a\xef\xbf\xb9" "b.mp4", CONTROL},
        {"Egyptian format control U+1343F", "a\xf0\x93\x90\xbf" "b.mp4", CONTROL},
        {"tag U+E0041", "a\xf3\xa0\x81\x81" "b.mp4", CONTROL},
        /* Zl, Zp */
        {"line separator U+2028", "a\xe2\x80\xa8" "b.mp4", CONTROL},
        {"paragraph separator U+2029", "a\xe2\x80\xa9" "b.mp4", CONTROL},
        /* Not UTF-8: refused as such, even with a control elsewhere. */
        {"stray continuation byte", "a\x80" "b.mp4", INVALID},
        {"0xff", "a\xff.mp4", INVALID},
        {"truncated sequence at the end", "a.mp4\xe2\x80", INVALID},
        {"truncated sequence in the middle", "a\xe2\x80" "b.mp4", INVALID},
        {"overlong '/' (C0 AF)", "a\xc0\xaf" "b.mp4", INVALID},
        {"overlong three-byte NUL", "a\xe0\x80\x80" "b.mp4", INVALID},
        {"overlong four-byte", "a\xf0\x80\x80\xaf" "b.mp4", INVALID},
        {"surrogate U+D800", "a\xed\xa0\x80" "b.mp4", INVALID},
        {"above U+10FFFF", "a\xf4\x90\x80\x80" "b.mp4", INVALID},
        {"0xf5 lead byte", "a\xf5\x80\x80\x80" "b.mp4", INVALID},
        {"invalid and a control", "a\xe2\x80\xae\xff.mp4", INVALID},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        /* "NUL" holds a NUL: its length is written out. */
        size_t len = strcmp(cases[i].what, "NUL") == 0 ? 3 : strlen(cases[i].text);
        utf8_verdict_t got = utf8_check_text(cases[i].text, len);
        print_message("  %-45s -> %d\n", cases[i].what, got);
        assert_int_equal(got, cases[i].want);
    }
}

/* Each range's edges: the first and last code points are controls, the
 * neighbours outside (when not in an adjacent range) are not. */
static void test_control_edges(void **state)
{
    (void)state;
    static const struct {
        uint32_t cp;
        bool control;
    } cases[] = {
        {0x00, true},     {0x1f, true},     {0x20, false},    {0x7e, false},    {0x7f, true},
        {0x9f, true},     {0xa0, false},    {0xac, false},    {0xad, true},     {0xae, false},
        {0x5ff, false},   {0x600, true},    {0x605, true},    {0x606, false},   {0x61c, true},
        {0x6dd, true},    {0x70f, true},    {0x890, true},    {0x891, true},    {0x892, false},
        {0x8e2, true},    {0x180e, true},   {0x200a, false},  {0x200b, true},   {0x200f, true},
        {0x2010, false},  {0x2027, false},  {0x2028, true},   {0x202e, true},   {0x202f, false},
        {0x205f, false},  {0x2060, true},   {0x2064, true},   {0x2065, false},  {0x2066, true},
        {0x206f, true},   {0x2070, false},  {0xfefe, false},  {0xfeff, true},   {0xff00, false},
        {0xfff8, false},  {0xfff9, true},   {0xfffb, true},   {0xfffc, false},  {0x110bd, true},
        {0x110cd, true},  {0x1342f, false}, {0x13430, true},  {0x1343f, true},  {0x13440, false},
        {0x1bca0, true},  {0x1bca3, true},  {0x1bca4, false}, {0x1d172, false}, {0x1d173, true},
        {0x1d17a, true},  {0x1d17b, false}, {0xe0000, false}, {0xe0001, true},  {0xe0002, false},
        {0xe001f, false}, {0xe0020, true},  {0xe007f, true},  {0xe0080, false}, {0x10ffff, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (utf8_is_control(cases[i].cp) != cases[i].control)
            print_error("U+%04X: expected %s\n", (unsigned)cases[i].cp, cases[i].control ? "control" : "not");
        assert_int_equal(utf8_is_control(cases[i].cp), cases[i].control);
    }
}

static void test_decode(void **state)
{
    (void)state;
    static const struct {
        const char *bytes;
        size_t len, want_len;
        uint32_t want_cp;
    } cases[] = {
        {"A", 1, 1, 0x41},
        {"\xc3\xa9", 2, 2, 0xe9},
        {"\xe2\x80\xae", 3, 3, 0x202e},
        {"\xf0\x9f\x8e\xac", 4, 4, 0x1f3ac},
        {"\xf4\x8f\xbf\xbf", 4, 4, 0x10ffff},
        {"\xe2\x80\xae", 2, 0, 0}, /* cut short by len, not by a NUL */
        {"\xc1\xbf", 2, 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint32_t cp = 0;
        assert_int_equal(utf8_decode(cases[i].bytes, cases[i].len, 0, &cp), cases[i].want_len);
        if (cases[i].want_len)
            assert_int_equal(cp, cases[i].want_cp);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_text),
        cmocka_unit_test(test_control_edges),
        cmocka_unit_test(test_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
