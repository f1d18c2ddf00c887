/* heapswitch_report_parse(): one HEAPSWITCH_REPORT line (lib/report.c
 * writes them) into a struct heapswitch_report. A small recursive JSON
 * parser, strict about syntax (RFC 8259: no trailing commas, no leading
 * zeros, no raw control bytes in strings, valid escapes and surrogate
 * pairs) and bounded (never reads at or past line + length, nests at most
 * MAX_DEPTH deep), so that a truncated or hostile file is refused with a
 * reason. It knows the keys of lib/report_keys.h, shared with the writer;
 * any other key, whatever its value, is checked and skipped, and a known
 * key whose value is null is left absent, so that the runtime can add and
 * drop figures without breaking readers. Part of libheapswitch-reader.
 */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "include/heapswitch.h"
#include "lib/report_keys.h"

#define HSW_EXPORT __attribute__((visibility("default")))
#define MAX_DEPTH 32

enum kind { K_U64, K_UINT, K_PID, K_DOUBLE, K_FRACTION, K_BOOL, K_STRING, K_OBJECT, K_NAMES };

struct key {
    const char *name;
    enum kind kind;
    int field;            /* enum heapswitch_report_field, or -1 */
    size_t offset;        /* into struct heapswitch_report */
    size_t size;          /* of a string buffer */
    const struct key *members; /* K_OBJECT: its keys, ended by a NULL name */
};

#define OFF(member) offsetof(struct heapswitch_report, member)
#define FIELD(key, kind, field, member) {key, kind, HEAPSWITCH_REPORT_##field, OFF(member), 0, NULL}
#define STRING(key, field, member)                                                      \
    {key, K_STRING, HEAPSWITCH_REPORT_##field, OFF(member),                              \
     sizeof(((struct heapswitch_report *)0)->member), NULL}

static const struct key calls_keys[] = {
    FIELD(HSW_REPORT_CALLS_MALLOC, K_U64, MALLOC_CALLS, counters.malloc_calls),
    FIELD(HSW_REPORT_CALLS_CALLOC, K_U64, CALLOC_CALLS, counters.calloc_calls),
    FIELD(HSW_REPORT_CALLS_REALLOC, K_U64, REALLOC_CALLS, counters.realloc_calls),
    FIELD(HSW_REPORT_CALLS_FREE, K_U64, FREE_CALLS, counters.free_calls),
    FIELD(HSW_REPORT_CALLS_ALIGNED, K_U64, ALIGNED_CALLS, counters.aligned_calls),
    {NULL, K_U64, -1, 0, 0, NULL},
};

static const struct key heap_keys[] = {
    FIELD(HSW_REPORT_HEAP_VALID, K_BOOL, HEAP_VALID, heap.valid),
    FIELD(HSW_REPORT_HEAP_APPROXIMATE, K_BOOL, HEAP_APPROXIMATE, heap.approximate),
    FIELD(HSW_REPORT_HEAP_RESIDENT, K_U64, HEAP_RESIDENT, heap.resident),
    FIELD(HSW_REPORT_HEAP_ACTIVE, K_U64, HEAP_ACTIVE, heap.active),
    FIELD(HSW_REPORT_HEAP_MAPPED, K_U64, HEAP_MAPPED, heap.mapped),
    FIELD(HSW_REPORT_HEAP_RETAINED, K_U64, HEAP_RETAINED, heap.retained),
    FIELD(HSW_REPORT_HEAP_COMMITTED, K_U64, HEAP_COMMITTED, heap.committed),
    {NULL, K_U64, -1, 0, 0, NULL},
};

