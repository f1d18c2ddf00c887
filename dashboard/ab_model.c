/* The live A/B view's logic (see ab_model.h): per-process samples over
 * refresh intervals, programs and arms, the window, the balance check and
 * the comparisons through the statistics module. No ncurses here. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard/ab_model.h"

const struct hsw_ab_metric_info hsw_ab_metrics[HSW_AB_METRIC_KINDS] = {
    [HSW_AB_REQUESTS_PER_SECOND] = {"requests/s", false, true},
    [HSW_AB_CPU_PER_REQUEST] = {"CPU/request", true, true},
    [HSW_AB_CPU_PER_KCALLS] = {"CPU/1k allocs", true, true},
    [HSW_AB_ALLOCS_PER_SECOND] = {"allocs/s", false, false},
    [HSW_AB_RSS] = {"RSS", true, true},
    [HSW_AB_HEAP_RESIDENT] = {"heap resident", true, true},
    [HSW_AB_FRAGMENTATION] = {"fragmentation", true, true},
    [HSW_AB_MALLOC_P50] = {"alloc p50", true, true},
    [HSW_AB_MALLOC_P99] = {"alloc p99", true, true},
    [HSW_AB_MALLOC_P999] = {"alloc p99.9", true, true},
};

/* The fewest calls timed in an interval for each percentile to say
 * something: 10 beyond it. */
static const struct {
    enum hsw_ab_metric metric;
    double share;
    uint64_t min_samples;
} latency_points[] = {
    {HSW_AB_MALLOC_P50, 0.5, 20},
    {HSW_AB_MALLOC_P99, 0.99, 1000},
    {HSW_AB_MALLOC_P999, 0.999, 10000},
};

/* The allocating calls' latency percentiles of the calls timed between two
 * snapshots: the histograms' difference (buckets only increase). */
static void interval_latency(const struct heapswitch_snapshot *earlier,
                             const struct heapswitch_snapshot *later, struct hsw_ab_sample *out)
{
    static struct heapswitch_latency interval; /* 4 KiB: not on the stack */
    const struct heapswitch_latency_histogram *a, *b;

    if (!earlier->latency.present || !later->latency.present)
        return;
    a = &earlier->latency.kinds[HEAPSWITCH_LATENCY_ALLOC];
    b = &later->latency.kinds[HEAPSWITCH_LATENCY_ALLOC];
    interval = later->latency;
    for (unsigned k = 0; k < HEAPSWITCH_LATENCY_BUCKETS; k++) {
        if (b->buckets[k] < a->buckets[k])
            return; /* not one process's histogram */
        interval.kinds[HEAPSWITCH_LATENCY_ALLOC].buckets[k] = b->buckets[k] - a->buckets[k];
    }
    if (b->samples < a->samples)
        return;
    interval.kinds[HEAPSWITCH_LATENCY_ALLOC].samples = b->samples - a->samples;
    for (size_t i = 0; i < sizeof latency_points / sizeof latency_points[0]; i++)
        if (interval.kinds[HEAPSWITCH_LATENCY_ALLOC].samples >= latency_points[i].min_samples)
            out->value[latency_points[i].metric] = heapswitch_latency_quantile(
                &interval, HEAPSWITCH_LATENCY_ALLOC, latency_points[i].share);
}

const char *hsw_ab_key_name(enum hsw_ab_key key)
{
    switch (key) {
    case HSW_AB_KEY_TAG_PREFIX:
        return "executable + tag prefix";
    case HSW_AB_KEY_CMDLINE:
        return "command line";
    case HSW_AB_KEY_LABELS:
        return "executable + labels";
    default:
        return "executable";
    }
}

void hsw_ab_init(struct hsw_ab *ab)
{
    memset(ab, 0, sizeof *ab);
}

void hsw_ab_free(struct hsw_ab *ab)
{
    for (size_t i = 0; i < ab->count; i++)
        free(ab->series[i].samples);
    free(ab->series);
    memset(ab, 0, sizeof *ab);
}

static uint64_t allocating_calls(const struct heapswitch_counters *c)
{
    return c->malloc_calls + c->calloc_calls + c->realloc_calls + c->aligned_calls;
}

