/* The statistics module (dashboard/stats.c) on synthetic samples of known
 * truth: a 5% effect is found, and its interval covers the true ratio at
 * the stated confidence; identical distributions give "no difference" in
 * at least 95% of seeded trials; heavy outliers do not flip a verdict; tiny
 * samples give "not enough data" with the runs still needed; bad arguments
 * are refused. Every trial is seeded, so the outcome is fixed. */
#include "config.h"

#include <math.h>

#include "dashboard/stats.h"
#include "tests/harness.h"

#define TRIALS 1000
#define MAX_N 64

/* n values around `center`, log-normal with relative spread `sigma`. */
static void draw(uint64_t *state, double *out, size_t n, double center, double sigma)
{
    for (size_t i = 0; i < n; i++)
        out[i] = center * exp(sigma * hsw_random_normal(state));
}

/* How many of TRIALS comparisons of n-value samples (A around 1, B around
 * `effect`) end in `want`, and how many intervals cover `effect`. */
static unsigned trials(double effect, double sigma, size_t n, double min_effect,
                       enum hsw_verdict want, unsigned *covered)
{
    struct hsw_compare_options options;
    struct hsw_comparison result;
    double a[MAX_N], b[MAX_N];
    uint64_t state = 12345;
    unsigned hits = 0;

    hsw_compare_defaults(&options);
    options.min_effect = min_effect;
    *covered = 0;
    for (unsigned t = 0; t < TRIALS; t++) {
        draw(&state, a, n, 1.0, sigma);
        draw(&state, b, n, effect, sigma);
        if (hsw_compare(a, n, b, n, &options, &result) != 0)
            return 0;
        hits += result.verdict == want;
        *covered += result.ratio_low <= effect && effect <= result.ratio_high;
    }
    return hits;
}

static void test_known_effect(void)
{
    unsigned covered, hits;

    /* B 5% slower, 3% noise, 20 runs per arm. */
    hits = trials(1.05, 0.03, 20, 0.02, HSW_VERDICT_A_BETTER, &covered);
    printf("5%% effect, n=20, sigma 3%%: A better %u/%d, interval covers 1.05 %u/%d\n", hits,
           TRIALS, covered, TRIALS);
    CHECK(hits >= TRIALS * 95 / 100, "5%% effect found in %u of %d trials", hits, TRIALS);
    CHECK(covered >= TRIALS * 94 / 100, "95%% interval covers the truth in %u of %d", covered,
          TRIALS);
    /* B 5% faster: B better. */
    hits = trials(1 / 1.05, 0.03, 20, 0.02, HSW_VERDICT_B_BETTER, &covered);
    CHECK(hits >= TRIALS * 95 / 100, "5%% faster B found in %u of %d trials", hits, TRIALS);
}

static void test_identical(void)
{
    unsigned covered, hits;

    /* Noise of the order of the minimum effect. */
    hits = trials(1.0, 0.02, 20, 0.02, HSW_VERDICT_NO_DIFFERENCE, &covered);
    printf("identical, sigma 2%%: no difference %u/%d\n", hits, TRIALS);
    CHECK(hits >= TRIALS * 95 / 100, "no difference in %u of %d trials", hits, TRIALS);
    /* Much more noise: the minimum effect no longer helps, and the rate is
     * the interval's coverage, 95.04% for 30 per arm (exact U ranks). The
     * bound leaves two standard errors of 1000 trials (0.7% each). */
    hits = trials(1.0, 0.15, 30, 0.02, HSW_VERDICT_NO_DIFFERENCE, &covered);
    printf("identical, sigma 15%%: no difference %u/%d\n", hits, TRIALS);
    CHECK(hits >= TRIALS * 936 / 1000, "no difference in %u of %d trials", hits, TRIALS);
    /* Small samples (exact U distribution) without a minimum effect. */
    hits = trials(1.0, 0.10, 6, 0, HSW_VERDICT_NO_DIFFERENCE, &covered);
    printf("identical, n=6, no minimum effect: no difference %u/%d\n", hits, TRIALS);
    CHECK(hits >= TRIALS * 95 / 100, "no difference in %u of %d trials", hits, TRIALS);
}

static void test_outliers(void)
{
    struct hsw_compare_options options;
    struct hsw_comparison result;
    double a[30], b[30], mean_a = 0, mean_b = 0;
    uint64_t state = 7;

    hsw_compare_defaults(&options);
    draw(&state, a, 30, 1.0, 0.02);
    draw(&state, b, 30, 1.05, 0.02);
    /* Three runs of A hit by something else on the machine (10x), and
     * three of B that did nothing (0.1x): the means swap sides. */
    a[3] *= 10, a[11] *= 10, a[20] *= 10;
    b[5] *= 0.1, b[6] *= 0.1, b[29] *= 0.1;
    for (int i = 0; i < 30; i++)
        mean_a += a[i] / 30, mean_b += b[i] / 30;
    CHECK(mean_b < mean_a, "the outliers are heavy enough to reverse the means");
    CHECK(hsw_compare(a, 30, b, 30, &options, &result) == 0, "compare");
    CHECK(result.verdict == HSW_VERDICT_A_BETTER, "verdict with outliers: %s (ratio %.3f)",
          hsw_verdict_text(result.verdict), result.ratio);
    CHECK(result.ratio > 1.03 && result.ratio < 1.07, "ratio %.4f near 1.05", result.ratio);

    /* Identical arms, outliers in one: still no difference. */
    draw(&state, a, 30, 1.0, 0.02);
    draw(&state, b, 30, 1.0, 0.02);
    b[0] *= 20, b[1] *= 20, b[2] *= 20;
    CHECK(hsw_compare(a, 30, b, 30, &options, &result) == 0, "compare");
    CHECK(result.verdict == HSW_VERDICT_NO_DIFFERENCE, "identical with outliers: %s",
          hsw_verdict_text(result.verdict));
}

