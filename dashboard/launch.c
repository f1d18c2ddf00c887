/* The launching code that `heapswitch run` and `heapswitch ab` share:
 * environment and preload set-up, exec, and for ab a fork and wait4 that
 * measure wall time, CPU time and max RSS. An exec failure in the child
 * reaches the parent through a close-on-exec pipe, so "command not found"
 * is told apart from a command that ran and failed. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dashboard/command.h"
#include "dashboard/launch.h"
#include "dashboard/library.h"

void hsw_launch_setenv(struct hsw_launch *launch, const char *name, const char *value)
{
    if (launch->env_count < HSW_LAUNCH_MAX_ENV) {
        launch->env[launch->env_count].name = name;
        launch->env[launch->env_count].value = value;
        launch->env_count++;
    }
}

int hsw_launch_environment(const struct hsw_launch *launch)
{
    if (launch->preload != NULL && hsw_set_preload(launch->preload) != 0)
        return errno ? errno : ENOMEM;
    for (unsigned i = 0; i < launch->env_count; i++) {
        int failed = launch->env[i].value != NULL
                         ? setenv(launch->env[i].name, launch->env[i].value, 1)
                         : unsetenv(launch->env[i].name);
        if (failed != 0)
            return errno ? errno : EINVAL;
    }
    return 0;
}

int hsw_launch_exec(const struct hsw_launch *launch, bool *exec_failed)
{
    int error = hsw_launch_environment(launch);

    *exec_failed = false;
    if (error != 0)
        return error;
    execvp(launch->argv[0], launch->argv);
    *exec_failed = true;
    return errno; /* read before anything else can change it */
}

int hsw_launch_exit_status(int exec_errno)
{
    return exec_errno == ENOENT ? 127 : 126;
}

static double seconds_of(struct timeval time)
{
    return (double)time.tv_sec + (double)time.tv_usec / 1e6;
}

/* The child: output silenced if asked, then the environment and exec; an
 * error goes to the parent through `report`. */
static void child(const struct hsw_launch *launch, int report)
{
    bool exec_failed;
    int code;

    if (launch->quiet) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, STDOUT_FILENO);
            dup2(null, STDERR_FILENO);
            if (null > STDERR_FILENO)
                close(null);
        }
    }
    code = hsw_launch_exec(launch, &exec_failed);
    if (code == 0)
        code = EINVAL;
    if (write(report, &code, sizeof code) < 0)
        _exit(126);
    _exit(hsw_launch_exit_status(code));
}

int hsw_launch_wait(const struct hsw_launch *launch, const char *who,
                    struct hsw_launch_result *result)
{
    struct timespec start, end;
    struct rusage usage;
    int errors[2], status = 0, error;
    pid_t pid, waited;

    memset(result, 0, sizeof *result);
    if (pipe2(errors, O_CLOEXEC) != 0) {
        hsw_error(who, "pipe: %s", strerror(errno));
        return -1;
    }
    fflush(NULL);
    clock_gettime(CLOCK_MONOTONIC, &start);
    pid = fork();
    if (pid < 0) {
        error = errno;
        close(errors[0]);
        close(errors[1]);
        hsw_error(who, "fork: %s", strerror(error));
        return -1;
    }
    if (pid == 0) {
        close(errors[0]);
        child(launch, errors[1]);
    }
    close(errors[1]);
    do
        waited = wait4(pid, &status, 0, &usage);
    while (waited < 0 && errno == EINTR);
    error = errno;
    clock_gettime(CLOCK_MONOTONIC, &end);
    if (read(errors[0], &result->exec_errno, sizeof result->exec_errno) !=
        (ssize_t)sizeof result->exec_errno)
        result->exec_errno = 0;
    close(errors[0]);
    if (waited < 0) {
        hsw_error(who, "wait4: %s", strerror(error));
        return -1;
    }
    result->pid = pid;
    result->status = status;
    result->wall_seconds =
        (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    result->user_seconds = seconds_of(usage.ru_utime);
    result->system_seconds = seconds_of(usage.ru_stime);
    result->max_rss_bytes = (uint64_t)usage.ru_maxrss * 1024;
    return 0;
}