/* later - earlier of a counter, or NAN if it went down (not one image). */
static double delta(uint64_t earlier, uint64_t later)
{
    return later >= earlier ? (double)(later - earlier) : NAN;
}

void hsw_ab_sample_between(const struct heapswitch_snapshot *earlier,
                           const struct heapswitch_snapshot *later,
                           struct hsw_ab_sample *out)
{
    double seconds = later->taken - earlier->taken;
    double requests = delta(earlier->counters.requests, later->counters.requests);
    double calls =
        delta(allocating_calls(&earlier->counters), allocating_calls(&later->counters));
    double cpu = earlier->cpu_seconds >= 0 && later->cpu_seconds >= earlier->cpu_seconds
                     ? later->cpu_seconds - earlier->cpu_seconds
                     : NAN;

    out->end = later->taken;
    for (int m = 0; m < HSW_AB_METRIC_KINDS; m++)
        out->value[m] = NAN;
    if (seconds > 0) {
        out->value[HSW_AB_REQUESTS_PER_SECOND] = requests / seconds;
        out->value[HSW_AB_ALLOCS_PER_SECOND] = calls / seconds;
    }
    /* An interval without work says nothing of the cost of work. */
    if (requests > 0)
        out->value[HSW_AB_CPU_PER_REQUEST] = cpu / requests;
    if (calls > 0)
        out->value[HSW_AB_CPU_PER_KCALLS] = cpu / calls * 1000;
    if (later->rss_bytes > 0)
        out->value[HSW_AB_RSS] = (double)later->rss_bytes;
    if (later->heap.valid)
        out->value[HSW_AB_HEAP_RESIDENT] = (double)later->heap.resident;
    if (later->fragmentation >= 0)
        out->value[HSW_AB_FRAGMENTATION] = later->fragmentation;
    interval_latency(earlier, later, out);
}

static struct hsw_ab_series *find_series(struct hsw_ab *ab,
                                         const struct heapswitch_snapshot *snapshot)
{
    for (size_t i = 0; i < ab->count; i++)
        if (ab->series[i].pid == snapshot->pid &&
            ab->series[i].start_time == snapshot->start_time)
            return &ab->series[i];
    return NULL;
}

static struct hsw_ab_series *add_series(struct hsw_ab *ab,
                                        const struct heapswitch_snapshot *snapshot)
{
    struct hsw_ab_series *series;

    if (ab->count == ab->capacity) {
        size_t capacity = ab->capacity ? ab->capacity * 2 : 16;
        struct hsw_ab_series *grown = realloc(ab->series, capacity * sizeof *grown);
        if (grown == NULL)
            return NULL;
        ab->series = grown;
        ab->capacity = capacity;
    }
    series = &ab->series[ab->count++];
    memset(series, 0, sizeof *series);
    series->pid = snapshot->pid;
    series->start_time = snapshot->start_time;
    series->last = *snapshot;
    return series;
}

/* Appends a sample, first dropping those too old to be in any window. */
static int push_sample(struct hsw_ab_series *series, const struct hsw_ab_sample *sample)
{
    size_t old = 0;

    while (old < series->count &&
           series->samples[old].end < sample->end - HSW_AB_RETAIN_SECONDS)
        old++;
    if (old > 0) {
        memmove(series->samples, series->samples + old,
                (series->count - old) * sizeof series->samples[0]);
        series->count -= old;
    }
    if (series->count == series->capacity) {
        size_t capacity = series->capacity ? series->capacity * 2 : 64;
        struct hsw_ab_sample *grown = realloc(series->samples, capacity * sizeof *grown);
        if (grown == NULL)
            return -1;
        series->samples = grown;
        series->capacity = capacity;
    }
    series->samples[series->count++] = *sample;
    return 0;
}