static void test_not_enough(void)
{
    struct hsw_compare_options options;
    struct hsw_comparison result;
    double a[10] = {1, 1.1, 0.9, 1.05, 0.95, 1, 1.02, 0.98, 1.01, 0.99};
    double b[10] = {2, 2.1, 1.9, 2.05, 1.95, 2, 2.02, 1.98, 2.01, 1.99};
    double holes[6] = {1, NAN, 0, -1, INFINITY, 1.1};

    hsw_compare_defaults(&options);
    CHECK(hsw_compare(a, 3, b, 3, &options, &result) == 0, "compare");
    CHECK(result.verdict == HSW_VERDICT_NOT_ENOUGH_DATA && result.runs_needed == 2,
          "3 per arm: %s, %u more", hsw_verdict_text(result.verdict), result.runs_needed);
    CHECK(isnan(result.ratio) && isnan(result.ratio_low) && isnan(result.p_value),
          "no estimate without enough data");
    CHECK(hsw_compare(a, 10, b, 2, &options, &result) == 0, "compare");
    CHECK(result.verdict == HSW_VERDICT_NOT_ENOUGH_DATA && result.runs_needed == 3,
          "10 and 2: %u more", result.runs_needed);
    CHECK(hsw_compare(a, 0, b, 0, &options, &result) == 0 &&
              result.verdict == HSW_VERDICT_NOT_ENOUGH_DATA && result.runs_needed == 5,
          "empty samples: %u more", result.runs_needed);
    /* Zero, negative and non-finite values are left out. */
    CHECK(hsw_compare(holes, 6, b, 10, &options, &result) == 0 && result.n_a == 2 &&
              result.verdict == HSW_VERDICT_NOT_ENOUGH_DATA && result.runs_needed == 3,
          "unusable values left out: n_a %zu", result.n_a);
    /* Five per arm is enough at 95% (complete separation: p = 2/252)... */
    CHECK(hsw_compare(a, 5, b, 5, &options, &result) == 0, "compare");
    CHECK(result.verdict == HSW_VERDICT_A_BETTER, "5 per arm: %s",
          hsw_verdict_text(result.verdict));
    CHECK(fabs(result.p_value - 2.0 / 252) < 1e-12, "exact p %.6f", result.p_value);
    /* ... but not at 99.9%, where the most extreme U needs C(2n, n) >= 2000. */
    options.confidence = 0.999;
    CHECK(hsw_compare(a, 5, b, 5, &options, &result) == 0, "compare");
    CHECK(result.verdict == HSW_VERDICT_NOT_ENOUGH_DATA && result.runs_needed == 2,
          "99.9%% with 5 per arm: %s, %u more", hsw_verdict_text(result.verdict),
          result.runs_needed);
}

static void test_exact_cases(void)
{
    struct hsw_compare_options options;
    struct hsw_comparison result;
    double same[8] = {100, 100, 100, 100, 100, 100, 100, 100};
    double more[8] = {110, 110, 110, 110, 110, 110, 110, 110};

    hsw_compare_defaults(&options);
    CHECK(hsw_compare(same, 8, same, 8, &options, &result) == 0, "compare");
    CHECK(result.verdict == HSW_VERDICT_NO_DIFFERENCE && result.ratio == 1 &&
              result.p_value == 1,
          "all equal: %s, ratio %g, p %g", hsw_verdict_text(result.verdict), result.ratio,
          result.p_value);
    CHECK(hsw_compare(same, 8, more, 8, &options, &result) == 0, "compare");
    CHECK(result.verdict == HSW_VERDICT_A_BETTER && fabs(result.ratio - 1.1) < 1e-12 &&
              fabs(result.ratio_low - 1.1) < 1e-12,
          "constant arms: ratio %g", result.ratio);
    options.lower_is_better = false;
    CHECK(hsw_compare(same, 8, more, 8, &options, &result) == 0 &&
              result.verdict == HSW_VERDICT_B_BETTER,
          "higher is better: B better");
    /* 1% apart, under the 2% minimum effect, however certain. */
    more[0] = more[1] = more[2] = more[3] = more[4] = more[5] = more[6] = more[7] = 101;
    options.lower_is_better = true;
    CHECK(hsw_compare(same, 8, more, 8, &options, &result) == 0 &&
              result.verdict == HSW_VERDICT_NO_DIFFERENCE,
          "1%% effect: %s", hsw_verdict_text(result.verdict));
    options.min_effect = 0;
    CHECK(hsw_compare(same, 8, more, 8, &options, &result) == 0 &&
              result.verdict == HSW_VERDICT_A_BETTER,
          "1%% effect, no minimum: %s", hsw_verdict_text(result.verdict));
    CHECK(fabs(hsw_comparison_width(&result)) < 1e-12, "width of a point interval");
}

