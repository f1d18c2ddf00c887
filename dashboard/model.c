/* The process table: one scan of the segments per refresh. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dashboard/model.h"

double hsw_now(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

uint64_t hsw_allocs(const struct heapswitch_counters *counters)
{
    return counters->malloc_calls + counters->calloc_calls + counters->realloc_calls +
           counters->aligned_calls;
}

void hsw_model_init(struct hsw_model *model, double keep_gone_seconds)
{
    memset(model, 0, sizeof *model);
    model->keep_gone_seconds = keep_gone_seconds;
}

void hsw_model_free(struct hsw_model *model)
{
    free(model->procs);
    memset(model, 0, sizeof *model);
}

struct hsw_proc *hsw_model_find(struct hsw_model *model, pid_t pid)
{
    for (size_t i = 0; i < model->count; i++)
        if (model->procs[i].now.pid == pid)
            return &model->procs[i];
    return NULL;
}

static void push_history(struct hsw_proc *proc)
{
    double sample[HSW_SERIES_COUNT] = {
        [HSW_SERIES_ALLOCS] = proc->rates.allocs_per_second,
        [HSW_SERIES_FREES] = proc->rates.frees_per_second,
        [HSW_SERIES_BYTES] = proc->rates.bytes_per_second,
        [HSW_SERIES_LIVE] = (double)proc->now.live_bytes,
    };

    for (int s = 0; s < HSW_SERIES_COUNT; s++) {
        if (proc->history_length == HSW_HISTORY)
            memmove(proc->history[s], proc->history[s] + 1,
                    (HSW_HISTORY - 1) * sizeof proc->history[s][0]);
        proc->history[s][proc->history_length == HSW_HISTORY ? HSW_HISTORY - 1
                                                              : proc->history_length] =
            sample[s];
    }
    if (proc->history_length < HSW_HISTORY)
        proc->history_length++;
}

/* When a process that is not running ended, in monotonic seconds: its
 * exit time when the segment records one, else now. A segment kept after
 * exit (HEAPSWITCH_KEEP=1) is thus dropped keep_gone_seconds after the
 * exit, not listed again by every scan after it was dropped. */
static double gone_time(const struct heapswitch_snapshot *snapshot)
{
    double now = hsw_now(), ago;
    struct timespec wall;

    if (snapshot->state != HEAPSWITCH_PROCESS_EXITED || snapshot->exited <= 0)
        return now;
    clock_gettime(CLOCK_REALTIME, &wall);
    ago = (double)wall.tv_sec + (double)wall.tv_nsec / 1e9 - snapshot->exited;
    if (ago < 0)
        ago = 0;
    return ago < now ? now - ago : 1e-9;
}

void hsw_model_take(struct hsw_model *model, const struct heapswitch_snapshot *snapshot)
{
    struct hsw_proc *proc = hsw_model_find(model, snapshot->pid);

    if (proc != NULL && proc->now.start_time != snapshot->start_time) {
        /* The pid was reused: a new process. */
        memset(proc, 0, sizeof *proc);
        proc->first_seen = hsw_now();
    }
    if (proc == NULL) {
        if (model->count == model->capacity) {
            size_t capacity = model->capacity ? model->capacity * 2 : 64;
            struct hsw_proc *grown = realloc(model->procs, capacity * sizeof *grown);
            if (grown == NULL)
                return;
            model->procs = grown;
            model->capacity = capacity;
        }
        proc = &model->procs[model->count++];
        memset(proc, 0, sizeof *proc);
        proc->first_seen = hsw_now();
    } else {
        proc->previous = proc->now;
        proc->has_rates =
            heapswitch_rates(&proc->previous, snapshot, &proc->rates) == 0;
    }
    proc->now = *snapshot;
    proc->seen = true;
    if (snapshot->state != HEAPSWITCH_PROCESS_RUNNING && proc->gone_since == 0)
        proc->gone_since = gone_time(snapshot);
    if (proc->has_rates)
        push_history(proc);
}

static void problem(const char *segment, const char *why, void *context)
{
    struct hsw_model *model = context;

    model->problems++;
    snprintf(model->last_problem, sizeof model->last_problem, "%s: %s", segment, why);
}

void hsw_model_begin(struct hsw_model *model)
{
    for (size_t i = 0; i < model->count; i++)
        model->procs[i].seen = false;
    model->problems = 0;
}

void hsw_model_end(struct hsw_model *model, double now)
{
    size_t kept = 0;

    for (size_t i = 0; i < model->count; i++) {
        struct hsw_proc *proc = &model->procs[i];
        if (!proc->seen && proc->gone_since == 0) {
            /* Its segment vanished: it exited (and removed it). */
            proc->gone_since = now;
            if (proc->now.state == HEAPSWITCH_PROCESS_RUNNING)
                proc->now.state = HEAPSWITCH_PROCESS_EXITED;
            proc->now.rss_bytes = 0;
        }
        if (proc->gone_since != 0 && now - proc->gone_since > model->keep_gone_seconds)
            continue;
        if (kept != i)
            model->procs[kept] = *proc;
        kept++;
    }
    model->count = kept;
}

static void visit(const struct heapswitch_snapshot *snapshot, void *context)
{
    hsw_model_take(context, snapshot);
}

int hsw_model_refresh(struct hsw_model *model, bool remove_dead)
{
    double now = hsw_now();

    hsw_model_begin(model);
    if (heapswitch_scan(remove_dead ? HEAPSWITCH_SCAN_REMOVE_DEAD : 0, visit, problem,
                        model) < 0)
        return -1;
    hsw_model_end(model, now);
    return 0;
}