int hsw_ab_update(struct hsw_ab *ab, const struct heapswitch_snapshot *const *procs,
                  size_t count)
{
    int result = 0;
    size_t kept = 0;

    for (size_t i = 0; i < ab->count; i++)
        ab->series[i].seen = false;
    for (size_t i = 0; i < count; i++) {
        const struct heapswitch_snapshot *now = procs[i];
        struct hsw_ab_series *series;
        struct hsw_ab_sample sample;

        if (now->state != HEAPSWITCH_PROCESS_RUNNING)
            continue;
        series = find_series(ab, now);
        if (series == NULL) {
            if ((series = add_series(ab, now)) == NULL)
                result = -1;
            else
                series->seen = true;
            continue;
        }
        series->seen = true;
        /* The same snapshot again (a redraw without a scan) is no new interval. */
        if (now->taken <= series->last.taken)
            continue;
        hsw_ab_sample_between(&series->last, now, &sample);
        if (push_sample(series, &sample) != 0)
            result = -1;
        series->last = *now;
    }
    for (size_t i = 0; i < ab->count; i++) {
        if (!ab->series[i].seen) {
            free(ab->series[i].samples);
            continue;
        }
        ab->series[kept++] = ab->series[i];
    }
    ab->count = kept;
    return result;
}

/* ---- grouping --------------------------------------------------------- */

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash != NULL && slash[1] != '\0' ? slash + 1 : path;
}

/* The tag up to its first separator, all of it when it has none. */
static size_t tag_prefix_length(const char *tag)
{
    return strcspn(tag, "-_.:/");
}

/* Copies `length` bytes of text (at most its length), cut to fit `size`. */
static void copy_text(char *out, size_t size, const char *text, size_t length)
{
    if (length >= size)
        length = size - 1;
    memcpy(out, text, length);
    out[length] = '\0';
}

static void copy_string(char *out, size_t size, const char *text)
{
    copy_text(out, size, text, strlen(text));
}

/* Appends text to the string in out, cut to fit `size`. */
static void append_text(char *out, size_t size, const char *text, size_t length)
{
    size_t used = strlen(out);

    copy_text(out + used, size - used, text, length);
}

/* The executable, or the command's first word when it is unknown. */
static const char *executable_of(const struct heapswitch_snapshot *p, size_t *length)
{
    if (p->exe[0] != '\0') {
        *length = strlen(p->exe);
        return p->exe;
    }
    *length = strcspn(p->cmdline, " ");
    return p->cmdline;
}

/* The program's key (out) and its name as shown (label). */
static void program_of(const struct heapswitch_snapshot *p, enum hsw_ab_key key,
                       char *out, size_t size, char *label, size_t label_size)
{
    size_t exe_length, prefix = tag_prefix_length(p->tag);
    const char *exe = executable_of(p, &exe_length);
    char name[256];

    copy_text(name, sizeof name, exe, exe_length);
    if (key == HSW_AB_KEY_CMDLINE) {
        const char *command = p->cmdline[0] ? p->cmdline : name;
        copy_string(out, size, command);
        copy_string(label, label_size, command);
        return;
    }
    copy_string(out, size, name);
    copy_string(label, label_size, base_name(name));
    if (key == HSW_AB_KEY_TAG_PREFIX) {
        append_text(out, size, "\n", 1);
        append_text(out, size, p->tag, prefix);
        append_text(label, label_size, " [", 2);
        append_text(label, label_size, prefix > 0 ? p->tag : "-",
                    prefix > 0 ? prefix : 1);
        append_text(label, label_size, "]", 1);
    }
    if (key == HSW_AB_KEY_LABELS) {
        append_text(out, size, "\n", 1);
        append_text(out, size, p->labels, strlen(p->labels));
        append_text(label, label_size, " {", 2);
        append_text(label, label_size, p->labels[0] ? p->labels : "-",
                    p->labels[0] ? strlen(p->labels) : 1);
        append_text(label, label_size, "}", 1);
    }
}

static const char *arm_of(const struct heapswitch_snapshot *p, bool by_tag)
{
    if (!by_tag)
        return p->backend;
    return p->tag[0] ? p->tag : "-";
}

/* The baseline first: system among backends; untagged processes last. */
static int arm_order(const void *a, const void *b, bool by_tag)
{
    const struct hsw_ab_arm *x = a, *y = b;

    if (!by_tag) {
        bool xs = strcmp(x->name, "system") == 0, ys = strcmp(y->name, "system") == 0;
        if (xs != ys)
            return xs ? -1 : 1;
    } else if ((strcmp(x->name, "-") == 0) != (strcmp(y->name, "-") == 0)) {
        return strcmp(x->name, "-") == 0 ? 1 : -1;
    }
    return strcmp(x->name, y->name);
}

