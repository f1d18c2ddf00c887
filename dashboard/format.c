/* Text formatting shared by the views. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "dashboard/format.h"

const char *hsw_format_bytes(char *out, size_t size, double bytes)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    unsigned unit = 0;

    /* The next unit from the value that would print as "1024" once rounded. */
    while (fabs(bytes) >= (unit == 0 ? 1023.5 : 1023.95) &&
           unit + 1 < sizeof units / sizeof units[0]) {
        bytes /= 1024;
        unit++;
    }
    if (unit == 0)
        snprintf(out, size, "%.0f B", bytes);
    else
        snprintf(out, size, "%.1f %s", bytes, units[unit]);
    return out;
}

const char *hsw_format_count(char *out, size_t size, double count)
{
    static const char *const suffixes[] = {"", "k", "M", "G", "T"};
    unsigned suffix = 0;

    /* The next suffix from the value that would print as "1000" once rounded. */
    while (fabs(count) >= (suffix == 0 ? 999.5 : 999.95) &&
           suffix + 1 < sizeof suffixes / sizeof suffixes[0]) {
        count /= 1000;
        suffix++;
    }
    if (suffix == 0)
        snprintf(out, size, "%.0f", count);
    else
        snprintf(out, size, "%.1f%s", count, suffixes[suffix]);
    return out;
}

void hsw_json_string(FILE *out, const char *text)
{
    fputc('"', out);
    for (const unsigned char *at = (const unsigned char *)text; *at != '\0'; at++) {
        if (*at == '"' || *at == '\\')
            fprintf(out, "\\%c", *at);
        else if (*at < 0x20 || *at == 0x7f)
            fprintf(out, "\\u%04x", *at);
        else
            fputc(*at, out);
    }
    fputc('"', out);
}

void hsw_csv_field(FILE *out, const char *text)
{
    bool quote = false;

    for (const char *at = text; *at != '\0'; at++)
        if (*at == ',' || *at == '"' || *at == '\n' || *at == '\r')
            quote = true;
    if (!quote) {
        fputs(text, out);
        return;
    }
    fputc('"', out);
    for (const char *at = text; *at != '\0'; at++) {
        if (*at == '"')
            fputc('"', out);
        fputc(*at, out);
    }
    fputc('"', out);
}

int hsw_parse_seconds(const char *text, double *seconds)
{
    char *end;
    double value;

    errno = 0;
    value = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(value > 0) || value > 86400)
        return -1;
    *seconds = value;
    return 0;
}

int hsw_parse_count(const char *text, unsigned long max, unsigned long *count)
{
    char *end;
    unsigned long value;

    errno = 0;
    if (text[0] < '0' || text[0] > '9')
        return -1;
    value = strtoul(text, &end, 10);
    if (errno != 0 || *end != '\0' || value == 0 || value > max)
        return -1;
    *count = value;
    return 0;
}
