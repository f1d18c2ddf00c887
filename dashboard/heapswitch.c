/* The `heapswitch` command: dispatches to its subcommands. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dashboard/command.h"

static const struct hsw_command *const commands[] = {
    &hsw_command_top,
    &hsw_command_stat,
    &hsw_command_run,
    &hsw_command_ab,
    &hsw_command_export,
    &hsw_command_sites,
};
#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

int hsw_usage_error(const char *command, const char *format, ...)
{
    va_list arguments;

    fprintf(stderr, "heapswitch %s: ", command);
    va_start(arguments, format);
    vfprintf(stderr, format, arguments);
    va_end(arguments);
    fprintf(stderr, "\nTry 'heapswitch %s --help'.\n", command);
    return 2;
}

void hsw_error(const char *command, const char *format, ...)
{
    va_list arguments;

    fprintf(stderr, "heapswitch %s: ", command);
    va_start(arguments, format);
    vfprintf(stderr, format, arguments);
    va_end(arguments);
    fputc('\n', stderr);
}

static void print_help(FILE *out)
{
    fprintf(out, "usage: heapswitch COMMAND [ARGS...]\n\n"
                 "Watch and compare the allocators of processes running under\n"
                 "libheapswitch (LD_PRELOAD=libheapswitch.so, HEAPSWITCH_BACKEND=...).\n\n"
                 "commands:\n");
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        fprintf(out, "  %-8s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out, "\nEvery command takes --dir DIR: the directory of the segments (default\n"
                 "$HEAPSWITCH_DIR, else /dev/shm).\n");
    fprintf(out, "\n'heapswitch COMMAND --help' describes one; man heapswitch(1) and "
                 "heapswitch(7) the rest.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        print_help(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("heapswitch %s\n", PACKAGE_VERSION);
        return 0;
    }
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (strcmp(argv[1], commands[i]->name) == 0) {
            int command_argc = argc - 1, status;
            if ((status = hsw_take_dir_option(argv[1], &command_argc, argv + 1)) != 0)
                return status;
            return commands[i]->run(command_argc, argv + 1);
        }
    fprintf(stderr, "heapswitch: unknown command '%s' (commands:", argv[1]);
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        fprintf(stderr, " %s", commands[i]->name);
    fprintf(stderr, ")\nTry 'heapswitch --help'.\n");
    return 2;
}
