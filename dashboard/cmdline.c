/* Option tables for the subcommands: getopt_long's tables and the option
 * lines of --help come from one description, so they cannot disagree. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard/cmdline.h"
#include "dashboard/command.h"

void hsw_options_build(const struct hsw_option *options, size_t count, struct option *longs,
                       char *shorts, size_t shorts_size)
{
    size_t used = 0;

    if (shorts_size > 2) {
        shorts[used++] = '+';
        shorts[used++] = ':';
    }
    for (size_t i = 0; i < count; i++) {
        longs[i].name = options[i].name;
        longs[i].has_arg = options[i].argument != NULL ? required_argument : no_argument;
        longs[i].flag = NULL;
        longs[i].val = options[i].id;
        if (options[i].id < 256 && used + 3 < shorts_size) {
            shorts[used++] = (char)options[i].id;
            if (options[i].argument != NULL)
                shorts[used++] = ':';
        }
    }
    memset(&longs[count], 0, sizeof longs[count]);
    if (shorts_size > 0)
        shorts[used < shorts_size ? used : shorts_size - 1] = '\0';
}

void hsw_options_build_permuting(const struct hsw_option *options, size_t count,
                                 struct option *longs, char *shorts, size_t shorts_size)
{
    hsw_options_build(options, count, longs, shorts, shorts_size);
    if (shorts[0] == '+')
        memmove(shorts, shorts + 1, strlen(shorts)); /* the NUL too */
}

void hsw_options_help(FILE *out, const struct hsw_option *options, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        char left[64];
        int n;

        if (options[i].id < 256)
            n = snprintf(left, sizeof left, "-%c, --%s", options[i].id, options[i].name);
        else
            n = snprintf(left, sizeof left, "    --%s", options[i].name);
        if (options[i].argument != NULL && n > 0 && (size_t)n < sizeof left)
            snprintf(left + n, sizeof left - (size_t)n, " %s", options[i].argument);
        fprintf(out, "  %-24s %s\n", left, options[i].help);
    }
}

const char *hsw_options_culprit(char **argv, const struct hsw_option *options, size_t count)
{
    static char text[64];
    const char *word = optind > 0 ? argv[optind - 1] : "";

    /* A long option is named as written, less any "=value"; a short one
     * (perhaps in a group such as -xn) by its letter. */
    if (strncmp(word, "--", 2) == 0) {
        snprintf(text, sizeof text, "%.*s", (int)strcspn(word, "="), word);
        return text;
    }
    if (optopt > 0 && optopt < 256) {
        snprintf(text, sizeof text, "-%c", optopt);
        return text;
    }
    for (size_t i = 0; i < count; i++)
        if (options[i].id == optopt) {
            snprintf(text, sizeof text, "--%s", options[i].name);
            return text;
        }
    return word;
}

const char *hsw_options_name(const struct hsw_option *options, size_t count, int id)
{
    static char text[64];

    for (size_t i = 0; i < count; i++)
        if (options[i].id == id) {
            snprintf(text, sizeof text, "--%s", options[i].name);
            return text;
        }
    return "?";
}

int hsw_parse_range(const char *text, unsigned long min, unsigned long max,
                    unsigned long *out)
{
    char *end;
    unsigned long value;

    if (text[0] < '0' || text[0] > '9')
        return -1;
    errno = 0;
    value = strtoul(text, &end, 10);
    if (errno != 0 || *end != '\0' || value < min || value > max)
        return -1;
    *out = value;
    return 0;
}

/* The command after "--" (argv + optind), or NULL after a usage error. */
char **hsw_command_after_dashes(const char *name, int argc, char **argv, int *status)
{
    *status = 0;
    if (optind > argc || optind < 2 || strcmp(argv[optind - 1], "--") != 0) {
        if (optind < argc)
            *status = hsw_usage_error(name, "put '--' before the command ('%s')", argv[optind]);
        else
            *status = hsw_usage_error(name, "missing '--' and the command to run");
        return NULL;
    }
    if (optind >= argc) {
        *status = hsw_usage_error(name, "missing the command after '--'");
        return NULL;
    }
    return argv + optind;
}
