/* Warnings once per process tree. A bad HEAPSWITCH_* value is inherited
 * by every child, so a tree of processes (a shell script, a version
 * manager's shims) would print the same line once per process. Each
 * warning line given is remembered by a hash; the library's constructor
 * puts the hashes, with those inherited, in HEAPSWITCH_WARNED for the
 * children, which then stay quiet about the same line. The constructor
 * is the place for setenv (which allocates): the lines themselves are
 * written from inside malloc, where nothing may allocate. Under
 * HEAPSWITCH_STRICT=1 every process gives its warnings. */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/env_names.h"
#include "lib/internal.h"

#define WARNED_MAX 32

static uint32_t inherited[WARNED_MAX];
static unsigned inherited_count;
static bool inherited_loaded;
static uint32_t given[WARNED_MAX];
static unsigned given_count;

static uint32_t line_hash(const char *line, size_t length)
{
    uint32_t hash = 2166136261u; /* FNV-1a */

    for (size_t i = 0; i < length; i++)
        hash = (hash ^ (unsigned char)line[i]) * 16777619u;
    return hash;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* HEAPSWITCH_WARNED: hashes of 8 lowercase hex digits separated by
 * commas; anything else in it is skipped. */
static void load_inherited(void)
{
    const char *at = hsw_option_string(HSW_OPT_WARNED);

    inherited_loaded = true;
    while (at != NULL && *at != '\0' && inherited_count < WARNED_MAX) {
        uint32_t hash = 0;
        int digits = 0;

        for (; hex_digit(*at) >= 0 && digits < 9; at++, digits++)
            hash = hash << 4 | (uint32_t)hex_digit(*at);
        if (digits == 8 && (*at == ',' || *at == '\0'))
            inherited[inherited_count++] = hash;
        at += strcspn(at, ",");
        if (*at == ',')
            at++;
    }
}

/* HEAPSWITCH_STRICT read without hsw_option_bool, which logs. */
static bool strict(void)
{
    const char *value = hsw_option_string(HSW_OPT_STRICT);
    static const char *const truths[] = {"1", "true", "yes", "on"};

    for (size_t i = 0; value != NULL && i < sizeof truths / sizeof truths[0]; i++)
        if (strcasecmp(value, truths[i]) == 0)
            return true;
    return false;
}

static bool known(const uint32_t *hashes, unsigned count, uint32_t hash)
{
    for (unsigned i = 0; i < count; i++)
        if (hashes[i] == hash)
            return true;
    return false;
}

bool hsw_warning_given_by_parent(const char *line, size_t length)
{
    uint32_t hash = line_hash(line, length);

    if (!inherited_loaded)
        load_inherited();
    if (!strict() && known(inherited, inherited_count, hash))
        return true;
    if (given_count < WARNED_MAX && !known(given, given_count, hash))
        given[given_count++] = hash;
    return false;
}

static void append_hash(char *out, size_t *at, uint32_t hash)
{
    static const char digits[] = "0123456789abcdef";

    if (*at != 0)
        out[(*at)++] = ',';
    for (int shift = 28; shift >= 0; shift -= 4)
        out[(*at)++] = digits[(hash >> shift) & 15];
    out[*at] = '\0';
}

void hsw_warnings_pass_on(void)
{
    char value[WARNED_MAX * 9 + 1];
    size_t at = 0;
    unsigned written = 0;

    value[0] = '\0';
    if (given_count == 0)
        return;
    for (unsigned i = 0; i < inherited_count && written < WARNED_MAX; i++, written++)
        append_hash(value, &at, inherited[i]);
    for (unsigned i = 0; i < given_count && written < WARNED_MAX; i++)
        if (!known(inherited, inherited_count, given[i])) {
            append_hash(value, &at, given[i]);
            written++;
        }
    setenv(HSW_ENV_WARNED, value, 1);
}
