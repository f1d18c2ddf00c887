/* slow_share: a workload whose allocations include a known share of slow
 * calls, and what latency sampling makes of it. Run with libheapswitch
 * preloaded (tests/latency/slow_share.sh).
 *
 * Of every SLOW_EVERY mallocs, one asks for a large block (1 MiB and up,
 * beyond every backend's small-size caches: a fresh mapping under glibc,
 * a large extent or segment elsewhere), whose pages are then touched;
 * the others replace blocks of a pool of small ones. The slow calls are
 * 1/SLOW_EVERY of the mallocs, so the percentiles below 1 - 2/SLOW_EVERY
 * are the small calls' and those above 1 - 1/(2 SLOW_EVERY) the large
 * ones': the program reads its own segment and prints both, with the
 * samples, for the script to judge. Nothing is timed here: the times are
 * heapswitch's.
 *
 * The allocating calls are mallocs, or with KIND calloc, realloc (small
 * blocks from realloc(NULL), large ones by growing a fresh 16-byte block)
 * or aligned (posix_memalign): allocating calls of every kind are timed
 * alike. With realloc0, the mallocs' blocks are freed by realloc(ptr, 0),
 * which frees and is timed as a free.
 *
 * usage: slow_share [MALLOCS [hold|KIND|realloc0]]   (prints "key=value" lines;
 * hold: then waits, its segment published, until a signal ends it) */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "include/heapswitch.h"

#define SLOW_EVERY 50
#define POOL 4096
#define LIVE_LARGE 4
#define LARGE_SIZE (64 * 1024 * 1024)
#define PAGE 4096

static volatile sig_atomic_t stopped;

enum call { CALL_MALLOC, CALL_CALLOC, CALL_REALLOC, CALL_ALIGNED, CALL_REALLOC0 };

/* A block of `size` in place of *slot, by the kind of call asked for. */
static void *replace(enum call call, unsigned char *old, size_t size, int large)
{
    void *fresh = NULL;

    switch (call) {
    case CALL_CALLOC:
        free(old);
        return calloc(1, size);
    case CALL_REALLOC:
        /* Small: realloc(NULL), as fast as a malloc (resizing a small
         * block is slow under some backends, which would blur the share).
         * Large: a small block grown into a large one. */
        free(old);
        if (!large)
            return realloc(NULL, size);
        fresh = malloc(16);
        return fresh != NULL ? realloc(fresh, size) : NULL;
    case CALL_ALIGNED:
        free(old);
        return posix_memalign(&fresh, 64, size) == 0 ? fresh : NULL;
    case CALL_REALLOC0:
        /* realloc(NULL, 0) would allocate. */
        if (old != NULL && realloc(old, 0) != NULL)
            return NULL;
        return malloc(size);
    default:
        free(old);
        return malloc(size);
    }
}

static void on_signal(int signal_number)
{
    (void)signal_number;
    stopped = 1;
}

int main(int argc, char **argv)
{
    static unsigned char *pool[POOL];
    unsigned char *large[LIVE_LARGE] = {NULL};
    unsigned long mallocs = argc > 1 ? strtoul(argv[1], NULL, 10) : 600000;
    const char *mode = argc > 2 ? argv[2] : "";
    enum call call = strcmp(mode, "calloc") == 0    ? CALL_CALLOC
                     : strcmp(mode, "realloc") == 0 ? CALL_REALLOC
                     : strcmp(mode, "aligned") == 0 ? CALL_ALIGNED
                     : strcmp(mode, "realloc0") == 0 ? CALL_REALLOC0
                                                    : CALL_MALLOC;
    unsigned long sum = 0;
    struct heapswitch_snapshot snapshot;
    char why[256];

    for (unsigned long i = 0; i < mallocs; i++) {
        if (i % SLOW_EVERY == SLOW_EVERY - 1) {
            unsigned char **slot = &large[(i / SLOW_EVERY) % LIVE_LARGE];
            size_t size = LARGE_SIZE + (i / SLOW_EVERY % 64) * PAGE;

            *slot = replace(call, *slot, size, 1);
            if (*slot == NULL)
                return 1;
            for (size_t at = 0; at < size; at += 64 * PAGE)
                (*slot)[at] = (unsigned char)i;
        } else {
            unsigned char **slot = &pool[(i * 7919) % POOL];

            *slot = replace(call, *slot, 16 + (i * 37) % 240, 0);
            if (*slot == NULL)
                return 1;
            (*slot)[0] = (unsigned char)i;
            sum += (*slot)[0];
        }
    }
    for (unsigned i = 0; i < POOL; i++)
        free(pool[i]);
    for (unsigned i = 0; i < LIVE_LARGE; i++)
        free(large[i]);

    if (heapswitch_read_pid(getpid(), &snapshot, why, sizeof why) != 0) {
        fprintf(stderr, "slow_share: cannot read my own segment: %s\n", why);
        return 1;
    }
    if (!snapshot.latency.present) {
        printf("present=0\n");
        return 0;
    }
    printf("present=1\nrate=%u\ntsc=%d\nslow_every=%d\nsum=%lu\n", snapshot.latency.rate,
           snapshot.latency.tsc, SLOW_EVERY, sum % 2);
    for (int kind = 0; kind < HEAPSWITCH_LATENCY_KINDS; kind++) {
        const char *name = kind == HEAPSWITCH_LATENCY_ALLOC ? "alloc" : "free";
        static const struct {
            const char *key;
            double q;
        } points[] = {{"p50", 0.5}, {"below", 1 - 2.0 / SLOW_EVERY},
                      {"above", 1 - 0.5 / SLOW_EVERY}, {"p999", 0.999}};

        printf("%s_samples=%llu\n", name,
               (unsigned long long)snapshot.latency.kinds[kind].samples);
        for (size_t p = 0; p < sizeof points / sizeof points[0]; p++)
            printf("%s_%s=%.0f\n", name, points[p].key,
                   heapswitch_latency_quantile(&snapshot.latency, kind, points[p].q));
        printf("%s_max=%.0f\n", name, snapshot.latency.kinds[kind].max_ns);
    }
    if (argc > 2 && strcmp(argv[2], "hold") == 0) {
        /* Until a signal: then a normal exit, which removes the segment. */
        struct sigaction stop = {.sa_handler = on_signal};

        sigaction(SIGUSR1, &stop, NULL);
        sigaction(SIGTERM, &stop, NULL);
        printf("holding\n");
        fflush(stdout);
        while (!stopped)
            pause();
    }
    return 0;
}