static int arm_order_backend(const void *a, const void *b)
{
    return arm_order(a, b, false);
}

static int arm_order_tag(const void *a, const void *b)
{
    return arm_order(a, b, true);
}

static int program_order(const void *a, const void *b)
{
    const struct hsw_ab_program *x = a, *y = b;
    int by_label;

    if ((x->arm_count > 1) != (y->arm_count > 1))
        return x->arm_count > 1 ? -1 : 1;
    by_label = strcmp(x->label, y->label);
    return by_label != 0 ? by_label : strcmp(x->key, y->key);
}

static struct hsw_ab_program *find_program(struct hsw_ab_view *view, const char *key)
{
    for (size_t i = 0; i < view->count; i++)
        if (strcmp(view->programs[i].key, key) == 0)
            return &view->programs[i];
    return NULL;
}

static struct hsw_ab_arm *find_arm(struct hsw_ab_program *program, const char *name)
{
    for (size_t k = 0; k < program->arm_count; k++)
        if (strcmp(program->arms[k].name, name) == 0)
            return &program->arms[k];
    if (program->arm_count == HSW_AB_MAX_ARMS)
        return NULL;
    copy_string(program->arms[program->arm_count].name, sizeof program->arms[0].name,
                name);
    return &program->arms[program->arm_count++];
}

static const struct hsw_ab_series *series_of(const struct hsw_ab *ab,
                                             const struct heapswitch_snapshot *p)
{
    for (size_t i = 0; i < ab->count; i++)
        if (ab->series[i].pid == p->pid && ab->series[i].start_time == p->start_time)
            return &ab->series[i];
    return NULL;
}

/* Adds the process's samples of the window to its arm's value arrays. */
static int add_samples(struct hsw_ab_arm *arm, const struct hsw_ab_series *series,
                       const struct hsw_ab_options *options)
{
    size_t first = series->count;

    while (first > 0 &&
           series->samples[first - 1].end > options->now - options->window_seconds)
        first--;
    for (int m = 0; m < HSW_AB_METRIC_KINDS; m++) {
        double *grown = realloc(
            arm->values[m], (arm->known[m] + series->count - first + 1) * sizeof *grown);
        if (grown == NULL)
            return -1;
        arm->values[m] = grown;
        for (size_t s = first; s < series->count; s++)
            if (isfinite(series->samples[s].value[m]))
                arm->values[m][arm->known[m]++] = series->samples[s].value[m];
    }
    arm->samples += series->count - first;
    return 0;
}

static int add_process(struct hsw_ab_view *view, const struct hsw_ab *ab,
                       const struct heapswitch_snapshot *p,
                       const struct hsw_ab_options *options)
{
    char key[512], label[128];
    struct hsw_ab_program *program;
    struct hsw_ab_arm *arm;
    const struct hsw_ab_series *series = series_of(ab, p);

    program_of(p, options->key, key, sizeof key, label, sizeof label);
    if ((program = find_program(view, key)) == NULL) {
        struct hsw_ab_program *grown =
            realloc(view->programs, (view->count + 1) * sizeof *grown);
        if (grown == NULL)
            return -1;
        view->programs = grown;
        program = &view->programs[view->count++];
        memset(program, 0, sizeof *program);
        copy_string(program->key, sizeof program->key, key);
        copy_string(program->label, sizeof program->label, label);
    }
    program->processes++;
    if (p->counters.requests > 0)
        program->marks_requests = true;
    if ((arm = find_arm(program, arm_of(p, options->by_tag))) == NULL) {
        program->arms_left_out++;
        return 0;
    }
    arm->processes++;
    return series != NULL ? add_samples(arm, series, options) : 0;
}