static void test_sampled_pairs(void)
{
    static double a[3000], b[3000];
    struct hsw_compare_options options;
    struct hsw_comparison full, first, again;
    uint64_t state = 99;

    draw(&state, a, 3000, 1.0, 0.05);
    draw(&state, b, 3000, 1.03, 0.05);
    hsw_compare_defaults(&options);
    options.resamples = 20000000; /* every one of the 9e6 pairs */
    CHECK(hsw_compare(a, 3000, b, 3000, &options, &full) == 0, "compare");
    options.resamples = 200000;
    CHECK(hsw_compare(a, 3000, b, 3000, &options, &first) == 0, "compare");
    CHECK(hsw_compare(a, 3000, b, 3000, &options, &again) == 0, "compare");
    CHECK(first.ratio == again.ratio && first.ratio_low == again.ratio_low &&
              first.ratio_high == again.ratio_high && first.verdict == again.verdict,
          "the same seed, the same answer");
    CHECK(fabs(first.ratio / full.ratio - 1) < 0.002 &&
              fabs(first.ratio_low / full.ratio_low - 1) < 0.002,
          "sampled pairs %.4f [%.4f] against all %.4f [%.4f]", first.ratio, first.ratio_low,
          full.ratio, full.ratio_low);
    CHECK(full.verdict == HSW_VERDICT_A_BETTER && full.ratio > 1.02 && full.ratio < 1.04,
          "3%% effect in 3000 runs: ratio %.4f", full.ratio);
}

static void test_bad_arguments(void)
{
    struct hsw_compare_options options;
    struct hsw_comparison result;
    double a[5] = {1, 2, 3, 4, 5};

    hsw_compare_defaults(&options);
    CHECK(hsw_compare(a, 5, a, 5, NULL, &result) == -1, "no options");
    CHECK(hsw_compare(a, 5, a, 5, &options, NULL) == -1, "no result");
    CHECK(hsw_compare(NULL, 5, a, 5, &options, &result) == -1, "no sample a");
    CHECK(hsw_compare(a, 5, NULL, 5, &options, &result) == -1, "no sample b");
    options.confidence = 1;
    CHECK(hsw_compare(a, 5, a, 5, &options, &result) == -1, "confidence 1");
    options.confidence = NAN;
    CHECK(hsw_compare(a, 5, a, 5, &options, &result) == -1, "confidence NaN");
    options.confidence = 0.95;
    options.min_effect = -0.01;
    CHECK(hsw_compare(a, 5, a, 5, &options, &result) == -1, "negative minimum effect");
    options.min_effect = 1;
    CHECK(hsw_compare(a, 5, a, 5, &options, &result) == -1, "minimum effect 100%%");
}

static void test_helpers(void)
{
    double odd[3] = {3, 1, 2}, even[4] = {4, 1, 3, 2};
    struct hsw_comparison none = {HSW_VERDICT_NOT_ENOUGH_DATA, 0, 0, NAN, NAN, NAN, NAN, 1};
    uint64_t s1 = 5, s2 = 5;

    CHECK(hsw_median(odd, 3) == 2 && hsw_median(even, 4) == 2.5 && isnan(hsw_median(odd, 0)),
          "medians");
    CHECK(isnan(hsw_comparison_width(&none)) && isnan(hsw_comparison_width(NULL)),
          "no width without an interval");
    CHECK(strcmp(hsw_verdict_text(HSW_VERDICT_A_BETTER), "A better") == 0 &&
              strcmp(hsw_verdict_text(HSW_VERDICT_B_BETTER), "B better") == 0 &&
              strcmp(hsw_verdict_text(HSW_VERDICT_NO_DIFFERENCE), "no difference detected") ==
                  0 &&
              strcmp(hsw_verdict_text(HSW_VERDICT_NOT_ENOUGH_DATA), "not enough data") == 0,
          "verdict texts");
    CHECK(strcmp(hsw_verdict_key(HSW_VERDICT_NO_DIFFERENCE), "no_difference") == 0 &&
              strcmp(hsw_verdict_key(HSW_VERDICT_NOT_ENOUGH_DATA), "not_enough_data") == 0,
          "verdict keys");
    CHECK(hsw_random_next(&s1) == hsw_random_next(&s2), "one seed, one sequence");
    for (int i = 0; i < 100; i++) {
        double u = hsw_random_uniform(&s1);
        CHECK(u >= 0 && u < 1, "uniform in [0, 1)");
    }
}

int main(void)
{
    test_bad_arguments();
    test_not_enough();
    test_exact_cases();
    test_known_effect();
    test_identical();
    test_outliers();
    test_sampled_pairs();
    test_helpers();
    return test_finish("stats");
}
