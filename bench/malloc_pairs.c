/* malloc_pairs: nanoseconds per malloc+free pair.
 *
 * Each thread keeps a ring of RING_SLOTS live blocks. Every iteration
 * frees the block in the next slot and allocates a new one of the next
 * size from a fixed table, then writes one byte into it; so every block
 * lives RING_SLOTS iterations. The table holds SIZE_TABLE_LENGTH sizes
 * drawn log-uniformly from MIN_SIZE..MAX_SIZE with a fixed-seed PRNG:
 * every run, thread and allocator sees the same sequence.
 *
 * Deliberately plain libc and pthreads, no heapswitch header: the
 * allocator under test is chosen from outside, by LD_PRELOAD. Build with
 * -fno-builtin-malloc -fno-builtin-free so the compiler cannot reason
 * about (or remove) malloc/free pairs; the byte written is also read back
 * into a volatile sink.
 *
 * Output, one line per repeat on stdout:
 *   threads=T iterations=N ns_per_pair=X.XX
 * where X is the wall time from the first thread's start to the last
 * thread's end (all threads start together at a barrier, after an
 * untimed warm-up) divided by the iterations of one thread.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SIZE_TABLE_LENGTH 4096 /* a power of two */
#define RING_SLOTS 64          /* a power of two */
#define MIN_SIZE 16
#define MAX_SIZE 4096
#define SEED UINT64_C(0x5eed0f0123456789)

#define DEFAULT_THREADS 1
#define DEFAULT_ITERATIONS 20000000
#define DEFAULT_REPEATS 1
#define DEFAULT_WARMUP 200000
#define MAX_THREADS 1024

static const char *program_name = "malloc_pairs";

static size_t size_table[SIZE_TABLE_LENGTH];
static pthread_barrier_t start_barrier;
/* Where the read-back bytes go, so no store or allocation is dead. */
static volatile unsigned long sink;

struct worker {
    pthread_t thread;
    uint64_t iterations;
    uint64_t warmup;
    struct timespec start;
    struct timespec end;
};

/* ---- The size table ------------------------------------------------- */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* e^y for 0 <= y < 8, without libm: a Taylor series for y/64, squared six
 * times. Plain IEEE double arithmetic, so the table is the same anywhere. */
static double exp_small(double y)
{
    double x = y / 64.0, term = 1.0, sum = 1.0;

    for (int k = 1; k < 20; k++) {
        term *= x / k;
        sum += term;
    }
    for (int k = 0; k < 6; k++)
        sum *= sum;
    return sum;
}

/* Sizes log-uniform over [MIN_SIZE, MAX_SIZE + 1), rounded down: every
 * size from MIN_SIZE to MAX_SIZE inclusive, each octave equally likely. */
static void fill_size_table(void)
{
    /* ln((MAX_SIZE + 1) / MIN_SIZE) = 8 ln 2 + ln(1 + 1/4096) */
    const double ln2 = 0.69314718055994530942;
    const double tiny = 1.0 / MAX_SIZE;
    const double span = 8.0 * ln2 + tiny - tiny * tiny / 2.0 + tiny * tiny * tiny / 3.0;
    uint64_t state = SEED;

    for (size_t i = 0; i < SIZE_TABLE_LENGTH; i++) {
        double u = (double)(splitmix64(&state) >> 11) * 0x1.0p-53;
        size_t size = (size_t)(MIN_SIZE * exp_small(u * span));

        if (size < MIN_SIZE)
            size = MIN_SIZE;
        if (size > MAX_SIZE)
            size = MAX_SIZE;
        size_table[i] = size;
    }
}

/* ---- The measured loop ---------------------------------------------- */

/* Runs `count` iterations on `ring`, continuing the slot and size
 * sequence from *cursor. Returns the sum of the bytes read back. */
