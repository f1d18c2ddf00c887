/* heapswitch_report_parse(): one HEAPSWITCH_REPORT line (lib/report.c
 * writes them) into a struct heapswitch_report. A small recursive JSON
 * parser over the tokens of lib/json_scan.c, strict about syntax (RFC
 * 8259: no trailing commas, no leading zeros, no raw control bytes in
 * strings, valid escapes and surrogate pairs) and bounded (never reads at
 * or past line + length, nests at most MAX_DEPTH deep), so that a
 * truncated or hostile file is refused with a reason. It knows the keys of lib/report_keys.h, shared with the writer;
 * any other key, whatever its value, is checked and skipped, and a known
 * key whose value is null is left absent, so that the runtime can add and
 * drop figures without breaking readers. Part of libheapswitch-reader.
 */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "include/heapswitch.h"
#include "lib/export.h"
#include "lib/json_scan.h"
#include "lib/report_keys.h"

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

#define LATENCY_KEYS(kind, KIND)                                                           \
    FIELD(HSW_REPORT_LATENCY_SAMPLES, K_U64, KIND##_LATENCY_SAMPLES, latency[kind].samples), \
    FIELD(HSW_REPORT_LATENCY_MEAN, K_DOUBLE, KIND##_LATENCY_MEAN, latency[kind].mean_ns),     \
    FIELD(HSW_REPORT_LATENCY_P50, K_DOUBLE, KIND##_LATENCY_P50, latency[kind].p50_ns),        \
    FIELD(HSW_REPORT_LATENCY_P99, K_DOUBLE, KIND##_LATENCY_P99, latency[kind].p99_ns),        \
    FIELD(HSW_REPORT_LATENCY_P999, K_DOUBLE, KIND##_LATENCY_P999, latency[kind].p999_ns),     \
    FIELD(HSW_REPORT_LATENCY_MAX, K_DOUBLE, KIND##_LATENCY_MAX, latency[kind].max_ns),        \
    {NULL, K_U64, -1, 0, 0, NULL}

static const struct key malloc_latency_keys[] = {LATENCY_KEYS(HEAPSWITCH_LATENCY_ALLOC, MALLOC)};
static const struct key free_latency_keys[] = {LATENCY_KEYS(HEAPSWITCH_LATENCY_FREE, FREE)};

static const struct key latency_keys[] = {
    FIELD(HSW_REPORT_LATENCY_RATE, K_UINT, LATENCY_RATE, latency_rate),
    {HSW_REPORT_LATENCY_ALLOC, K_OBJECT, -1, 0, 0, malloc_latency_keys},
    {HSW_REPORT_LATENCY_FREE, K_OBJECT, -1, 0, 0, free_latency_keys},
    {NULL, K_U64, -1, 0, 0, NULL},
};

static const struct key top_keys[] = {
    FIELD(HSW_REPORT_PID, K_PID, PID, pid),
    FIELD(HSW_REPORT_PPID, K_PID, PPID, ppid),
    STRING(HSW_REPORT_BACKEND, BACKEND, backend),
    STRING(HSW_REPORT_TAG, TAG, tag),
    STRING(HSW_REPORT_LABELS, LABELS, labels),
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
    {HSW_REPORT_LATENCY, K_OBJECT, -1, 0, 0, latency_keys},
    {NULL, K_U64, -1, 0, 0, NULL},
};

struct parser {
    struct hsw_scan s;
    int depth;
    struct heapswitch_report *out;
};

static int value(struct parser *p, const struct key *key);

/* Checks and skips a value of a key this reader does not know. */
static int skip(struct parser *p)
{
    return value(p, NULL);
}

static int object(struct parser *p, const struct key *keys);

/* The bit of the figure a name of the "estimated" list names: a key of
 * the line ("bytes_allocated") or of an object in it ("heap.resident"). */
static uint64_t figure_bit(const char *name)
{
    static const struct { const char *prefix; const struct key *keys; } tables[] = {
        {"", top_keys}, {HSW_REPORT_CALLS ".", calls_keys}, {HSW_REPORT_HEAP ".", heap_keys}};

    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        size_t length = strlen(tables[t].prefix);
        if (strncmp(name, tables[t].prefix, length) != 0)
            continue;
        for (const struct key *key = tables[t].keys; key->name != NULL; key++)
            if (key->field >= 0 && strcmp(key->name, name + length) == 0)
                return 1ull << key->field;
    }
    return 0;
}

/* An array at p->s.at (its '['). With `names`, its elements must be strings,
 * names of figures whose bits are set there; without, any values. */
static int array(struct parser *p, uint64_t *names)
{
    char name[64];

    p->s.at++;
    hsw_scan_space(&p->s);
    if (p->s.at < p->s.end && *p->s.at == ']') {
        p->s.at++;
        return 0;
    }
    for (;;) {
        hsw_scan_space(&p->s);
        if (names == NULL) {
            if (skip(p) != 0)
                return -1;
        } else {
            if (p->s.at >= p->s.end || *p->s.at != '"')
                return hsw_scan_fail(&p->s, "\"" HSW_REPORT_ESTIMATED "\" must list names in strings");
            if (hsw_scan_string(&p->s, name, sizeof name) != 0)
                return -1;
            *names |= figure_bit(name);
        }
        hsw_scan_space(&p->s);
        if (p->s.at < p->s.end && *p->s.at == ',') {
            p->s.at++;
            continue;
        }
        if (p->s.at < p->s.end && *p->s.at == ']') {
            p->s.at++;
            return 0;
        }
        return hsw_scan_fail(&p->s, "expected ',' or ']' in an array");
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
            return hsw_scan_fail(&p->s, "\"%s\" must be a whole number of at most 64 bits", key->name);
        memcpy(field, &n, sizeof n);
        break;
    case K_UINT:
    case K_PID:
        if (!whole || n > (key->kind == K_PID ? (uint64_t)INT_MAX : (uint64_t)UINT_MAX))
            return hsw_scan_fail(&p->s, "\"%s\" out of range", key->name);
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
            return hsw_scan_fail(&p->s, "\"%s\" must be between 0 and 1", key->name);
        memcpy(field, &v, sizeof v);
        break;
    case K_DOUBLE:
        if (!isfinite(v) || v < 0)
            return hsw_scan_fail(&p->s, "\"%s\" must be a finite number of at least 0", key->name);
        memcpy(field, &v, sizeof v);
        break;
    default:
        return hsw_scan_fail(&p->s, "\"%s\" must not be a number", key->name);
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

    hsw_scan_space(&p->s);
    if (p->s.at >= p->s.end)
        return hsw_scan_fail(&p->s, "a value is missing");
    if (hsw_scan_literal(&p->s, "null"))
        return 0; /* a known figure left absent */
    if (*p->s.at == '{' || *p->s.at == '[') {
        bool is_object = *p->s.at == '{';

        if (key != NULL && key->kind != (is_object ? K_OBJECT : K_NAMES))
            return hsw_scan_fail(&p->s, "\"%s\" has a value of the wrong type", key->name);
        if (++p->depth > MAX_DEPTH)
            return hsw_scan_fail(&p->s, "nested deeper than %d", MAX_DEPTH);
        if (is_object)
            result = object(p, key != NULL ? key->members : NULL);
        else
            result = array(p, key != NULL ? &p->out->estimated : NULL);
        p->depth--;
        return result;
    }
    if (*p->s.at == '"') {
        if (key != NULL && key->kind != K_STRING)
            return hsw_scan_fail(&p->s, "\"%s\" must not be a string", key->name);
        if (hsw_scan_string(&p->s, key ? (char *)p->out + key->offset : NULL, key ? key->size : 0) != 0)
            return -1;
        if (key != NULL)
            p->out->present |= 1ull << key->field;
        return 0;
    }
    if (hsw_scan_literal(&p->s, "true"))
        truth = 1;
    else if (hsw_scan_literal(&p->s, "false"))
        truth = 0;
    if (truth >= 0) {
        if (key == NULL)
            return 0;
        if (key->kind != K_BOOL)
            return hsw_scan_fail(&p->s, "\"%s\" must not be true or false", key->name);
        memcpy((char *)p->out + key->offset, &truth, sizeof truth);
        p->out->present |= 1ull << key->field;
        return 0;
    }
    if (*p->s.at == '-' || (*p->s.at >= '0' && *p->s.at <= '9')) {
        if (hsw_scan_number(&p->s, &v, &n, &whole) != 0)
            return -1;
        return key == NULL ? 0 : store_number(p, key, v, n, whole);
    }
    return hsw_scan_fail(&p->s, "unexpected character '%c'",
                (unsigned char)*p->s.at >= 0x20 && (unsigned char)*p->s.at < 0x7f ? *p->s.at : '?');
}

/* An object at p->s.at (its '{'); keys maps known keys (NULL: none known). */
static int object(struct parser *p, const struct key *keys)
{
    char name[64];

    p->s.at++;
    hsw_scan_space(&p->s);
    if (p->s.at < p->s.end && *p->s.at == '}') {
        p->s.at++;
        return 0;
    }
    for (;;) {
        const struct key *key = NULL;

        hsw_scan_space(&p->s);
        if (p->s.at >= p->s.end || *p->s.at != '"')
            return hsw_scan_fail(&p->s, "expected a key in quotes");
        /* A key longer than any known one is cut, and then matches none
         * (known keys are far shorter than the buffer). */
        if (hsw_scan_string(&p->s, name, sizeof name) != 0)
            return -1;
        for (const struct key *k = keys; k != NULL && k->name != NULL; k++)
            if (strcmp(k->name, name) == 0)
                key = k;
        hsw_scan_space(&p->s);
        if (p->s.at >= p->s.end || *p->s.at != ':')
            return hsw_scan_fail(&p->s, "expected ':' after a key");
        p->s.at++;
        if (value(p, key) != 0)
            return -1;
        hsw_scan_space(&p->s);
        if (p->s.at < p->s.end && *p->s.at == ',') {
            p->s.at++;
            continue;
        }
        if (p->s.at < p->s.end && *p->s.at == '}') {
            p->s.at++;
            return 0;
        }
        return hsw_scan_fail(&p->s, "expected ',' or '}' in an object");
    }
}

/* The heap figures of a line, as the bits of heapswitch_heap.present. */
static const struct {
    enum heapswitch_report_field field;
    unsigned bit;
} heap_bits[] = {
    {HEAPSWITCH_REPORT_HEAP_RESIDENT, HEAPSWITCH_HEAP_RESIDENT},
    {HEAPSWITCH_REPORT_HEAP_ACTIVE, HEAPSWITCH_HEAP_ACTIVE},
    {HEAPSWITCH_REPORT_HEAP_MAPPED, HEAPSWITCH_HEAP_MAPPED},
    {HEAPSWITCH_REPORT_HEAP_RETAINED, HEAPSWITCH_HEAP_RETAINED},
    {HEAPSWITCH_REPORT_HEAP_COMMITTED, HEAPSWITCH_HEAP_COMMITTED},
};

HSW_EXPORT int heapswitch_report_parse(const char *line, size_t length,
                                       struct heapswitch_report *out, char *why,
                                       size_t why_size)
{
    struct parser p = {{"", "", NULL, why, why_size}, 0, out};
    struct heapswitch_report scratch;

    if (why != NULL && why_size > 0)
        why[0] = '\0';
    if (out == NULL)
        p.out = out = &scratch;
    memset(out, 0, sizeof *out);
    out->fragmentation = -1;
    p.s.end = p.s.start;
    if (line == NULL)
        return hsw_scan_fail(&p.s, "no line");
    p.s.start = p.s.at = line;
    p.s.end = line + length;
    hsw_scan_space(&p.s);
    if (p.s.at >= p.s.end || *p.s.at != '{')
        return hsw_scan_fail(&p.s, "a report line is a JSON object");
    p.depth = 1;
    if (object(&p, top_keys) != 0)
        goto refused;
    hsw_scan_space(&p.s);
    if (p.s.at != p.s.end) {
        hsw_scan_fail(&p.s, "text after the object");
        goto refused;
    }
    for (size_t i = 0; i < sizeof heap_bits / sizeof heap_bits[0]; i++)
        if (HEAPSWITCH_REPORT_HAS(out, heap_bits[i].field))
            out->heap.present |= heap_bits[i].bit;
    return 0;
refused:
    memset(out, 0, sizeof *out);
    out->fragmentation = -1;
    return -1;
}
