/* The subcommands of `heapswitch`: each is a file exporting one const
 * struct hsw_command, listed once in dashboard/heapswitch.c. */
#ifndef HSW_COMMAND_H
#define HSW_COMMAND_H

struct hsw_command {
    const char *name;
    const char *usage;   /* the argument synopsis, after "heapswitch NAME" */
    const char *summary; /* one line for `heapswitch --help` */
    /* Runs with argv[0] = the command name; returns the exit status. */
    int (*run)(int argc, char **argv);
};

extern const struct hsw_command hsw_command_top;
extern const struct hsw_command hsw_command_stat;
extern const struct hsw_command hsw_command_run;
extern const struct hsw_command hsw_command_ab;
extern const struct hsw_command hsw_command_export;
extern const struct hsw_command hsw_command_sites;

/* dashboard/heapswitch.c: prints "heapswitch NAME: message" on stderr,
 * then "Try 'heapswitch NAME --help'." and returns 2 (usage errors). */
int hsw_usage_error(const char *command, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints "heapswitch NAME: message" on stderr (runtime errors). */
void hsw_error(const char *command, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* dashboard/segment_dir.c: takes --dir DIR (or --dir=DIR) out of a
 * command's arguments (before any "--"), then checks the directory it or
 * HEAPSWITCH_DIR names and chooses it for the reader and for the
 * programs the command starts. Returns 0, or the exit status after an
 * error message. */
int hsw_take_dir_option(const char *command, int *argc, char **argv);

#endif
