/* Options from the environment, read once at the first allocation call.
 *
 * That call can come before libc has set `environ` (from the dynamic
 * loader, or another library's constructor), so the environment is
 * scanned directly, with /proc/self/environ as the fallback.
 */
#include "config.h"

#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lib/env_names.h"
#include "lib/internal.h"

extern char **environ;

static const char *const option_names[HSW_OPT_COUNT] = {
    [HSW_OPT_BACKEND] = HSW_ENV_BACKEND,
    [HSW_OPT_STRICT] = HSW_ENV_STRICT,
    [HSW_OPT_TAG] = HSW_ENV_TAG,
    [HSW_OPT_STATS] = HSW_ENV_STATS,
    [HSW_OPT_REPORT] = HSW_ENV_REPORT,
    [HSW_OPT_KEEP] = HSW_ENV_KEEP,
    [HSW_OPT_FAULT_EVERY] = HSW_ENV_FAULT_EVERY,
    [HSW_OPT_REFRESH_THREAD] = HSW_ENV_REFRESH_THREAD,
    [HSW_OPT_SAMPLE] = HSW_ENV_SAMPLE,
    [HSW_OPT_DIR] = HSW_ENV_DIR,
    [HSW_OPT_LABELS] = HSW_ENV_LABELS,
    [HSW_OPT_WARNED] = HSW_ENV_WARNED,
    [HSW_OPT_LATENCY] = HSW_ENV_LATENCY,
    [HSW_OPT_LATENCY_CLOCK] = HSW_ENV_LATENCY_CLOCK,
};

/* The process environment copied from /proc when `environ` is not set yet:
 * NUL-separated entries, as the kernel gives them. */
static char proc_environ[32768];
static size_t proc_environ_length;
static bool proc_environ_loaded;

static void load_proc_environ(void)
{
    int fd = open("/proc/self/environ", O_RDONLY | O_CLOEXEC);

    proc_environ_loaded = true;
    if (fd < 0)
        return;
    while (proc_environ_length < sizeof proc_environ - 1) {
        ssize_t got = read(fd, proc_environ + proc_environ_length,
                           sizeof proc_environ - 1 - proc_environ_length);
        if (got <= 0)
            break;
        proc_environ_length += (size_t)got;
    }
    proc_environ[proc_environ_length] = '\0';
    close(fd);
}

static const char *match_entry(const char *entry, const char *name,
                               size_t name_length)
{
    if (strncmp(entry, name, name_length) == 0 && entry[name_length] == '=')
        return entry + name_length + 1;
    return NULL;
}

static const char *lookup(const char *name)
{
    size_t name_length = strlen(name);

    if (environ != NULL) {
        for (char **entry = environ; *entry != NULL; entry++) {
            const char *value = match_entry(*entry, name, name_length);
            if (value != NULL)
                return value;
        }
        return NULL;
    }
    if (!proc_environ_loaded)
        load_proc_environ();
    for (size_t at = 0; at < proc_environ_length;
         at += strlen(proc_environ + at) + 1) {
        const char *value = match_entry(proc_environ + at, name, name_length);
        if (value != NULL)
            return value;
    }
    return NULL;
}

const char *hsw_option_string(enum hsw_option option)
{
    return lookup(option_names[option]);
}

const char *hsw_option_lookup(const char *variable)
{
    return lookup(variable);
}

bool hsw_parse_size(const char *text, uint64_t *out)
{
    uint64_t value = 0;
    const char *at = text;
    unsigned shift = 0;

    if (text == NULL || *at < '0' || *at > '9')
        return false;
    for (; *at >= '0' && *at <= '9'; at++) {
        if (value > (UINT64_C(1) << 62) / 10)
            return false;
        value = value * 10 + (uint64_t)(*at - '0');
    }
    switch (*at) {
    case 'K': case 'k': shift = 10; at++; break;
    case 'M': case 'm': shift = 20; at++; break;
    case 'G': case 'g': shift = 30; at++; break;
    default: break;
    }
    if (*at != '\0' || value > (UINT64_C(1) << 62) >> shift)
        return false;
    *out = value << shift;
    return true;
}

static const char *const truths[] = {"1", "true", "yes", "on"};
static const char *const falsities[] = {"0", "false", "no", "off"};

static bool is_boolean_word(const char *value)
{
    for (size_t i = 0; i < sizeof truths / sizeof truths[0]; i++)
        if (strcasecmp(value, truths[i]) == 0 || strcasecmp(value, falsities[i]) == 0)
            return true;
    return false;
}

bool hsw_option_bool(enum hsw_option option, bool fallback)
{
    const char *value = hsw_option_string(option);

    if (value == NULL || value[0] == '\0')
        return fallback;
    for (size_t i = 0; i < sizeof truths / sizeof truths[0]; i++) {
        if (strcasecmp(value, truths[i]) == 0)
            return true;
        if (strcasecmp(value, falsities[i]) == 0)
            return false;
    }
    hsw_log("ignoring ", option_names[option], "='", value,
            "' (expected 1/0, true/false, yes/no or on/off)", (const char *)NULL);
    return fallback;
}

unsigned hsw_option_stats_level(void)
{
    const char *value = hsw_option_string(HSW_OPT_STATS);

    if (value == NULL || value[0] == '\0' || strcasecmp(value, "default") == 0)
        return HSW_STATS_DEFAULT;
    if (strcasecmp(value, "exact") == 0)
        return HSW_STATS_EXACT;
    if (is_boolean_word(value))
        return hsw_option_bool(HSW_OPT_STATS, true) ? HSW_STATS_DEFAULT : 0;
    hsw_log("ignoring HEAPSWITCH_STATS='", value, "' (expected default, exact, or 0/off)",
            (const char *)NULL);
    return HSW_STATS_DEFAULT;
}
