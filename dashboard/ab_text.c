/* heapswitch ab's text output: what ran and how, then one block per
 * metric saying which runs it comes from, with each backend's median and
 * range, and against the first backend the ratio, its interval and the
 * verdict of the statistics module (timed metrics) or the plain ratio of
 * medians (counted ones); then the failed runs. */
#include "config.h"

#include <math.h>
#include <stdio.h>

#include "dashboard/ab.h"

/* The metrics of the text output, in order. */
static const enum ab_metric shown[] = {AB_WALL,  AB_CPU,          AB_MAX_RSS,     AB_ALLOCS,
                                       AB_BYTES_ALLOCATED, AB_PEAK_LIVE, AB_FRAGMENTATION,
                                       AB_MALLOC_P50, AB_MALLOC_P99, AB_MALLOC_P999, AB_FREE_P99};

static void print_header(const struct ab *ab)
{
    char text[4200];

    printf("heapswitch ab:");
    for (char **word = ab->command; *word != NULL; word++)
        printf(" %s", *word);
    printf("\n  %lu timed run%s per backend (%s), %lu counted, %lu warmup; interleaved\n",
           ab->timed_rounds, ab->timed_rounds == 1 ? "" : "s", ab->stopped ? ab->stopped : "",
           ab->counted_runs, ab->warmup);
    printf("  timed runs (wall, CPU, max RSS):");
    for (unsigned b = 0; b < ab->backend_count; b++) {
        ab_timing_text(text, sizeof text, ab, &ab->backends[b]);
        printf("%s %s: %s", b ? ";" : "", ab->backends[b].name, text);
        if (ab->backends[b].timing_note != NULL)
            printf(" (%s)", ab->backends[b].timing_note);
    }
    ab_counted_text(text, sizeof text, ab);
    printf("\n  counted runs (allocation figures): %s\n", text);
    printf("  against %s: median ratio (Hodges-Lehmann) with its %.0f%% interval; "
           "no difference under %.0f%%\n",
           ab->backends[0].name, ab->compare.confidence * 100, ab->compare.min_effect * 100);
}

static void print_metric(const struct ab *ab, enum ab_metric m)
{
    char median[32], low[32], high[32], verdict[96];

    bool estimated = false;

    for (unsigned b = 0; b < ab->backend_count; b++)
        estimated = estimated || ab->backends[b].summary[m].estimated;
    printf("\n%s (%s runs%s)\n", ab_metrics[m].title, ab_kind_name(ab_metrics[m].source),
           estimated ? "; estimated, not exact: see --stats" : "");
    for (unsigned b = 0; b < ab->backend_count; b++) {
        const struct ab_backend *backend = &ab->backends[b];
        const struct ab_summary *summary = &backend->summary[m];
        const struct hsw_comparison *c = &backend->comparison[m];
        unsigned long ok = ab_metrics[m].source == AB_TIMED ? backend->timed_ok
                                                            : backend->counted_ok;

        printf("  %-10s ", backend->name);
        if (summary->n == 0) {
            printf("%s\n", ok == 0 ? "no successful run" : "unknown");
            continue;
        }
        ab_format_value(median, sizeof median, m, summary->median);
        ab_format_value(low, sizeof low, m, summary->min);
        ab_format_value(high, sizeof high, m, summary->max);
        printf("%10s  [%s - %s]", median, low, high);
        if (b > 0 && ab_metric_compared(m)) {
            ab_verdict_text(verdict, sizeof verdict, ab, b, m);
            if (!isnan(c->ratio))
                printf("  %.3fx [%.3f, %.3f]", c->ratio, c->ratio_low, c->ratio_high);
            printf("  %s", verdict);
        } else if (b > 0 && !isnan(backend->ratio[m])) {
            printf("  %.3fx", backend->ratio[m]);
        }
        printf("\n");
    }
}

static void print_failures(const struct ab *ab)
{
    for (unsigned b = 0; b < ab->backend_count; b++) {
        const struct ab_backend *backend = &ab->backends[b];

        if (backend->timed_failed + backend->counted_failed == 0)
            continue;
        printf("\n%s: %lu of %lu runs failed (left out):", backend->name,
               backend->timed_failed + backend->counted_failed,
               backend->timed_failed + backend->counted_failed + backend->timed_ok +
                   backend->counted_ok);
        for (size_t r = 0; r < ab->run_count; r++) {
            const struct ab_run *run = &ab->runs[r];
            char status[96];

            if (run->backend != b || run->ok)
                continue;
            ab_status_text(status, sizeof status, run);
            printf(" %s run %lu %s;", ab_kind_name(run->kind), run->index, status);
        }
        printf("\n");
    }
}

void ab_print_text(const struct ab *ab)
{
    bool any_ok = false;

    print_header(ab);
    for (unsigned b = 0; b < ab->backend_count; b++)
        any_ok = any_ok || ab->backends[b].timed_ok + ab->backends[b].counted_ok > 0;
    for (size_t s = 0; any_ok && s < sizeof shown / sizeof shown[0]; s++)
        print_metric(ab, shown[s]);
    print_failures(ab);
}