static const struct key top_keys[] = {
    FIELD(HSW_REPORT_PID, K_PID, PID, pid),
    FIELD(HSW_REPORT_PPID, K_PID, PPID, ppid),
    STRING(HSW_REPORT_BACKEND, BACKEND, backend),
    STRING(HSW_REPORT_TAG, TAG, tag),
    STRING(HSW_REPORT_EXE, EXE, exe),
    STRING(HSW_REPORT_CMDLINE, CMDLINE, cmdline),
    STRING(HSW_REPORT_STATS, STATS, stats),
    {HSW_REPORT_ESTIMATED, K_NAMES, -1, OFF(estimated), 0, NULL},
    {HSW_REPORT_CALLS, K_OBJECT, -1, 0, 0, calls_keys},
    FIELD(HSW_REPORT_FAILURES, K_U64, FAILURES, counters.failures),
    FIELD(HSW_REPORT_BYTES_REQUESTED, K_U64, BYTES_REQUESTED, counters.bytes_requested),
    FIELD(HSW_REPORT_BYTES_ALLOCATED, K_U64, BYTES_ALLOCATED, counters.bytes_allocated),
    FIELD(HSW_REPORT_BYTES_FREED, K_U64, BYTES_FREED, counters.bytes_freed),
    FIELD(HSW_REPORT_LIVE_BYTES, K_U64, LIVE_BYTES, live_bytes),
    FIELD(HSW_REPORT_PEAK_LIVE_BYTES, K_U64, PEAK_LIVE_BYTES, peak_live_bytes),
    FIELD(HSW_REPORT_REQUESTS, K_U64, REQUESTS, counters.requests),
    FIELD(HSW_REPORT_THREADS_OVERFLOWED, K_UINT, THREADS_OVERFLOWED, threads_overflowed),
    {HSW_REPORT_HEAP, K_OBJECT, -1, 0, 0, heap_keys},
    FIELD(HSW_REPORT_FRAGMENTATION, K_FRACTION, FRAGMENTATION, fragmentation),
    FIELD(HSW_REPORT_RSS_BYTES, K_U64, RSS_BYTES, rss_bytes),
    FIELD(HSW_REPORT_MAX_RSS_BYTES, K_U64, MAX_RSS_BYTES, max_rss_bytes),
    FIELD(HSW_REPORT_USER_SECONDS, K_DOUBLE, USER_SECONDS, user_seconds),
    FIELD(HSW_REPORT_SYSTEM_SECONDS, K_DOUBLE, SYSTEM_SECONDS, system_seconds),
    {NULL, K_U64, -1, 0, 0, NULL},
};

struct parser {
    const char *start, *at, *end;
    char *why;
    size_t why_size;
    int depth;
    struct heapswitch_report *out;
};

static int fail(struct parser *p, const char *format, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct parser *p, const char *format, ...)
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

static void skip_space(struct parser *p)
{
    while (p->at < p->end &&
           (*p->at == ' ' || *p->at == '\t' || *p->at == '\n' || *p->at == '\r'))
        p->at++;
}

static bool literal(struct parser *p, const char *word)
{
    size_t length = strlen(word);

    if ((size_t)(p->end - p->at) < length || memcmp(p->at, word, length) != 0)
        return false;
    p->at += length;
    return true;
}

