/* HEAPSWITCH_LABELS: the one check of a label list, for the writer (at
 * start-up, inside malloc: no stdio, no allocation) and the reader (a
 * segment's labels are untrusted). */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "lib/labels.h"

/* The labels heapswitch's outputs set themselves (the export's pid,
 * program, command, backend, tag, kind, stats, estimated), those a
 * Prometheus server attaches to every scraped series (job, instance),
 * and the histogram and summary ones (le, quantile). */
static const char *const reserved[] = {
    "pid",  "program", "command",  "backend", "tag",      "kind", "stats",
    "estimated", "job", "instance", "le", "quantile", "namespace_pid",
};

int hsw_label_reserved(const char *name, size_t length)
{
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (strlen(reserved[i]) == length && memcmp(reserved[i], name, length) == 0)
            return 1;
    return 0;
}

static bool name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool name_char(char c)
{
    return name_start(c) || (c >= '0' && c <= '9');
}

static bool value_char(char c)
{
    return c > ' ' && c < 0x7f && c != ',' && c != '=' && c != '"' && c != '\\';
}

/* Whether the key at text[at, at + length) appeared before `at`. */
static bool repeated(const char *text, size_t at, size_t length)
{
    size_t pair = 0;

    while (pair < at) {
        size_t key = strcspn(text + pair, "=");
        if (key == length && memcmp(text + pair, text + at, length) == 0)
            return true;
        pair += strcspn(text + pair, ",") + 1;
    }
    return false;
}

static const char *blame(size_t at, size_t length, size_t *culprit_at, size_t *culprit_length,
                         const char *why)
{
    *culprit_at = at;
    *culprit_length = length;
    return why;
}

const char *hsw_labels_check(const char *text, size_t *culprit_at, size_t *culprit_length)
{
    size_t at = 0, count = 0, total = strlen(text);

    if (total == 0)
        return NULL;
    if (total >= HSW_LABELS_SIZE)
        return blame(0, total, culprit_at, culprit_length,
                     "is too long (at most 511 bytes in all)");
    for (;;) {
        size_t key = at, key_length, value, value_length;

        while (name_char(text[at]))
            at++;
        key_length = at - key;
        if (text[at] != '=')
            return blame(key, strcspn(text + key, ","), culprit_at, culprit_length,
                         key_length == 0 || name_char(text[at]) || text[at] == ',' ||
                                 text[at] == '\0'
                             ? "is not key=value"
                             : "has a label name with a character outside [a-zA-Z0-9_]");
        if (key_length == 0)
            return blame(key, 1, culprit_at, culprit_length, "has an empty label name");
        if (!name_start(text[key]))
            return blame(key, key_length, culprit_at, culprit_length,
                         "has a label name that starts with a digit");
        if (key_length > HSW_LABEL_NAME_MAX)
            return blame(key, key_length, culprit_at, culprit_length,
                         "has a label name longer than 63 characters");
        if (key_length >= 2 && text[key] == '_' && text[key + 1] == '_')
            return blame(key, key_length, culprit_at, culprit_length,
                         "has a label name starting with \"__\" (reserved by Prometheus)");
        if (hsw_label_reserved(text + key, key_length))
            return blame(key, key_length, culprit_at, culprit_length,
                         "has a label name heapswitch sets itself (reserved: pid, program, "
                         "command, backend, tag, kind, stats, estimated, namespace_pid, job, "
                         "instance, le, quantile)");
        if (repeated(text, key, key_length))
            return blame(key, key_length, culprit_at, culprit_length,
                         "names a label twice");
        value = ++at;
        while (value_char(text[at]))
            at++;
        value_length = at - value;
        if (text[at] != ',' && text[at] != '\0')
            return blame(at, 1, culprit_at, culprit_length,
                         "has a value with a character other than printable ASCII "
                         "(space, ',', '=', '\"' and '\\' excluded)");
        if (value_length == 0)
            return blame(key, key_length, culprit_at, culprit_length,
                         "has a label with an empty value");
        if (value_length > HSW_LABEL_VALUE_MAX)
            return blame(value, value_length, culprit_at, culprit_length,
                         "has a value longer than 127 characters");
        if (++count > HSW_LABELS_MAX)
            return blame(key, key_length, culprit_at, culprit_length,
                         "has more than 8 labels");
        if (text[at] == '\0')
            return NULL;
        at++;
        if (text[at] == '\0')
            return blame(at - 1, 1, culprit_at, culprit_length, "ends with a comma");
    }
}
