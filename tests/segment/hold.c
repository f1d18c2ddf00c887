/* A program for the segment tests (the scripts in tests/segment), run with
 * libheapswitch preloaded: it makes an exact number of malloc/free pairs,
 * prints its pid, and, depending on the mode, waits for SIGUSR1 so that a
 * script can look at its live segment, forks, or execs itself.
 *
 *   hold run N [STATUS]    N pairs, prints "pid PID", exits with STATUS
 *   hold wait N [STATUS]   the same, but waits for SIGUSR1 before exiting
 *   hold fork P C          P pairs, prints "parent PID", forks; the child
 *                          makes C pairs, prints "child PID"; both wait;
 *                          SIGUSR1 to the parent ends both (exit status 0
 *                          when the child exited 0)
 *   hold exec N1 N2        N1 pairs, prints "first PID", waits for SIGUSR1,
 *                          then execs itself as "hold wait N2"
 *
 * Every wait ends after two minutes anyway (normally, through exit()), so
 * that a script killed half-way leaves nothing running. Not linked with
 * libheapswitch: it comes in by LD_PRELOAD.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define WAIT_LIMIT_SECONDS 120

static volatile sig_atomic_t woken;

static void wake(int signal_number)
{
    (void)signal_number;
    woken = 1;
}

/* Exactly `count` malloc and `count` free calls: the pointers go through
 * a volatile variable so that the compiler cannot drop or merge them. */
static void pairs(long count)
{
    for (long i = 0; i < count; i++) {
        void *volatile block = malloc((size_t)(16 + i % 200));
        if (block == NULL) {
            fprintf(stderr, "hold: malloc failed\n");
            exit(99);
        }
        ((volatile char *)block)[0] = (char)i;
        free(block);
    }
}

static long number(const char *text)
{
    char *end;
    long value = strtol(text, &end, 10);

    if (end == text || *end != '\0' || value < 0) {
        fprintf(stderr, "hold: bad number '%s'\n", text);
        exit(98);
    }
    return value;
}

/* SIGUSR1 (and the alarm) blocked from the start, then awaited with
 * sigsuspend: a signal sent as soon as the pid is printed is not lost. */
static void block_wake_signals(void)
{
    struct sigaction action;
    sigset_t set;

    memset(&action, 0, sizeof action);
    action.sa_handler = wake;
    sigemptyset(&action.sa_mask);
    sigaction(SIGUSR1, &action, NULL);
    sigaction(SIGALRM, &action, NULL);
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGALRM);
    sigprocmask(SIG_BLOCK, &set, NULL);
}

static void await_wake(void)
{
    sigset_t none;

    sigemptyset(&none);
    alarm(WAIT_LIMIT_SECONDS);
    while (!woken)
        sigsuspend(&none);
    woken = 0;
    alarm(0);
}

static void say(const char *what)
{
    printf("%s %ld\n", what, (long)getpid());
    fflush(stdout);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";

    block_wake_signals();
    if ((strcmp(mode, "run") == 0 || strcmp(mode, "wait") == 0) && (argc == 3 || argc == 4)) {
        int status = argc == 4 ? (int)number(argv[3]) : 0;
        pairs(number(argv[2]));
        say("pid");
        if (strcmp(mode, "wait") == 0)
            await_wake();
        return status;
    }
    if (strcmp(mode, "fork") == 0 && argc == 4) {
        long child_pairs = number(argv[3]);
        int status;
        pid_t child;

        pairs(number(argv[2]));
        say("parent"); /* also allocates stdout's buffer before the fork */
        child = fork();
        if (child < 0) {
            perror("hold: fork");
            return 97;
        }
        if (child == 0) {
            pairs(child_pairs);
            say("child");
            await_wake();
            exit(0);
        }
        await_wake();
        kill(child, SIGUSR1);
        if (waitpid(child, &status, 0) != child)
            return 96;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 95;
    }
    if (strcmp(mode, "exec") == 0 && argc == 4) {
        pairs(number(argv[2]));
        say("first");
        await_wake();
        execl("/proc/self/exe", argv[0], "wait", argv[3], (char *)NULL);
        perror("hold: exec");
        return 94;
    }
    fprintf(stderr, "usage: hold run|wait N [STATUS] | fork P C | exec N1 N2\n");
    return 2;
}