__attribute__((noinline)) static unsigned long churn(unsigned char **ring,
                                                     uint64_t *cursor,
                                                     uint64_t count)
{
    uint64_t at = *cursor;
    unsigned long sum = 0;

    for (uint64_t i = 0; i < count; i++, at++) {
        unsigned char **slot = &ring[at % RING_SLOTS];
        unsigned char *block;

        if (*slot != NULL)
            sum += **slot;
        free(*slot);
        block = malloc(size_table[at % SIZE_TABLE_LENGTH]);
        if (block == NULL) {
            fprintf(stderr, "%s: malloc(%zu) failed\n", program_name,
                    size_table[at % SIZE_TABLE_LENGTH]);
            exit(1);
        }
        block[0] = (unsigned char)at;
        *slot = block;
    }
    *cursor = at;
    return sum;
}

static void *run_worker(void *arg)
{
    struct worker *self = arg;
    unsigned char *ring[RING_SLOTS] = {NULL};
    uint64_t cursor = 0;
    unsigned long sum;
    int status;

    sum = churn(ring, &cursor, self->warmup);
    status = pthread_barrier_wait(&start_barrier);
    if (status != 0 && status != PTHREAD_BARRIER_SERIAL_THREAD) {
        fprintf(stderr, "%s: pthread_barrier_wait: %s\n", program_name,
                strerror(status));
        exit(1);
    }
    clock_gettime(CLOCK_MONOTONIC, &self->start);
    sum += churn(ring, &cursor, self->iterations);
    clock_gettime(CLOCK_MONOTONIC, &self->end);

    for (size_t i = 0; i < RING_SLOTS; i++)
        free(ring[i]);
    sink += sum;
    return NULL;
}

static double seconds(const struct timespec *t)
{
    return (double)t->tv_sec + (double)t->tv_nsec * 1e-9;
}

/* One repeat: all threads run `iterations` pairs; returns ns per pair. */
static double run_once(struct worker *workers, unsigned threads)
{
    double first_start, last_end;
    int status;

    status = pthread_barrier_init(&start_barrier, NULL, threads);
    if (status != 0) {
        fprintf(stderr, "%s: pthread_barrier_init: %s\n", program_name,
                strerror(status));
        exit(1);
    }
    for (unsigned i = 0; i < threads; i++) {
        status = pthread_create(&workers[i].thread, NULL, run_worker, &workers[i]);
        if (status != 0) {
            fprintf(stderr, "%s: pthread_create (thread %u of %u): %s\n",
                    program_name, i + 1, threads, strerror(status));
            exit(1);
        }
    }
    for (unsigned i = 0; i < threads; i++)
        pthread_join(workers[i].thread, NULL);
    pthread_barrier_destroy(&start_barrier);

    first_start = seconds(&workers[0].start);
    last_end = seconds(&workers[0].end);
    for (unsigned i = 1; i < threads; i++) {
        if (seconds(&workers[i].start) < first_start)
            first_start = seconds(&workers[i].start);
        if (seconds(&workers[i].end) > last_end)
            last_end = seconds(&workers[i].end);
    }
    return (last_end - first_start) * 1e9 / (double)workers[0].iterations;
}

/* ---- Command line --------------------------------------------------- */

static void usage(FILE *to)
{
    fprintf(to,
            "usage: %s [-t THREADS] [-n ITERATIONS] [-r REPEATS] [-w WARMUP] [-v]\n"
            "  -t THREADS     threads allocating at once (default %d, at most %d)\n"
            "  -n ITERATIONS  malloc+free pairs per thread, timed (default %d)\n"
            "  -r REPEATS     measurements, one output line each (default %d)\n"
            "  -w WARMUP      untimed pairs per thread before each measurement\n"
            "                 (default %d; 0 allowed)\n"
            "  -v             say on stderr which library provides malloc\n"
            "Prints: threads=T iterations=N ns_per_pair=X.XX\n",
            program_name, DEFAULT_THREADS, MAX_THREADS, DEFAULT_ITERATIONS,
            DEFAULT_REPEATS, DEFAULT_WARMUP);
}

