/* --dir DIR, which every heapswitch command takes: the directory the
 * segments are read from (HEAPSWITCH_DIR, default /dev/shm). Taken out
 * of the arguments before the command parses them, and put in the
 * environment so that the programs `run` and `ab` start publish there. */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard/command.h"
#include "include/heapswitch.h"
#include "lib/env_names.h"

/* The value of --dir at argv[at] (as "--dir DIR" or "--dir=DIR"), and how
 * many words it takes; 0 when argv[at] is not --dir. */
static int dir_option(int argc, char **argv, int at, const char **value)
{
    if (strncmp(argv[at], "--dir=", 6) == 0) {
        *value = argv[at] + 6;
        return 1;
    }
    if (strcmp(argv[at], "--dir") != 0)
        return 0;
    *value = at + 1 < argc ? argv[at + 1] : NULL;
    return 2;
}

int hsw_take_dir_option(const char *command, int *argc, char **argv)
{
    const char *directory = NULL;
    char why[512];
    bool help = false;

    for (int at = 1; at < *argc && strcmp(argv[at], "--") != 0;) {
        const char *value;
        int words = dir_option(*argc, argv, at, &value);

        if (words == 0) {
            help = help || strcmp(argv[at], "--help") == 0 || strcmp(argv[at], "-h") == 0;
            at++;
            continue;
        }
        if (value == NULL)
            return hsw_usage_error(command, "--dir needs a directory");
        directory = value;
        memmove(argv + at, argv + at + words, (size_t)(*argc - at - words + 1) * sizeof *argv);
        *argc -= words;
    }
    if (help)
        return 0;
    if (directory == NULL) {
        directory = getenv(HSW_ENV_DIR);
        if (directory == NULL || directory[0] == '\0')
            return 0; /* /dev/shm, checked as before when read */
    }
    if (heapswitch_set_directory(directory, why, sizeof why) != 0) {
        hsw_error(command, "%s", why);
        return 1;
    }
    if (setenv(HSW_ENV_DIR, directory, 1) != 0) {
        hsw_error(command, "cannot set %s", HSW_ENV_DIR);
        return 1;
    }
    return 0;
}