/* Medians, arm order and the balance check of one program. */
static void finish_program(struct hsw_ab_program *program, bool by_tag)
{
    double low = NAN, high = NAN;

    qsort(program->arms, program->arm_count, sizeof program->arms[0],
          by_tag ? arm_order_tag : arm_order_backend);
    for (size_t k = 0; k < program->arm_count; k++) {
        struct hsw_ab_arm *arm = &program->arms[k];
        for (int m = 0; m < HSW_AB_METRIC_KINDS; m++) {
            double *copy = arm->known[m] ? malloc(arm->known[m] * sizeof *copy) : NULL;
            arm->median[m] = NAN;
            if (copy == NULL)
                continue;
            memcpy(copy, arm->values[m], arm->known[m] * sizeof *copy);
            arm->median[m] = hsw_median(copy, arm->known[m]);
            free(copy);
        }
        if (isfinite(arm->median[HSW_AB_ALLOCS_PER_SECOND])) {
            double rate = arm->median[HSW_AB_ALLOCS_PER_SECOND];
            if (isnan(low) || rate < low)
                low = rate;
            if (isnan(high) || rate > high)
                high = rate;
        }
    }
    for (size_t k = 0; k < program->arm_count; k++) {
        struct hsw_ab_arm *arm = &program->arms[k];
        double base = program->arms[0].median[HSW_AB_ALLOCS_PER_SECOND];
        arm->balance = base > 0 ? arm->median[HSW_AB_ALLOCS_PER_SECOND] / base : NAN;
        arm->unbalanced = arm->balance > HSW_AB_IMBALANCE_RATIO ||
                          arm->balance * HSW_AB_IMBALANCE_RATIO < 1;
    }
    program->balance_ratio = NAN;
    if (program->arm_count > 1 && low > 0)
        program->balance_ratio = high / low;
    else if (program->arm_count > 1 && high > 0)
        program->balance_ratio = INFINITY; /* one arm does no allocation at all */
    program->imbalanced = program->balance_ratio > HSW_AB_IMBALANCE_RATIO;
}

int hsw_ab_analyze(const struct hsw_ab *ab,
                   const struct heapswitch_snapshot *const *procs, size_t count,
                   const struct hsw_ab_options *options, struct hsw_ab_view *view)
{
    memset(view, 0, sizeof *view);
    for (size_t i = 0; i < count; i++) {
        if (procs[i]->state != HEAPSWITCH_PROCESS_RUNNING)
            continue;
        if (add_process(view, ab, procs[i], options) != 0) {
            hsw_ab_view_free(view);
            return -1;
        }
    }
    for (size_t i = 0; i < view->count; i++) {
        finish_program(&view->programs[i], options->by_tag);
        if (view->programs[i].arm_count > 1)
            view->compared++;
    }
    qsort(view->programs, view->count, sizeof view->programs[0], program_order);
    return 0;
}

void hsw_ab_view_free(struct hsw_ab_view *view)
{
    for (size_t i = 0; i < view->count; i++)
        for (size_t k = 0; k < view->programs[i].arm_count; k++)
            for (int m = 0; m < HSW_AB_METRIC_KINDS; m++)
                free(view->programs[i].arms[k].values[m]);
    free(view->programs);
    memset(view, 0, sizeof *view);
}

bool hsw_ab_metric_used(const struct hsw_ab_program *program, enum hsw_ab_metric metric)
{
    switch (metric) {
    case HSW_AB_REQUESTS_PER_SECOND:
    case HSW_AB_CPU_PER_REQUEST:
        return program->marks_requests;
    case HSW_AB_CPU_PER_KCALLS:
        return !program->marks_requests;
    default:
        return true;
    }
}

int hsw_ab_compare(const struct hsw_ab_program *program, size_t arm,
                   enum hsw_ab_metric metric, struct hsw_comparison *out)
{
    static const double none[1]; /* for an arm without values: never read */
    struct hsw_compare_options options;
    const struct hsw_ab_arm *a, *b;

    if (arm == 0 || arm >= program->arm_count || (int)metric < 0 ||
        metric >= HSW_AB_METRIC_KINDS || !hsw_ab_metrics[metric].judged)
        return -1;
    a = &program->arms[0];
    b = &program->arms[arm];
    hsw_compare_defaults(&options);
    options.lower_is_better = hsw_ab_metrics[metric].lower_is_better;
    return hsw_compare(a->values[metric] ? a->values[metric] : none, a->known[metric],
                       b->values[metric] ? b->values[metric] : none, b->known[metric],
                       &options, out);
}
