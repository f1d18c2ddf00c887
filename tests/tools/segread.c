/* Prints what the reader sees, for the shell tests: one line per segment
 * ("key=value ..."), or one process's with -p PID; refused segments as
 * "problem NAME: why" on stderr. -r removes dead segments while scanning.
 * Links libheapswitch-reader only. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "include/heapswitch.h"

static const char *state_name(enum heapswitch_process_state state)
{
    return state == HEAPSWITCH_PROCESS_RUNNING ? "running"
           : state == HEAPSWITCH_PROCESS_EXITED ? "exited"
                                                : "dead";
}

static void print_snapshot(const struct heapswitch_snapshot *s, void *context)
{
    const struct heapswitch_counters *c = &s->counters;

    (void)context;
    printf("pid=%d state=%s backend=%s tag=%s threads=%u malloc=%" PRIu64
           " calloc=%" PRIu64 " realloc=%" PRIu64 " free=%" PRIu64 " aligned=%" PRIu64
           " failures=%" PRIu64 " requested=%" PRIu64 " allocated=%" PRIu64
           " freed=%" PRIu64 " live=%" PRIu64 " peak_live=%" PRIu64 " requests=%" PRIu64
           " heap_valid=%d resident=%" PRIu64 " fragmentation=%.4f rss=%" PRIu64
           " ns_pid=%d pid_namespace=%" PRIu64 " labels=%s\n",
           (int)s->pid, state_name(s->state), s->backend, s->tag[0] ? s->tag : "-",
           s->threads, c->malloc_calls, c->calloc_calls, c->realloc_calls, c->free_calls,
           c->aligned_calls, c->failures, c->bytes_requested, c->bytes_allocated,
           c->bytes_freed, s->live_bytes, s->peak_live_bytes, c->requests, s->heap.valid,
           s->heap.resident, s->fragmentation, s->rss_bytes, (int)s->namespace_pid,
           s->pid_namespace, s->labels[0] ? s->labels : "-");
}

static void print_problem(const char *segment, const char *problem, void *context)
{
    (void)context;
    fprintf(stderr, "problem %s: %s\n", segment, problem);
}

int main(int argc, char **argv)
{
    struct heapswitch_snapshot snapshot;
    char why[256];
    int option;
    unsigned flags = 0;
    long pid = 0;

    while ((option = getopt(argc, argv, "p:r")) != -1) {
        if (option == 'p')
            pid = strtol(optarg, NULL, 10);
        else if (option == 'r')
            flags |= HEAPSWITCH_SCAN_REMOVE_DEAD;
        else
            return 2;
    }
    if (pid != 0) {
        if (heapswitch_read_pid((pid_t)pid, &snapshot, why, sizeof why) != 0) {
            fprintf(stderr, "segread: %s\n", why);
            return 1;
        }
        print_snapshot(&snapshot, NULL);
        return 0;
    }
    return heapswitch_scan(flags, print_snapshot, print_problem, NULL) < 0 ? 1 : 0;
}
