/* A deterministic mutation test of heapswitch_report_parse(), which needs
 * neither clang nor libFuzzer: every seed line of tests/fuzz/report-check.h
 * must be accepted; then each iteration applies a few random mutations
 * (byte changes, JSON-significant bytes inserted, spans deleted or
 * duplicated, truncation) to a seed and parses the variant from a heap
 * buffer of exactly its size (under ASan, tests/fuzz/report-mutate-sanitized,
 * a read past it is caught). Each result must be sane and the same twice.
 * Seeded per iteration (xorshift64*), so a failure is reproducible alone.
 *
 *   report-mutate [-n ITERATIONS] | report-mutate --seeds DIR
 *
 * --seeds DIR writes the seed lines as files, for the libFuzzer target. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/mutations.h"
#include "tests/fuzz/report-check.h"

static size_t mutate(uint64_t *state, char *text, size_t length, size_t capacity)
{
    static const char significant[] = "{}[]\",:\\0-.eE+ \ntfnu\x01\x7f\xff";
    size_t at = length ? xorshift64star(state) % length : 0, span;

    switch (xorshift64star(state) % 6) {
    case 0: /* a random byte */
        if (length)
            text[at] = (char)xorshift64star(state);
        break;
    case 1: /* a byte JSON cares about */
        if (length)
            text[at] = significant[xorshift64star(state) % (sizeof significant - 1)];
        break;
    case 2: /* inserted */
        if (length < capacity) {
            memmove(text + at + 1, text + at, length - at);
            text[at] = significant[xorshift64star(state) % (sizeof significant - 1)];
            length++;
        }
        break;
    case 3: /* a span deleted */
        span = length - at ? xorshift64star(state) % (length - at) % 16 : 0;
        memmove(text + at, text + at + span, length - at - span);
        length -= span;
        break;
    case 4: /* a span duplicated */
        span = length - at ? xorshift64star(state) % (length - at) % 32 : 0;
        if (length + span <= capacity) {
            memmove(text + at + span, text + at, length - at);
            length += span;
        }
        break;
    default: /* truncated */
        length = at;
    }
    return length;
}

static int write_seeds(const char *dir)
{
    for (size_t i = 0; i < REPORT_SEED_COUNT; i++) {
        char path[4096];
        FILE *file;

        snprintf(path, sizeof path, "%s/report-%zu", dir, i);
        file = fopen(path, "w");
        if (file == NULL || fputs(report_seeds[i], file) == EOF || fclose(file) != 0) {
            perror(path);
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    unsigned long iterations = 200000, failures = 0;
    char work[4096], why[128];

    if (argc == 3 && strcmp(argv[1], "--seeds") == 0)
        return write_seeds(argv[2]);
    if (argc == 3 && strcmp(argv[1], "-n") == 0)
        iterations = strtoul(argv[2], NULL, 10);
    else if (argc != 1) {
        fprintf(stderr, "usage: report-mutate [-n ITERATIONS] | report-mutate --seeds DIR\n");
        return 2;
    }
    for (size_t i = 0; i < REPORT_SEED_COUNT; i++) {
        struct heapswitch_report r;
        if (heapswitch_report_parse(report_seeds[i], strlen(report_seeds[i]), &r, why,
                                    sizeof why) != 0) {
            fprintf(stderr, "seed %zu refused: %s\n", i, why);
            failures++;
        }
    }
    for (unsigned long n = 0; n < iterations; n++) {
        uint64_t state = 0x9e3779b97f4a7c15ULL ^ (n + 1) * 0x100000001b3ULL;
        const char *seed = report_seeds[n % REPORT_SEED_COUNT];
        size_t length = strlen(seed), rounds = 1 + xorshift64star(&state) % 4;
        struct heapswitch_report first, second;
        const char *problem;
        char *exact;
        int result;

        memcpy(work, seed, length);
        for (size_t r = 0; r < rounds; r++)
            length = mutate(&state, work, length, sizeof work);
        exact = malloc(length ? length : 1);
        if (exact == NULL)
            return 1;
        memcpy(exact, work, length);
        memset(why, '#', sizeof why);
        result = heapswitch_report_parse(exact, length, &first, why, sizeof why);
        problem = report_check(result, &first, why, sizeof why);
        if (problem == NULL && (heapswitch_report_parse(exact, length, &second, NULL, 0) != result ||
                                memcmp(&first, &second, sizeof first) != 0))
            problem = "two parses differ";
        if (problem != NULL && failures++ < 10)
            fprintf(stderr, "iteration %lu: %s: %.*s\n", n, problem, (int)length, exact);
        free(exact);
    }
    printf("report-mutate: %lu variants, %lu failure(s)\n", iterations, failures);
    return failures == 0 ? 0 : 1;
}
