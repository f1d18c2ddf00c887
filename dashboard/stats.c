/* The statistics behind every verdict: the Hodges-Lehmann estimate of the
 * ratio of B to A, its distribution-free confidence interval from the
 * Mann-Whitney U distribution, and the U test's p-value (docs/statistics.md
 * says why this method). Both samples are taken as logarithms, so a shift
 * is a ratio: the estimate is the median of the n_a * n_b pairwise
 * log(b) - log(a), the interval two of their order statistics, whose
 * ranks come from the exact null distribution of U for small samples and
 * its normal approximation for large ones. No resampling: for a given
 * input the answer is fixed, and beyond `resamples` pairs a sample of
 * pairs is drawn with the module's own seeded generator.
 */
#include "config.h"

#include "dashboard/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The exact distribution of U is used up to this many pairs (its cost
 * grows as the square of it); the normal approximation beyond. */
#define EXACT_PAIRS 2500
#define DEFAULT_PAIRS 1000000u

void hsw_compare_defaults(struct hsw_compare_options *options)
{
    options->confidence = 0.95;
    options->min_effect = 0.02;
    options->lower_is_better = true;
    options->resamples = 0;
    options->seed = 1;
}

uint64_t hsw_random_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double hsw_random_uniform(uint64_t *state)
{
    return (double)(hsw_random_next(state) >> 11) * 0x1p-53;
}

