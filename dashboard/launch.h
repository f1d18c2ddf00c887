/* Running a command under a chosen allocator, for `heapswitch run` and
 * `heapswitch ab`: the environment changes, the preload, exec, and for ab
 * fork, wait4 and the clock. */
#ifndef HSW_LAUNCH_H
#define HSW_LAUNCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define HSW_LAUNCH_MAX_ENV 8

struct hsw_launch {
    char **argv;         /* the command, NULL-terminated */
    const char *preload; /* a library to put first in LD_PRELOAD, or NULL */
    struct {
        const char *name;
        const char *value; /* NULL: unset */
    } env[HSW_LAUNCH_MAX_ENV];
    unsigned env_count;
    bool quiet; /* the command's stdout and stderr to /dev/null */
};

/* Adds an environment change (value NULL unsets name). */
void hsw_launch_setenv(struct hsw_launch *launch, const char *name, const char *value);

/* Applies the preload and the environment changes to this process.
 * Returns 0, or the errno of the failure. */
int hsw_launch_environment(const struct hsw_launch *launch);

/* Applies them and execs the command. Returns only on failure, with the
 * errno of what failed; *exec_failed tells an exec failure from one of
 * setting the environment. */
int hsw_launch_exec(const struct hsw_launch *launch, bool *exec_failed);

struct hsw_launch_result {
    pid_t pid;
    int exec_errno;    /* non-zero: the command could not be run at all */
    int status;        /* wait4's status */
    double wall_seconds;
    double user_seconds, system_seconds;
    uint64_t max_rss_bytes;
};

/* Forks, execs the command in the child, waits for it (retrying on EINTR)
 * and measures it. Returns 0 (see result->exec_errno), or -1 after
 * printing an error as `heapswitch WHO: ...`. */
int hsw_launch_wait(const struct hsw_launch *launch, const char *who,
                    struct hsw_launch_result *result);

/* Exit status for a command that could not be run: 127 not found, else 126. */
int hsw_launch_exit_status(int exec_errno);

#endif