/* Parses a decimal count in [minimum, maximum], or exits with status 2. */
static uint64_t parse_count(char option, const char *text, uint64_t minimum,
                            uint64_t maximum)
{
    unsigned long long value;
    char *end;

    /* strtoull would accept (and negate) "-1", and skip leading blanks. */
    if (text[0] < '0' || text[0] > '9') {
        fprintf(stderr, "%s: -%c: '%s' is not a %s integer\n", program_name,
                option, text, minimum > 0 ? "positive" : "non-negative");
        exit(2);
    }
    errno = 0;
    value = strtoull(text, &end, 10);
    if (*end != '\0') {
        fprintf(stderr, "%s: -%c: '%s' is not a %s integer\n", program_name,
                option, text, minimum > 0 ? "positive" : "non-negative");
        exit(2);
    }
    if (errno == ERANGE || value < minimum || value > maximum) {
        fprintf(stderr, "%s: -%c: %s is out of range (%llu..%llu)\n",
                program_name, option, text, (unsigned long long)minimum,
                (unsigned long long)maximum);
        exit(2);
    }
    return value;
}

/* -v: which object's malloc this process calls, and, when heapswitch is
 * loaded, its backend (looked up at run time: no heapswitch header). */
static void describe_allocator(void)
{
    void *(*volatile malloc_address)(size_t) = malloc;
    const char *(*backend_name)(void);
    Dl_info info;

    if (dladdr((void *)malloc_address, &info) != 0 && info.dli_fname != NULL)
        fprintf(stderr, "%s: malloc is in %s\n", program_name, info.dli_fname);
    else
        fprintf(stderr, "%s: malloc is in an unknown object\n", program_name);
    *(void **)&backend_name = dlsym(RTLD_DEFAULT, "heapswitch_backend_name");
    if (backend_name != NULL)
        fprintf(stderr, "%s: heapswitch backend: %s\n", program_name, backend_name());
}

int main(int argc, char **argv)
{
    uint64_t threads = DEFAULT_THREADS, iterations = DEFAULT_ITERATIONS;
    uint64_t repeats = DEFAULT_REPEATS, warmup = DEFAULT_WARMUP;
    int verbose = 0, option;
    struct worker *workers;

    if (argc > 0 && argv[0] != NULL && argv[0][0] != '\0') {
        const char *slash = strrchr(argv[0], '/');
        program_name = slash != NULL ? slash + 1 : argv[0];
    }
    opterr = 0;
    while ((option = getopt(argc, argv, ":t:n:r:w:vh")) != -1) {
        switch (option) {
        case 't':
            threads = parse_count('t', optarg, 1, MAX_THREADS);
            break;
        case 'n':
            iterations = parse_count('n', optarg, 1, UINT64_C(1) << 40);
            break;
        case 'r':
            repeats = parse_count('r', optarg, 1, 1000000);
            break;
        case 'w':
            warmup = parse_count('w', optarg, 0, UINT64_C(1) << 40);
            break;
        case 'v':
            verbose = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case ':':
            fprintf(stderr, "%s: -%c needs a value (try -h)\n", program_name, optopt);
            return 2;
        default:
            fprintf(stderr, "%s: unknown option -%c (try -h)\n", program_name, optopt);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s' (try -h)\n", program_name,
                argv[optind]);
        return 2;
    }

    fill_size_table();
    if (verbose)
        describe_allocator();
    workers = calloc(threads, sizeof *workers);
    if (workers == NULL) {
        fprintf(stderr, "%s: out of memory\n", program_name);
        return 1;
    }
    for (uint64_t i = 0; i < threads; i++) {
        workers[i].iterations = iterations;
        workers[i].warmup = warmup;
    }
    for (uint64_t r = 0; r < repeats; r++) {
        double ns = run_once(workers, (unsigned)threads);

        printf("threads=%u iterations=%llu ns_per_pair=%.2f\n", (unsigned)threads,
               (unsigned long long)iterations, ns);
        fflush(stdout);
    }
    free(workers);
    return 0;
}