double hsw_random_normal(uint64_t *state)
{
    double u = 1.0 - hsw_random_uniform(state); /* (0, 1]: log is finite */
    double v = hsw_random_uniform(state);

    return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

double hsw_median(double *values, size_t n)
{
    if (n == 0)
        return NAN;
    qsort(values, n, sizeof *values, compare_doubles);
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

/* The k-th smallest (0-based) of values[0..n), reordering them: quickselect
 * with a three-way partition, so that many equal values (RSS often repeats
 * exactly) cost no more than distinct ones. */
static double select_kth(double *values, size_t n, size_t k)
{
    size_t low = 0, high = n; /* the answer is in [low, high) */

    while (high - low > 1) {
        double pivot = values[low + (high - low) / 2];
        size_t lt = low, i = low, gt = high;

        while (i < gt) {
            double v = values[i];
            if (v < pivot) {
                values[i++] = values[lt];
                values[lt++] = v;
            } else if (v > pivot) {
                values[i] = values[--gt];
                values[gt] = v;
            } else {
                i++;
            }
        }
        if (k < lt)
            high = lt;
        else if (k >= gt)
            low = gt;
        else
            return pivot;
    }
    return values[low];
}

/* The upper 1 - alpha/2 quantile of the standard normal, by bisection. */
static double normal_quantile(double alpha)
{
    double low = 0, high = 40;

    for (int i = 0; i < 200; i++) {
        double mid = (low + high) / 2;
        if (0.5 * erfc(mid / M_SQRT2) > alpha / 2)
            low = mid;
        else
            high = mid;
    }
    return (low + high) / 2;
}

/* cdf[u] = P(U <= u) for U of samples of m and n values under the null
 * hypothesis, no ties, for u in 0..m*n. By the largest of the m + n values:
 * it is one of B's with probability n / (m + n), and then exceeds all m of
 * A's (U = m + U of m, n - 1), or one of A's (U = U of m - 1, n). Rows of
 * probabilities, all terms positive: no cancellation. The caller keeps
 * m <= n and m * n <= EXACT_PAIRS. Returns NULL when out of memory. */
static double *exact_cdf(size_t m, size_t n)
{
    size_t width = m * n + 1;
    double *previous = calloc((m + 1) * width, sizeof(double));
    double *current = calloc((m + 1) * width, sizeof(double));
    double *swap;

    if (previous == NULL || current == NULL) {
        free(previous);
        free(current);
        return NULL;
    }
    /* previous[i * width + u] = P(U = u) for samples of i and j - 1 values. */
    for (size_t i = 0; i <= m; i++)
        previous[i * width] = 1; /* j = 0: U is 0 */
    for (size_t j = 1; j <= n; j++) {
        memset(current, 0, (m + 1) * width * sizeof(double));
        current[0] = 1; /* i = 0 */
        for (size_t i = 1; i <= m; i++) {
            double from_b = (double)j / (double)(i + j), from_a = (double)i / (double)(i + j);
            double *out = current + i * width;
            const double *shorter_b = previous + i * width;  /* (i, j - 1) */
            const double *shorter_a = current + (i - 1) * width; /* (i - 1, j) */

            for (size_t u = 0; u <= i * j; u++)
                out[u] = from_a * shorter_a[u] + (u >= i ? from_b * shorter_b[u - i] : 0);
        }
        swap = previous;
        previous = current;
        current = swap;
    }
    free(current);
    for (size_t u = 1; u < width; u++)
        previous[m * width + u] += previous[m * width + u - 1];
    memmove(previous, previous + m * width, width * sizeof(double));
    return previous;
}

/* Copies the positive finite values of `in` as logarithms, sorted. */
static size_t usable_logs(const double *in, size_t n, double *out)
{
    size_t used = 0;

    for (size_t i = 0; i < n; i++)
        if (isfinite(in[i]) && in[i] > 0)
            out[used++] = log(in[i]);
    qsort(out, used, sizeof *out, compare_doubles);
    return used;
}

/* U (pairs with b > a, ties counted one half) of two sorted samples, and
 * the tie term sum(t^3 - t) of the pooled sample for the normal variance. */
static double u_statistic(const double *a, size_t m, const double *b, size_t n, double *ties)
{
    double u = 0;
    size_t below = 0, equal_end = 0;
    size_t i = 0, j = 0;

    for (size_t k = 0; k < n; k++) {
        while (below < m && a[below] < b[k])
            below++;
        if (equal_end < below)
            equal_end = below;
        while (equal_end < m && a[equal_end] == b[k])
            equal_end++;
        u += (double)below + (double)(equal_end - below) / 2;
    }
    *ties = 0;
    while (i < m || j < n) { /* runs of equal values in the pooled sample */
        double v = j >= n || (i < m && a[i] <= b[j]) ? a[i] : b[j];
        double t = 0;
        while (i < m && a[i] == v)
            i++, t++;
        while (j < n && b[j] == v)
            j++, t++;
        *ties += t * t * t - t;
    }
    return u;
}

/* The pairwise differences b - a, all of them or `cap` drawn at random.
 * Returns their number, 0 when out of memory. */
static size_t pair_differences(const double *a, size_t m, const double *b, size_t n,
                               size_t cap, uint64_t seed, double **out)
{
    size_t count = m * n > cap ? cap : m * n, at = 0;
    double *d = malloc(count * sizeof *d);

    *out = d;
    if (d == NULL)
        return 0;
    if (count == m * n) {
        for (size_t j = 0; j < n; j++)
            for (size_t i = 0; i < m; i++)
                d[at++] = b[j] - a[i];
    } else {
        uint64_t state = seed;
        for (; at < count; at++)
            d[at] = b[hsw_random_next(&state) % n] - a[hsw_random_next(&state) % m];
    }
    return count;
}

/* The smallest equal arm size for which an interval exists at `alpha`:
 * the most extreme U, of probability 1 / C(2n, n), must be at most alpha/2. */
static size_t smallest_arm(double alpha)
{
    size_t n = HSW_STATS_MIN_SAMPLES;

    while (lgamma(2.0 * (double)n + 1) - 2 * lgamma((double)n + 1) < log(2 / alpha))
        n++;
    return n;
}

static void not_enough(struct hsw_comparison *out, double alpha)
{
    size_t need = smallest_arm(alpha), more = 0;

    if (need > out->n_a)
        more = need - out->n_a;
    if (need > out->n_b && need - out->n_b > more)
        more = need - out->n_b;
    out->verdict = HSW_VERDICT_NOT_ENOUGH_DATA;
    out->runs_needed = more > 0 ? (unsigned)more : 1;
}

/* The two-sided p-value of U by the normal approximation, corrected for
 * ties and for continuity. */
static double normal_p(size_t m, size_t n, double u, double ties)
{
    double pairs = (double)m * (double)n, total = (double)(m + n);
    double variance = pairs / 12 * ((total + 1) - ties / (total * (total - 1)));
    double z = variance > 0 ? (fabs(u - pairs / 2) - 0.5) / sqrt(variance) : 0;

    return z > 0 ? fmin(1, erfc(z / M_SQRT2)) : 1;
}

/* Rank k (1-based) of the interval's lower end among the m * n ordered
 * differences (the upper end is m * n + 1 - k), and the p-value of the
 * observed U; k is 0 when no interval exists at this confidence. With ties
 * the rank still comes from the exact distribution (the usual practice),
 * the p-value from the tie-corrected normal one. */
static size_t interval_rank(size_t m, size_t n, double alpha, double u, double ties,
                            double *p_value)
{
    double pairs = (double)m * (double)n;
    long c;

    if (m * n <= EXACT_PAIRS) {
        double *cdf = exact_cdf(m < n ? m : n, m < n ? n : m);
        size_t k = 0;

        if (cdf != NULL) {
            while (k <= m * n && cdf[k] <= alpha / 2)
                k++;
            /* P(U >= u) = P(U <= mn - u): the distribution is symmetric. */
            *p_value = ties == 0 ? fmin(1, 2 * fmin(cdf[(size_t)u], cdf[m * n - (size_t)u]))
                                 : normal_p(m, n, u, ties);
            free(cdf);
            return k;
        }
    }
    *p_value = normal_p(m, n, u, ties);
    c = (long)floor(pairs / 2 - 0.5 -
                    normal_quantile(alpha) * sqrt(pairs * (double)(m + n + 1) / 12));
    return c < 0 ? 0 : (size_t)c + 1;
}

int hsw_compare(const double *a, size_t n_a, const double *b, size_t n_b,
                const struct hsw_compare_options *options, struct hsw_comparison *out)
{
    double alpha, u, ties, *la, *lb, *d = NULL;
    size_t m, n, count, k;
    int result = -1;

    if (out != NULL)
        *out = (struct hsw_comparison){HSW_VERDICT_NOT_ENOUGH_DATA, 0, 0, NAN, NAN, NAN, NAN, 0};
    if (options == NULL || out == NULL || (a == NULL && n_a > 0) || (b == NULL && n_b > 0) ||
        !(options->confidence > 0 && options->confidence < 1) ||
        !(options->min_effect >= 0 && options->min_effect < 1))
        return -1;
    alpha = 1 - options->confidence;
    la = malloc((n_a + 1) * sizeof *la);
    lb = malloc((n_b + 1) * sizeof *lb);
    if (la == NULL || lb == NULL)
        goto out;
    out->n_a = m = usable_logs(a, n_a, la);
    out->n_b = n = usable_logs(b, n_b, lb);
    result = 0;
    if (m < HSW_STATS_MIN_SAMPLES || n < HSW_STATS_MIN_SAMPLES) {
        not_enough(out, alpha);
        goto out;
    }
    u = u_statistic(la, m, lb, n, &ties);
    k = interval_rank(m, n, alpha, u, ties, &out->p_value);
    count = pair_differences(la, m, lb, n, options->resamples ? options->resamples : DEFAULT_PAIRS,
                             options->seed, &d);
    if (count == 0) {
        result = -1;
        goto out;
    }
    if (k == 0) {
        not_enough(out, alpha);
        goto out;
    }
    if (count < m * n) /* a sample of pairs: the same proportion of it */
        k = (size_t)fmax(1, floor((double)k * (double)count / ((double)m * (double)n)));
    out->ratio_low = exp(select_kth(d, count, k - 1));
    out->ratio_high = exp(select_kth(d, count, count - k));
    out->ratio = select_kth(d, count, count / 2);
    if (count % 2 == 0)
        out->ratio = (out->ratio + select_kth(d, count, count / 2 - 1)) / 2;
    out->ratio = exp(out->ratio);
    if ((out->ratio_low <= 1 && out->ratio_high >= 1) ||
        fabs(out->ratio - 1) < options->min_effect)
        out->verdict = HSW_VERDICT_NO_DIFFERENCE;
    else if ((out->ratio < 1) == options->lower_is_better)
        out->verdict = HSW_VERDICT_B_BETTER;
    else
        out->verdict = HSW_VERDICT_A_BETTER;
out:
    free(la);
    free(lb);
    free(d);
    return result;
}

double hsw_comparison_width(const struct hsw_comparison *comparison)
{
    if (comparison == NULL || !isfinite(comparison->ratio_low) ||
        !isfinite(comparison->ratio_high) || !(comparison->ratio > 0))
        return NAN;
    return (comparison->ratio_high - comparison->ratio_low) / comparison->ratio;
}

const char *hsw_verdict_text(enum hsw_verdict verdict)
{
    switch (verdict) {
    case HSW_VERDICT_A_BETTER:
        return "A better";
    case HSW_VERDICT_B_BETTER:
        return "B better";
    case HSW_VERDICT_NO_DIFFERENCE:
        return "no difference detected";
    case HSW_VERDICT_NOT_ENOUGH_DATA:
        break;
    }
    return "not enough data";
}

const char *hsw_verdict_key(enum hsw_verdict verdict)
{
    switch (verdict) {
    case HSW_VERDICT_A_BETTER:
        return "a_better";
    case HSW_VERDICT_B_BETTER:
        return "b_better";
    case HSW_VERDICT_NO_DIFFERENCE:
        return "no_difference";
    case HSW_VERDICT_NOT_ENOUGH_DATA:
        break;
    }
    return "not_enough_data";
}