static int hex4(struct parser *p, unsigned *value)
{
    *value = 0;
    if (p->end - p->at < 4)
        return fail(p, "a \\u escape needs four hex digits");
    for (int i = 0; i < 4; i++, p->at++) {
        char c = *p->at;
        unsigned digit = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                         : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                         : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                                : 16;
        if (digit == 16)
            return fail(p, "a \\u escape needs four hex digits");
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
static int string(struct parser *p, char *out, size_t size)
{
    size_t used = 0;

    if (out != NULL && size > 0)
        out[0] = '\0';
    p->at++; /* the quote */
    for (;;) {
        unsigned char c;
        unsigned code, low;

        if (p->at >= p->end)
            return fail(p, "unterminated string");
        c = (unsigned char)*p->at++;
        if (c == '"')
            return 0;
        if (c < 0x20)
            return fail(p, "a raw control byte 0x%02x in a string", c);
        if (c != '\\') {
            put(out, size, &used, (char)c);
            continue;
        }
        if (p->at >= p->end)
            return fail(p, "unterminated escape");
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
                return fail(p, "a lone low surrogate");
            if (code >= 0xd800 && code <= 0xdbff) {
                if (!literal(p, "\\u") || hex4(p, &low) != 0 || low < 0xdc00 || low > 0xdfff)
                    return fail(p, "a high surrogate without its low half");
                code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
            }
            if (code == 0)
                return fail(p, "a NUL character in a string");
            put_utf8(out, size, &used, code);
            break;
        default:
            p->at--;
            return fail(p, "bad escape '\\%c'", c >= 0x20 && c < 0x7f ? c : '?');
        }
    }
}

static bool digit(const struct parser *p)
{
    return p->at < p->end && *p->at >= '0' && *p->at <= '9';
}

/* A number by the JSON grammar. Sets *integer when it is a whole number
 * without fraction or exponent that fits in 64 bits (no minus sign). */
static int number(struct parser *p, double *value, uint64_t *integer, bool *is_integer)
{
    const char *first = p->at;
    char copy[64];
    bool overflow = false, whole = true;
    uint64_t n = 0;

    if (p->at < p->end && *p->at == '-')
        p->at++, whole = false;
    if (!digit(p))
        return fail(p, "a number needs a digit");
    if (*p->at == '0') {
        p->at++;
        if (digit(p))
            return fail(p, "a number with a leading zero");
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
            return fail(p, "a digit must follow the decimal point");
        while (digit(p))
            p->at++;
    }
    if (p->at < p->end && (*p->at == 'e' || *p->at == 'E')) {
        p->at++, whole = false;
        if (p->at < p->end && (*p->at == '+' || *p->at == '-'))
            p->at++;
        if (!digit(p))
            return fail(p, "an exponent needs a digit");
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

static int value(struct parser *p, const struct key *key);

/* Checks and skips a value of a key this reader does not know. */
static int skip(struct parser *p)
{
    return value(p, NULL);
}

static int object(struct parser *p, const struct key *keys);

/* An array of figure names ("estimated"): the matching fields' bits. */
static int names(struct parser *p, uint64_t *bits)
{
    char name[64];

    p->at++;
    skip_space(p);
    if (p->at < p->end && *p->at == ']') {
        p->at++;
        return 0;
    }
    for (;;) {
        skip_space(p);
        if (p->at >= p->end || *p->at != '"')
            return fail(p, "\"" HSW_REPORT_ESTIMATED "\" must list names in strings");
        if (string(p, name, sizeof name) != 0)
            return -1;
        for (const struct key *key = top_keys; key->name != NULL; key++)
            if (key->field >= 0 && strcmp(key->name, name) == 0)
                *bits |= 1ull << key->field;
        for (const struct key *key = calls_keys; key->name != NULL; key++)
            if (strncmp(name, HSW_REPORT_CALLS ".", sizeof HSW_REPORT_CALLS) == 0 &&
                strcmp(name + sizeof HSW_REPORT_CALLS, key->name) == 0)
                *bits |= 1ull << key->field;
        for (const struct key *key = heap_keys; key->name != NULL; key++)
            if (strncmp(name, HSW_REPORT_HEAP ".", sizeof HSW_REPORT_HEAP) == 0 &&
                strcmp(name + sizeof HSW_REPORT_HEAP, key->name) == 0)
                *bits |= 1ull << key->field;
        skip_space(p);
        if (p->at < p->end && *p->at == ',') {
            p->at++;
            continue;
        }
        if (p->at < p->end && *p->at == ']') {
            p->at++;
            return 0;
        }
        return fail(p, "expected ',' or ']' in an array");
    }
}

static int array(struct parser *p)
{
    p->at++;
    skip_space(p);
    if (p->at < p->end && *p->at == ']') {
        p->at++;
        return 0;
    }
    for (;;) {
        if (skip(p) != 0)
            return -1;
        skip_space(p);
        if (p->at < p->end && *p->at == ',') {
            p->at++;
            continue;
        }
        if (p->at < p->end && *p->at == ']') {
            p->at++;
            return 0;
        }
        return fail(p, "expected ',' or ']' in an array");
    }
}

/* Stores a number into the key's field, checked against its type. */
static int store_number(struct parser *p, const struct key *key, double v, uint64_t n,
                        bool whole)
{
    char *field = (char *)p->out + key->offset;

    switch (key->kind) {
    case K_U64:
        if (!whole)
            return fail(p, "\"%s\" must be a whole number of at most 64 bits", key->name);
        memcpy(field, &n, sizeof n);
        break;
    case K_UINT:
    case K_PID:
        if (!whole || n > (key->kind == K_PID ? (uint64_t)INT_MAX : (uint64_t)UINT_MAX))
            return fail(p, "\"%s\" out of range", key->name);
        if (key->kind == K_PID) {
            pid_t pid = (pid_t)n;
            memcpy(field, &pid, sizeof pid);
        } else {
            unsigned u = (unsigned)n;
            memcpy(field, &u, sizeof u);
        }
        break;
    case K_FRACTION:
        if (!(v >= 0 && v <= 1))
            return fail(p, "\"%s\" must be between 0 and 1", key->name);
        memcpy(field, &v, sizeof v);
        break;
    case K_DOUBLE:
        if (!isfinite(v) || v < 0)
            return fail(p, "\"%s\" must be a finite number of at least 0", key->name);
        memcpy(field, &v, sizeof v);
        break;
    default:
        return fail(p, "\"%s\" must not be a number", key->name);
    }
    p->out->present |= 1ull << key->field;
    return 0;
}

/* A value; key is its known key, or NULL for a value to check and skip. */
static int value(struct parser *p, const struct key *key)
{
    double v = 0;
    uint64_t n = 0;
    bool whole = false;
    int result, truth = -1;

    skip_space(p);
    if (p->at >= p->end)
        return fail(p, "a value is missing");
    if (literal(p, "null"))
        return 0; /* a known figure left absent */
    if (*p->at == '{' || *p->at == '[') {
        bool is_object = *p->at == '{';

        if (key != NULL && key->kind != (is_object ? K_OBJECT : K_NAMES))
            return fail(p, "\"%s\" has a value of the wrong type", key->name);
        if (++p->depth > MAX_DEPTH)
            return fail(p, "nested deeper than %d", MAX_DEPTH);
        if (is_object)
            result = object(p, key != NULL ? key->members : NULL);
        else
            result = key != NULL ? names(p, &p->out->estimated) : array(p);
        p->depth--;
        return result;
    }
    if (*p->at == '"') {
        if (key != NULL && key->kind != K_STRING)
            return fail(p, "\"%s\" must not be a string", key->name);
        if (string(p, key ? (char *)p->out + key->offset : NULL, key ? key->size : 0) != 0)
            return -1;
        if (key != NULL)
            p->out->present |= 1ull << key->field;
        return 0;
    }
    if (literal(p, "true"))
        truth = 1;
    else if (literal(p, "false"))
        truth = 0;
    if (truth >= 0) {
        if (key == NULL)
            return 0;
        if (key->kind != K_BOOL)
            return fail(p, "\"%s\" must not be true or false", key->name);
        memcpy((char *)p->out + key->offset, &truth, sizeof truth);
        p->out->present |= 1ull << key->field;
        return 0;
    }
    if (*p->at == '-' || (*p->at >= '0' && *p->at <= '9')) {
        if (number(p, &v, &n, &whole) != 0)
            return -1;
        return key == NULL ? 0 : store_number(p, key, v, n, whole);
    }
    return fail(p, "unexpected character '%c'",
                (unsigned char)*p->at >= 0x20 && (unsigned char)*p->at < 0x7f ? *p->at : '?');
}

/* An object at p->at (its '{'); keys maps known keys (NULL: none known). */
static int object(struct parser *p, const struct key *keys)
{
    char name[64];

    p->at++;
    skip_space(p);
    if (p->at < p->end && *p->at == '}') {
        p->at++;
        return 0;
    }
    for (;;) {
        const struct key *key = NULL;

        skip_space(p);
        if (p->at >= p->end || *p->at != '"')
            return fail(p, "expected a key in quotes");
        /* A key longer than any known one is cut, and then matches none
         * (known keys are far shorter than the buffer). */
        if (string(p, name, sizeof name) != 0)
            return -1;
        for (const struct key *k = keys; k != NULL && k->name != NULL; k++)
            if (strcmp(k->name, name) == 0)
                key = k;
        skip_space(p);
        if (p->at >= p->end || *p->at != ':')
            return fail(p, "expected ':' after a key");
        p->at++;
        if (value(p, key) != 0)
            return -1;
        skip_space(p);
        if (p->at < p->end && *p->at == ',') {
            p->at++;
            continue;
        }
        if (p->at < p->end && *p->at == '}') {
            p->at++;
            return 0;
        }
        return fail(p, "expected ',' or '}' in an object");
    }
}

HSW_EXPORT int heapswitch_report_parse(const char *line, size_t length,
                                       struct heapswitch_report *out, char *why,
                                       size_t why_size)
{
    struct parser p = {line, line, line + length, why, why_size, 0, out};
    struct heapswitch_report scratch;

    if (why != NULL && why_size > 0)
        why[0] = '\0';
    if (out == NULL)
        p.out = out = &scratch;
    memset(out, 0, sizeof *out);
    out->fragmentation = -1;
    if (line == NULL) {
        p.end = p.at = p.start = "";
        return fail(&p, "no line");
    }
    skip_space(&p);
    if (p.at >= p.end || *p.at != '{')
        return fail(&p, "a report line is a JSON object");
    p.depth = 1;
    if (object(&p, top_keys) != 0)
        goto refused;
    skip_space(&p);
    if (p.at != p.end) {
        fail(&p, "text after the object");
        goto refused;
    }
    return 0;
refused:
    memset(out, 0, sizeof *out);
    out->fragmentation = -1;
    return -1;
}
