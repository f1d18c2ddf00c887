/* heapswitch run: runs a command with libheapswitch preloaded, in place
 * (exec, no fork), so the command's exit status is run's. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard/cmdline.h"
#include "dashboard/command.h"
#include "dashboard/launch.h"
#include "dashboard/library.h"
#include "lib/env_names.h"

#define USAGE "[-b BACKEND] [-t TAG] [--report FILE] [--strict] -- COMMAND [ARGS...]"

enum { OPT_REPORT = 256, OPT_STRICT };

static const struct hsw_option options[] = {
    {"backend", 'b', "NAME", "the backend (default: $HEAPSWITCH_BACKEND or system)"},
    {"tag", 't', "TAG", "a label for A/B groups (HEAPSWITCH_TAG)"},
    {"report", OPT_REPORT, "FILE", "a JSON line per process at exit (HEAPSWITCH_REPORT)"},
    {"strict", OPT_STRICT, NULL, "no fallback: a bad backend stops COMMAND (HEAPSWITCH_STRICT=1)"},
    {"help", 'h', NULL, "this help"},
};
#define OPTION_COUNT (sizeof options / sizeof options[0])

static int help(void)
{
    printf("usage: heapswitch run " USAGE "\n\n"
           "Runs COMMAND with libheapswitch preloaded (prepended to LD_PRELOAD), so\n"
           "every allocation goes to BACKEND and is counted. Exits with COMMAND's\n"
           "status; 127 if it is not found, 126 if it cannot be run.\n\n");
    hsw_options_help(stdout, options, OPTION_COUNT);
    printf("\nbackends in this build: %s\n", hsw_backend_list());
    return 0;
}

static bool valid_tag(const char *tag)
{
    size_t length = strlen(tag);

    if (length == 0 || length > 63)
        return false;
    for (const char *at = tag; *at != '\0'; at++)
        if ((unsigned char)*at < 0x21 || (unsigned char)*at > 0x7e)
            return false;
    return true;
}

static int run(int argc, char **argv)
{
    const char *backend = NULL, *tag = NULL, *report = NULL, *why = NULL;
    struct option longs[OPTION_COUNT + 1];
    struct hsw_launch launch = {0};
    char shorts[32];
    bool strict = false, exec_failed;
    int option, status, error;

    hsw_options_build(options, OPTION_COUNT, longs, shorts, sizeof shorts);
    optind = 1;
    opterr = 0;
    while ((option = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        switch (option) {
        case 'b': backend = optarg; break;
        case 't': tag = optarg; break;
        case OPT_REPORT: report = optarg; break;
        case OPT_STRICT: strict = true; break;
        case 'h': return help();
        case ':':
            return hsw_usage_error("run", "%s needs a value",
                                   hsw_options_culprit(argv, options, OPTION_COUNT));
        default:
            return hsw_usage_error("run", "unknown option '%s'",
                                   hsw_options_culprit(argv, options, OPTION_COUNT));
        }
    }
    launch.argv = hsw_command_after_dashes("run", argc, argv, &status);
    if (launch.argv == NULL)
        return status;
    if (backend != NULL && !hsw_backend_known(backend, &why))
        return hsw_usage_error("run", "backend '%s' %s (valid: %s)", backend, why,
                               hsw_backend_list());
    if (tag != NULL && !valid_tag(tag))
        return hsw_usage_error("run", "a tag is 1 to 63 printable characters without "
                                      "spaces, not '%s'", tag);
    if (report != NULL && report[0] == '\0')
        return hsw_usage_error("run", "--report needs a file name");

    launch.preload = hsw_library_path(&why);
    if (launch.preload == NULL) {
        hsw_error("run", "%s", why);
        return 1;
    }
    if (backend != NULL)
        hsw_launch_setenv(&launch, HSW_ENV_BACKEND, backend);
    if (tag != NULL)
        hsw_launch_setenv(&launch, HSW_ENV_TAG, tag);
    if (report != NULL)
        hsw_launch_setenv(&launch, HSW_ENV_REPORT, report);
    if (strict)
        hsw_launch_setenv(&launch, HSW_ENV_STRICT, "1");
    error = hsw_launch_exec(&launch, &exec_failed);
    if (!exec_failed) {
        hsw_error("run", "cannot set the environment: %s", strerror(error));
        return 1;
    }
    hsw_error("run", "%s: %s", launch.argv[0],
              error == ENOENT ? "command not found" : strerror(error));
    return hsw_launch_exit_status(error);
}

const struct hsw_command hsw_command_run = {
    .name = "run",
    .usage = USAGE,
    .summary = "run a command under libheapswitch and a chosen backend",
    .run = run,
};
