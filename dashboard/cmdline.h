/* Option tables for the subcommands: one table per command gives both
 * getopt_long's arguments and the option lines of its --help. */
#ifndef HSW_CMDLINE_H
#define HSW_CMDLINE_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

/* The forms every subcommand can print. */
enum hsw_output { HSW_OUTPUT_TEXT, HSW_OUTPUT_JSON, HSW_OUTPUT_CSV };

struct hsw_option {
    const char *name;     /* the long name, without "--" */
    int id;               /* a short option's letter, or a value >= 256 */
    const char *argument; /* the argument's name in the help, NULL for none */
    const char *help;     /* one line */
};

/* Fills longs (count + 1 entries) and shorts ("+:" then the letters: stop
 * at the first non-option, ':' for a missing argument). */
void hsw_options_build(const struct hsw_option *options, size_t count, struct option *longs,
                       char *shorts, size_t shorts_size);

/* The same, but options and operands may come in any order (getopt_long
 * permutes argv; for commands without a "--" COMMAND). */
void hsw_options_build_permuting(const struct hsw_option *options, size_t count,
                                 struct option *longs, char *shorts, size_t shorts_size);

/* Prints "  -n, --runs N           help" for every option. */
void hsw_options_help(FILE *out, const struct hsw_option *options, size_t count);

/* The option getopt_long just refused, for an error message ("-x",
 * "--bad" or "--runs"). */
const char *hsw_options_culprit(char **argv, const struct hsw_option *options, size_t count);

/* "--runs" for the option of this id. */
const char *hsw_options_name(const struct hsw_option *options, size_t count, int id);

/* Parses a whole number in [min, max] (0 or -1). */
int hsw_parse_range(const char *text, unsigned long min, unsigned long max,
                    unsigned long *out);

/* After getopt_long, the command that follows "--" (argv + optind); NULL
 * after printing a usage error, with *status set to 2. */
char **hsw_command_after_dashes(const char *name, int argc, char **argv, int *status);

#endif
