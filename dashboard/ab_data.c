/* heapswitch ab's machine-readable outputs. --json: one object with how
 * the runs ran, per backend each metric's source (timed or counted runs),
 * whether some report gave it as estimated, median and range, ratio to the
 * first backend with interval, p-value and verdict, and every run as a row. --csv: the same in one long table, a
 * "summary" row per backend and metric, then a "run" row per run and
 * metric it produced. */
#include "config.h"

#include <math.h>
#include <stdio.h>

#include "dashboard/ab.h"
#include "dashboard/format.h"

static void json_double(FILE *out, double value)
{
    if (isnan(value) || isinf(value))
        fputs("null", out);
    else if (value == floor(value) && fabs(value) < 1e15)
        fprintf(out, "%.0f", value);
    else
        fprintf(out, "%.9g", value);
}

static void json_metric(const struct ab *ab, unsigned b, enum ab_metric m)
{
    const struct ab_backend *backend = &ab->backends[b];
    const struct ab_summary *s = &backend->summary[m];
    const struct hsw_comparison *c = &backend->comparison[m];
    bool timed = ab_metric_compared(m);
    const char *better = timed ? ab_better_name(ab, b, m) : NULL;

    printf("\"%s\":{\"source\":\"%s\",\"estimated\":%s,\"n\":%u,\"median\":",
           ab_metrics[m].key, ab_kind_name(ab_metrics[m].source),
           s->estimated ? "true" : "false", s->n);
    json_double(stdout, s->n ? s->median : NAN);
    printf(",\"min\":");
    json_double(stdout, s->n ? s->min : NAN);
    printf(",\"max\":");
    json_double(stdout, s->n ? s->max : NAN);
    printf(",\"ratio\":");
    json_double(stdout, timed ? c->ratio : backend->ratio[m]);
    printf(",\"ratio_low\":");
    json_double(stdout, timed ? c->ratio_low : NAN);
    printf(",\"ratio_high\":");
    json_double(stdout, timed ? c->ratio_high : NAN);
    printf(",\"p_value\":");
    json_double(stdout, timed ? c->p_value : NAN);
    if (timed) {
        printf(",\"verdict\":\"%s\",\"better\":", hsw_verdict_key(c->verdict));
        if (better != NULL)
            hsw_json_string(stdout, better);
        else
            fputs("null", stdout);
        printf(",\"runs_needed\":%u}", c->runs_needed);
    } else {
        printf(",\"verdict\":null,\"better\":null,\"runs_needed\":null}");
    }
}

static void json_run(const struct ab_run *run, bool first)
{
    char status[96];

    ab_status_text(status, sizeof status, run);
    printf("%s\n {\"kind\":\"%s\",\"run\":%lu,\"ok\":%s,\"exit_code\":", first ? "" : ",",
           ab_kind_name(run->kind), run->index, run->ok ? "true" : "false");
    if (run->signal)
        printf("null,\"signal\":%d", run->signal);
    else
        printf("%d,\"signal\":null", run->exit_code);
    printf(",\"status\":");
    hsw_json_string(stdout, status);
    for (int m = 0; m < AB_METRIC_COUNT; m++) {
        printf(",\"%s\":", ab_metrics[m].key);
        json_double(stdout, run->has[m] ? run->value[m] : NAN);
    }
    printf(",\"estimated\":[");
    for (int m = 0, listed = 0; m < AB_METRIC_COUNT; m++)
        if (run->estimated[m])
            printf("%s\"%s\"", listed++ ? "," : "", ab_metrics[m].key);
    printf("]}");
}

