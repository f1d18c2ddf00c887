/* heapswitch run: runs a command with libheapswitch preloaded. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dashboard/command.h"
#include "dashboard/library.h"

#define USAGE "[-b BACKEND] [-t TAG] [--report FILE] [--strict] -- COMMAND [ARGS...]"

static int help(void)
{
    printf("usage: heapswitch run " USAGE "\n\n"
           "Runs COMMAND with libheapswitch preloaded (prepended to LD_PRELOAD), so\n"
           "every allocation goes to BACKEND and is counted. Exits with COMMAND's\n"
           "status; 127 if it is not found, 126 if it cannot be run.\n\n"
           "  -b, --backend NAME   one of: %s (default: $HEAPSWITCH_BACKEND or system)\n"
           "  -t, --tag TAG        a label for A/B groups (HEAPSWITCH_TAG)\n"
           "  --report FILE        append a JSON line per process at exit (HEAPSWITCH_REPORT)\n"
           "  --strict             an unavailable backend stops COMMAND (HEAPSWITCH_STRICT=1)\n",
           hsw_backend_list());
    return 0;
}

static int valid_tag(const char *tag)
{
    size_t length = strlen(tag);

    if (length == 0 || length > 63)
        return 0;
    for (const char *at = tag; *at != '\0'; at++)
        if ((unsigned char)*at < 0x21 || (unsigned char)*at > 0x7e)
            return 0;
    return 1;
}


static int run(int argc, char **argv)
{
    const char *backend = NULL, *tag = NULL, *report = NULL, *library, *why = NULL;
    int strict = 0, at = 1;

    for (; at < argc; at++) {
        const char *option = argv[at];
        if (strcmp(option, "--") == 0)
            break;
        if (strcmp(option, "-h") == 0 || strcmp(option, "--help") == 0)
            return help();
        if (strcmp(option, "--strict") == 0) {
            strict = 1;
            continue;
        }
        if (strcmp(option, "-b") == 0 || strcmp(option, "--backend") == 0 ||
            strcmp(option, "-t") == 0 || strcmp(option, "--tag") == 0 ||
            strcmp(option, "--report") == 0) {
            if (at + 1 >= argc)
                return hsw_usage_error("run", "%s needs a value", option);
            if (option[1] == 'b' || option[2] == 'b')
                backend = argv[++at];
            else if (option[1] == 't' || option[2] == 't')
                tag = argv[++at];
            else
                report = argv[++at];
            continue;
        }
        if (option[0] == '-')
            return hsw_usage_error("run", "unknown option '%s'", option);
        return hsw_usage_error("run", "put '--' before the command ('%s')", option);
    }
    if (at >= argc)
        return hsw_usage_error("run", "missing '--' and the command to run");
    if (at + 1 >= argc)
        return hsw_usage_error("run", "missing the command after '--'");
    if (backend != NULL && !hsw_backend_known(backend, &why))
        return hsw_usage_error("run", "backend '%s' %s (valid: %s)", backend, why,
                               hsw_backend_list());
    if (tag != NULL && !valid_tag(tag))
        return hsw_usage_error("run", "a tag is 1 to 63 printable characters without "
                                      "spaces, not '%s'", tag);
    if (report != NULL && report[0] == '\0')
        return hsw_usage_error("run", "--report needs a file name");

    library = hsw_library_path(&why);
    if (library == NULL) {
        hsw_error("run", "%s", why);
        return 1;
    }
    if (hsw_set_preload(library) != 0 || (backend && setenv("HEAPSWITCH_BACKEND", backend, 1)) ||
        (tag && setenv("HEAPSWITCH_TAG", tag, 1)) ||
        (report && setenv("HEAPSWITCH_REPORT", report, 1)) ||
        (strict && setenv("HEAPSWITCH_STRICT", "1", 1))) {
        hsw_error("run", "cannot set the environment: %s", strerror(errno));
        return 1;
    }
    execvp(argv[at + 1], argv + at + 1);
    hsw_error("run", "%s: %s", argv[at + 1],
              errno == ENOENT ? "command not found" : strerror(errno));
    return errno == ENOENT ? 127 : 126;
}

const struct hsw_command hsw_command_run = {
    .name = "run",
    .usage = USAGE,
    .summary = "run a command under libheapswitch and a chosen backend",
    .run = run,
};
