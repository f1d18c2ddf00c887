/* A strict, bounded JSON scanner (RFC 8259) for the report-line parser,
 * lib/report_parse.c: whitespace, literals, strings (escapes and
 * surrogate pairs decoded to UTF-8, raw control bytes refused) and
 * numbers (the JSON grammar exactly: no leading zeros, no bare '.'),
 * never reading at or past `end`. Errors are written to `why` with the
 * offset where they were found. */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json_scan.h"

int hsw_scan_fail(struct hsw_scan *p, const char *format, ...)
{
    va_list arguments;
    int used;

    if (p->why == NULL || p->why_size == 0)
        return -1;
    used = snprintf(p->why, p->why_size, "offset %zu: ", (size_t)(p->at - p->start));
    if (used >= 0 && (size_t)used < p->why_size) {
        va_start(arguments, format);
        vsnprintf(p->why + used, p->why_size - (size_t)used, format, arguments);
        va_end(arguments);
    }
    return -1;
}

void hsw_scan_space(struct hsw_scan *p)
{
    while (p->at < p->end &&
           (*p->at == ' ' || *p->at == '\t' || *p->at == '\n' || *p->at == '\r'))
        p->at++;
}

bool hsw_scan_literal(struct hsw_scan *p, const char *word)
{
    size_t length = strlen(word);

    if ((size_t)(p->end - p->at) < length || memcmp(p->at, word, length) != 0)
        return false;
    p->at += length;
    return true;
}

static int hex4(struct hsw_scan *p, unsigned *value)
{
    *value = 0;
    if (p->end - p->at < 4)
        return hsw_scan_fail(p, "a \\u escape needs four hex digits");
    for (int i = 0; i < 4; i++, p->at++) {
        char c = *p->at;
        unsigned digit = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                         : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                         : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                                : 16;
        if (digit == 16)
            return hsw_scan_fail(p, "a \\u escape needs four hex digits");
        *value = *value * 16 + digit;
    }
    return 0;
}

/* Appends a byte to out (size bytes, kept terminated; longer text is cut). */
static void put(char *out, size_t size, size_t *used, char c)
{
    if (out != NULL && *used + 1 < size) {
        out[(*used)++] = c;
        out[*used] = '\0';
    }
}

static void put_utf8(char *out, size_t size, size_t *used, unsigned code)
{
    if (code < 0x80) {
        put(out, size, used, (char)code);
    } else if (code < 0x800) {
        put(out, size, used, (char)(0xc0 | code >> 6));
        put(out, size, used, (char)(0x80 | (code & 0x3f)));
    } else if (code < 0x10000) {
        put(out, size, used, (char)(0xe0 | code >> 12));
        put(out, size, used, (char)(0x80 | (code >> 6 & 0x3f)));
        put(out, size, used, (char)(0x80 | (code & 0x3f)));
    } else {
        put(out, size, used, (char)(0xf0 | code >> 18));
        put(out, size, used, (char)(0x80 | (code >> 12 & 0x3f)));
        put(out, size, used, (char)(0x80 | (code >> 6 & 0x3f)));
        put(out, size, used, (char)(0x80 | (code & 0x3f)));
    }
}

/* A string at p->at (its opening quote), decoded into out when out is not
 * NULL. Invalid UTF-8 in the input is copied as it is: the writer escapes
 * only quotes, backslashes and control bytes. */
int hsw_scan_string(struct hsw_scan *p, char *out, size_t size)
{
    size_t used = 0;

    if (out != NULL && size > 0)
        out[0] = '\0';
    p->at++; /* the quote */
    for (;;) {
        unsigned char c;
        unsigned code, low;

        if (p->at >= p->end)
            return hsw_scan_fail(p, "unterminated string");
        c = (unsigned char)*p->at++;
        if (c == '"')
            return 0;
        if (c < 0x20)
            return hsw_scan_fail(p, "a raw control byte 0x%02x in a string", c);
        if (c != '\\') {
            put(out, size, &used, (char)c);
            continue;
        }
        if (p->at >= p->end)
            return hsw_scan_fail(p, "unterminated escape");
        switch (c = (unsigned char)*p->at++) {
        case '"': case '\\': case '/': put(out, size, &used, (char)c); break;
        case 'b': put(out, size, &used, '\b'); break;
        case 'f': put(out, size, &used, '\f'); break;
        case 'n': put(out, size, &used, '\n'); break;
        case 'r': put(out, size, &used, '\r'); break;
        case 't': put(out, size, &used, '\t'); break;
        case 'u':
            if (hex4(p, &code) != 0)
                return -1;
            if (code >= 0xdc00 && code <= 0xdfff)
                return hsw_scan_fail(p, "a lone low surrogate");
            if (code >= 0xd800 && code <= 0xdbff) {
                if (!hsw_scan_literal(p, "\\u") || hex4(p, &low) != 0 || low < 0xdc00 || low > 0xdfff)
                    return hsw_scan_fail(p, "a high surrogate without its low half");
                code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
            }
            if (code == 0)
                return hsw_scan_fail(p, "a NUL character in a string");
            put_utf8(out, size, &used, code);
            break;
        default:
            p->at--;
            return hsw_scan_fail(p, "bad escape '\\%c'", c >= 0x20 && c < 0x7f ? c : '?');
        }
    }
}

static bool digit(const struct hsw_scan *p)
{
    return p->at < p->end && *p->at >= '0' && *p->at <= '9';
}

/* A number by the JSON grammar. Sets *integer when it is a whole number
 * without fraction or exponent that fits in 64 bits (no minus sign). */
int hsw_scan_number(struct hsw_scan *p, double *value, uint64_t *integer, bool *is_integer)
{
    const char *first = p->at;
    char copy[64];
    bool overflow = false, whole = true;
    uint64_t n = 0;

    if (p->at < p->end && *p->at == '-')
        p->at++, whole = false;
    if (!digit(p))
        return hsw_scan_fail(p, "a number needs a digit");
    if (*p->at == '0') {
        p->at++;
        if (digit(p))
            return hsw_scan_fail(p, "a number with a leading zero");
    } else {
        while (digit(p)) {
            unsigned d = (unsigned)(*p->at++ - '0');
            if (n > (UINT64_MAX - d) / 10)
                overflow = true;
            n = n * 10 + d;
        }
    }
    if (p->at < p->end && *p->at == '.') {
        p->at++, whole = false;
        if (!digit(p))
            return hsw_scan_fail(p, "a digit must follow the decimal point");
        while (digit(p))
            p->at++;
    }
    if (p->at < p->end && (*p->at == 'e' || *p->at == 'E')) {
        p->at++, whole = false;
        if (p->at < p->end && (*p->at == '+' || *p->at == '-'))
            p->at++;
        if (!digit(p))
            return hsw_scan_fail(p, "an exponent needs a digit");
        while (digit(p))
            p->at++;
    }
    if ((size_t)(p->at - first) >= sizeof copy) {
        *value = whole && !overflow ? (double)n : HUGE_VAL; /* long: out of any range */
    } else {
        memcpy(copy, first, (size_t)(p->at - first));
        copy[p->at - first] = '\0';
        *value = strtod(copy, NULL);
    }
    *integer = n;
    *is_integer = whole && !overflow;
    return 0;
}