void ab_print_json(const struct ab *ab)
{
    char text[4200];

    printf("{\"command\":[");
    for (char **word = ab->command; *word != NULL; word++) {
        if (word != ab->command)
            putchar(',');
        hsw_json_string(stdout, *word);
    }
    printf("],\"runs\":%lu,\"counted_runs\":%lu,\"warmup\":%lu,\"min_runs\":%lu,"
           "\"max_runs\":%lu,\"target_width\":",
           ab->timed_rounds, ab->counted_runs, ab->warmup, ab->min_runs, ab->max_runs);
    json_double(stdout, ab->target_width > 0 ? ab->target_width : NAN);
    printf(",\"stopped\":");
    hsw_json_string(stdout, ab->stopped ? ab->stopped : "");
    printf(",\"confidence\":");
    json_double(stdout, ab->compare.confidence);
    printf(",\"min_effect\":");
    json_double(stdout, ab->compare.min_effect);
    ab_counted_text(text, sizeof text, ab);
    printf(",\"counted_with\":");
    hsw_json_string(stdout, text);
    printf(",\"baseline\":");
    hsw_json_string(stdout, ab->backends[0].name);
    printf(",\"backends\":[");
    for (unsigned b = 0; b < ab->backend_count; b++) {
        const struct ab_backend *backend = &ab->backends[b];
        bool first = true;

        printf("%s\n{\"backend\":", b ? "," : "");
        hsw_json_string(stdout, backend->name);
        printf(",\"timing\":\"%s\",\"timed_with\":",
               backend->timing == AB_TIMING_DIRECT ? "direct" : "heapswitch");
        ab_timing_text(text, sizeof text, ab, backend);
        hsw_json_string(stdout, text);
        printf(",\"timing_note\":");
        if (backend->timing_note != NULL)
            hsw_json_string(stdout, backend->timing_note);
        else
            fputs("null", stdout);
        printf(",\"ok\":%lu,\"failed\":%lu,\"counted_ok\":%lu,\"counted_failed\":%lu,"
               "\"metrics\":{",
               backend->timed_ok, backend->timed_failed, backend->counted_ok,
               backend->counted_failed);
        for (int m = 0; m < AB_METRIC_COUNT; m++) {
            if (m)
                putchar(',');
            json_metric(ab, b, (enum ab_metric)m);
        }
        printf("},\"samples\":[");
        for (size_t r = 0; r < ab->run_count; r++)
            if (ab->runs[r].backend == b) {
                json_run(&ab->runs[r], first);
                first = false;
            }
        printf("]}");
    }
    printf("]}\n");
}

static void csv_double(double value)
{
    if (!isnan(value))
        json_double(stdout, value);
}

void ab_print_csv(const struct ab *ab)
{
    printf("row,backend,metric,source,run,status,value,n,median,min,max,ratio,ratio_low,"
           "ratio_high,p_value,verdict,runs_needed,estimated\n");
    for (unsigned b = 0; b < ab->backend_count; b++) {
        const struct ab_backend *backend = &ab->backends[b];

        for (int m = 0; m < AB_METRIC_COUNT; m++) {
            const struct ab_summary *s = &backend->summary[m];
            const struct hsw_comparison *c = &backend->comparison[m];
            bool timed = ab_metric_compared(m);

            printf("summary,");
            hsw_csv_field(stdout, backend->name);
            printf(",%s,%s,,,,%u,", ab_metrics[m].key, ab_kind_name(ab_metrics[m].source),
                   s->n);
            csv_double(s->n ? s->median : NAN);
            putchar(',');
            csv_double(s->n ? s->min : NAN);
            putchar(',');
            csv_double(s->n ? s->max : NAN);
            putchar(',');
            csv_double(timed ? c->ratio : backend->ratio[m]);
            putchar(',');
            csv_double(timed ? c->ratio_low : NAN);
            putchar(',');
            csv_double(timed ? c->ratio_high : NAN);
            putchar(',');
            csv_double(timed ? c->p_value : NAN);
            if (timed)
                printf(",%s,%u", hsw_verdict_key(c->verdict), c->runs_needed);
            else
                printf(",,");
            printf(",%s\n", s->estimated ? "true" : "false");
        }
    }
    for (size_t r = 0; r < ab->run_count; r++) {
        const struct ab_run *run = &ab->runs[r];
        char status[96];

        ab_status_text(status, sizeof status, run);
        for (int m = 0; m < AB_METRIC_COUNT; m++) {
            if (!run->has[m])
                continue;
            printf("run,");
            hsw_csv_field(stdout, ab->backends[run->backend].name);
            printf(",%s,%s,%lu,", ab_metrics[m].key, ab_kind_name(run->kind), run->index);
            hsw_csv_field(stdout, status);
            putchar(',');
            csv_double(run->value[m]);
            printf(",,,,,,,,,,,%s\n", run->estimated[m] ? "true" : "false");
        }
    }
}
