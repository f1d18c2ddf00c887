/* Comparing two samples of one metric: the one statistics module behind
 * every verdict heapswitch prints (`heapswitch ab`, the live A/B view,
 * anything else that compares). The method and the reason for it are in
 * docs/statistics.md.
 *
 * A comparison estimates the ratio of B to A (median of B over median of
 * A, or the Hodges-Lehmann estimate of it), a confidence interval of that
 * ratio, and gives exactly one verdict. */
#ifndef HSW_STATS_H
#define HSW_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum hsw_verdict {
    HSW_VERDICT_NOT_ENOUGH_DATA, /* too few samples: see runs_needed */
    HSW_VERDICT_NO_DIFFERENCE,   /* interval contains 1, or the effect is under min_effect */
    HSW_VERDICT_A_BETTER,
    HSW_VERDICT_B_BETTER,
};

/* Fewer usable samples than this in either arm: not enough data. */
#define HSW_STATS_MIN_SAMPLES 5

struct hsw_compare_options {
    double confidence;     /* of the interval, e.g. 0.95 */
    double min_effect;     /* relative effect below which no difference is claimed (0.02) */
    bool lower_is_better;  /* times, bytes: true; throughput: false */
    unsigned resamples;    /* the most pairwise differences used: above it, a seeded
                              random sample of that many; 0: the module's default */
    uint64_t seed;         /* sampling is deterministic for a given seed */
};

/* The defaults: 95%, 2%, lower is better, the module's resamples, seed 1. */
void hsw_compare_defaults(struct hsw_compare_options *options);

struct hsw_comparison {
    enum hsw_verdict verdict;
    size_t n_a, n_b;       /* samples used (non-finite values are left out) */
    double ratio;          /* B / A point estimate; NAN when not computable */
    double ratio_low;      /* the interval of the ratio; NAN when not computable */
    double ratio_high;
    double p_value;        /* of the test of no difference; NAN when not computed */
    unsigned runs_needed;  /* NOT_ENOUGH_DATA: samples per arm still needed, 0 otherwise */
};

/* Compares sample b against sample a. Returns 0, or -1 for arguments that
 * cannot be compared (NULL pointers, options out of range). Ratios need
 * positive values: zeros, negatives and non-finite values are left out. */
int hsw_compare(const double *a, size_t n_a, const double *b, size_t n_b,
                const struct hsw_compare_options *options, struct hsw_comparison *out);

/* The interval's width relative to the estimate, (high - low) / ratio
 * (0.04 is 4%); NAN when there is no interval. Run control stops on it. */
double hsw_comparison_width(const struct hsw_comparison *comparison);

/* "A better", "B better", "no difference detected", "not enough data". */
const char *hsw_verdict_text(enum hsw_verdict verdict);
/* "a_better", "b_better", "no_difference", "not_enough_data" (JSON, CSV). */
const char *hsw_verdict_key(enum hsw_verdict verdict);

/* The median of n values (sorted in place); NAN for n == 0. */
double hsw_median(double *values, size_t n);

/* A small deterministic generator (splitmix64), for the module's sampling
 * and for tests that need reproducible synthetic samples. */
uint64_t hsw_random_next(uint64_t *state);
/* Uniform in [0, 1). */
double hsw_random_uniform(uint64_t *state);
/* Standard normal (Box-Muller). */
double hsw_random_normal(uint64_t *state);

#endif
