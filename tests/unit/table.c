/* dashboard/table.c on synthetic processes: the column table and its keys
 * (what --sort accepts), each cell's text ("-" where a figure is unknown,
 * never 0), sorting by numeric and text columns with ties by pid, and the
 * text, CSV and JSON forms. */
#include "config.h"

#include "dashboard/table.h"
#include "tests/harness.h"

static struct hsw_proc procs[4];

/* A process with rates of `allocs` allocating calls per second, or none. */
static void make(struct hsw_proc *proc, pid_t pid, const char *backend, double allocs,
                 uint64_t live)
{
    memset(proc, 0, sizeof *proc);
    proc->now.pid = pid;
    proc->now.state = HEAPSWITCH_PROCESS_RUNNING;
    snprintf(proc->now.backend, sizeof proc->now.backend, "%s", backend);
    snprintf(proc->now.exe, sizeof proc->now.exe, "/usr/bin/prog%d", (int)pid);
    proc->now.live_bytes = live;
    proc->now.peak_live_bytes = live * 2;
    proc->now.fragmentation = -1;
    proc->has_rates = allocs >= 0;
    if (proc->has_rates) {
        proc->rates.allocs_per_second = allocs;
        proc->rates.frees_per_second = allocs / 2;
        proc->rates.bytes_per_second = allocs * 64;
        proc->rates.allocs_per_request = -1;
    }
}

static void columns(void)
{
    for (int c = 0; c < HSW_COL_COUNT; c++) {
        CHECK(hsw_columns[c].title != NULL && hsw_columns[c].key != NULL, "column %d named", c);
        if (hsw_columns[c].key == NULL)
            continue;
        CHECK(hsw_column_by_key(hsw_columns[c].key) == c, "key %s finds its own column",
              hsw_columns[c].key);
        CHECK(hsw_columns[c].width > 0 || c == HSW_COL_COUNT - 1,
              "only the last column takes the rest of the line (%s)", hsw_columns[c].key);
    }
    CHECK(hsw_column_by_key("allocs") == HSW_COL_ALLOCS, "allocs");
    CHECK(hsw_column_by_key("live") == HSW_COL_LIVE, "live");
    CHECK(hsw_column_by_key("ALLOC/s") == -1, "a title is not a key");
    CHECK(hsw_column_by_key("Live") == -1, "keys are case-sensitive");
    CHECK(hsw_column_by_key("") == -1, "empty key");
    CHECK(hsw_column_by_key("nothing") == -1, "unknown key");
}

#define EXPECT_CELL(proc, column, want)                                     \
    do {                                                                    \
        char cell_[64];                                                     \
        const char *got_ = hsw_cell(proc, column, cell_, sizeof cell_);     \
        CHECK(strcmp(got_, want) == 0, "%s: \"%s\", want \"%s\"", #column,  \
              got_, want);                                                  \
    } while (0)

static void cells(void)
{
    struct hsw_proc p;

    /* Just seen: no rates yet, no RSS, no heap figures, no tag. */
    make(&p, 42, "jemalloc", -1, 1536);
    EXPECT_CELL(&p, HSW_COL_PID, "42");
    EXPECT_CELL(&p, HSW_COL_STATE, "running");
    EXPECT_CELL(&p, HSW_COL_BACKEND, "jemalloc");
    EXPECT_CELL(&p, HSW_COL_TAG, "-");
    EXPECT_CELL(&p, HSW_COL_ALLOCS, "-");
    EXPECT_CELL(&p, HSW_COL_FREES, "-");
    EXPECT_CELL(&p, HSW_COL_BYTES, "-");
    EXPECT_CELL(&p, HSW_COL_LIVE, "1.5 KiB");
    EXPECT_CELL(&p, HSW_COL_PEAK, "3.0 KiB");
    EXPECT_CELL(&p, HSW_COL_RSS, "-");
    EXPECT_CELL(&p, HSW_COL_FRAG, "-");
    EXPECT_CELL(&p, HSW_COL_PER_REQUEST, "-");
    EXPECT_CELL(&p, HSW_COL_COMMAND, "/usr/bin/prog42");

    /* Seen twice, with every figure known. */
    make(&p, 7, "arena", 12345, 0);
    snprintf(p.now.tag, sizeof p.now.tag, "canary");
    snprintf(p.now.cmdline, sizeof p.now.cmdline, "prog --serve");
    p.now.state = HEAPSWITCH_PROCESS_DEAD;
    p.now.rss_bytes = 4 << 20;
    p.now.fragmentation = 0.25;
    p.rates.allocs_per_request = 950;
    EXPECT_CELL(&p, HSW_COL_STATE, "dead");
    EXPECT_CELL(&p, HSW_COL_TAG, "canary");
    EXPECT_CELL(&p, HSW_COL_ALLOCS, "12.3k");
    EXPECT_CELL(&p, HSW_COL_FREES, "6.2k");
    EXPECT_CELL(&p, HSW_COL_BYTES, "771.6 KiB");
    EXPECT_CELL(&p, HSW_COL_LIVE, "0 B");
    EXPECT_CELL(&p, HSW_COL_RSS, "4.0 MiB");
    EXPECT_CELL(&p, HSW_COL_FRAG, "25.0");
    EXPECT_CELL(&p, HSW_COL_PER_REQUEST, "950");
    EXPECT_CELL(&p, HSW_COL_COMMAND, "prog --serve");
    /* Rates known, but no request marked in between. */
    p.rates.allocs_per_request = -1;
    EXPECT_CELL(&p, HSW_COL_PER_REQUEST, "-");
    /* A measured zero is a zero, not unknown. */
    p.rates.allocs_per_second = 0;
    p.now.fragmentation = 0;
    EXPECT_CELL(&p, HSW_COL_ALLOCS, "0");
    EXPECT_CELL(&p, HSW_COL_FRAG, "0.0");
    p.now.state = HEAPSWITCH_PROCESS_EXITED;
    EXPECT_CELL(&p, HSW_COL_STATE, "exited");
}

/* The pids of sorted in order, as "a b c d". */
static const char *order(const struct hsw_proc **sorted)
{
    static char text[64];

    snprintf(text, sizeof text, "%d %d %d %d", (int)sorted[0]->now.pid, (int)sorted[1]->now.pid,
             (int)sorted[2]->now.pid, (int)sorted[3]->now.pid);
    return text;
}

#define EXPECT_ORDER(column, reverse, want)                                 \
    do {                                                                    \
        const struct hsw_proc *sorted_[4] = {&procs[0], &procs[1],          \
                                             &procs[2], &procs[3]};         \
        hsw_sort(sorted_, 4, column, reverse);                              \
        CHECK(strcmp(order(sorted_), want) == 0, "sort by %s%s: %s, want %s", \
              #column, reverse ? " reversed" : "", order(sorted_), want);  \
    } while (0)

static void sorting(void)
{
    make(&procs[0], 30, "system", 500, 100);
    make(&procs[1], 10, "mimalloc", 9000, 300);
    make(&procs[2], 40, "jemalloc", -1, 200); /* no rates yet */
    make(&procs[3], 20, "mimalloc", 500, 300);

    /* Numeric: biggest first, unknown rates last, ties by pid. */
    EXPECT_ORDER(HSW_COL_ALLOCS, false, "10 20 30 40");
    EXPECT_ORDER(HSW_COL_ALLOCS, true, "40 30 20 10");
    EXPECT_ORDER(HSW_COL_LIVE, false, "10 20 40 30");
    EXPECT_ORDER(HSW_COL_PID, false, "40 30 20 10");
    EXPECT_ORDER(HSW_COL_PID, true, "10 20 30 40");
    /* Text: alphabetical, ties by pid. */
    EXPECT_ORDER(HSW_COL_BACKEND, false, "40 10 20 30");
    EXPECT_ORDER(HSW_COL_BACKEND, true, "30 20 10 40");
    EXPECT_ORDER(HSW_COL_COMMAND, false, "10 20 30 40");
}

/* What a table function writes, into buffer. */
static char buffer[8192];
static FILE *open_buffer(void)
{
    FILE *out = fmemopen(buffer, sizeof buffer, "w");
    if (out == NULL) {
        perror("fmemopen");
        exit(99);
    }
    return out;
}

static bool starts_with(const char *text, const char *prefix)
{
    return strncmp(text, prefix, strlen(prefix)) == 0;
}

static int count_of(const char *text, char c)
{
    int n = 0;
    for (; *text != '\0' && *text != '\n'; text++)
        n += *text == c;
    return n;
}

static void forms(void)
{
    const struct hsw_proc *rows[2] = {&procs[1], &procs[2]};
    FILE *out;
    const char *second;

    snprintf(procs[1].now.cmdline, sizeof procs[1].now.cmdline, "a, \"quoted\" command");
    procs[1].now.counters.malloc_calls = 123456789012u;
    procs[1].now.counters.free_calls = 5;

    out = open_buffer();
    hsw_table_text(out, rows, 2, 126);
    fclose(out);
    CHECK(starts_with(buffer, "    PID STATE   BACKEND  TAG       ALLOC/s "),
          "text header: %.60s", buffer);
    second = strchr(buffer, '\n') + 1;
    CHECK(starts_with(second, "     10 running mimalloc -            9.0k     4.5k 562.5 KiB "),
          "text row: %.60s", second);
    CHECK(strstr(buffer, "\n     40 running jemalloc -               -") != NULL,
          "text: unknown rates as -: %s", buffer);
    /* The fixed columns take 119 characters; COMMAND gets what is left. */
    CHECK(strstr(buffer, " mimalloc ") != NULL && strstr(buffer, " a, \"quo\n") != NULL,
          "text: the command cut at 126 columns: %s", buffer);
    for (const char *line = buffer; *line != '\0'; line = strchr(line, '\n') + 1)
        CHECK(strchr(line, '\n') - line <= 126, "text: a line of at most 126 columns: %.*s",
              (int)(strchr(line, '\n') - line), line);
    out = open_buffer();
    hsw_table_text(out, rows, 2, 0);
    fclose(out);
    CHECK(strstr(buffer, " a, \"quoted\" command\n") != NULL,
          "text: the whole command at width 0: %s", buffer);

    out = open_buffer();
    hsw_table_csv(out, rows, 2, true, 12.5);
    fclose(out);
    second = strchr(buffer, '\n') + 1;
    CHECK(count_of(buffer, ',') == 37, "csv header: 38 fields (%d commas)", count_of(buffer, ','));
    CHECK(strstr(buffer, ",cpu_seconds,alloc_p50_ns,alloc_p99_ns,alloc_p999_ns,alloc_max_ns,"
                         "free_p50_ns,free_p99_ns,free_p999_ns,free_max_ns,command,labels\n") != NULL,
          "csv header: the latency fields before the command: %s", buffer);
    CHECK(strstr(second, ",,,,,,,,,\"a, ") != NULL, "csv: no latency, empty fields: %s", second);
    CHECK(starts_with(second, "12.500,10,running,mimalloc,,9000.0,4500.0,576000.0,300,600,0,"
                              "-1.0000,-1.0,123456789012,0,0,5,0,0,0,0,0,0,0,"),
          "csv row: %.120s", second);
    CHECK(strstr(second, ",\"a, \"\"quoted\"\" command\",\n") != NULL,
          "csv: command quoted, then no labels: %s", second);

    out = open_buffer();
    hsw_table_json(out, rows, 2, 12.5);
    fclose(out);
    CHECK(starts_with(buffer, "{\"time\":12.500,\"processes\":[{\"pid\":10,\"state\":\"running\","),
          "json start: %.80s", buffer);
    CHECK(strstr(buffer, "\"command\":\"a, \\\"quoted\\\" command\"") != NULL, "json command");
    CHECK(strstr(buffer, "\"calls\":{\"malloc\":123456789012,\"calloc\":0,\"realloc\":0,"
                         "\"free\":5,\"aligned\":0}") != NULL,
          "json calls, exact");
    CHECK(strstr(buffer, "\"fragmentation\":null,\"allocs_per_second\":9000.0000") != NULL,
          "json: unknown fragmentation is null, known rate a number");
    CHECK(strstr(buffer, "{\"pid\":40,") != NULL &&
              strstr(buffer, "\"allocs_per_second\":null,\"frees_per_second\":null,"
                             "\"bytes_per_second\":null,\"allocs_per_request\":null") != NULL,
          "json: unknown rates are null");
    CHECK(strcmp(buffer + strlen(buffer) - 3, "]}\n") == 0, "json: one line, closed");
}

/* Labels: a column where a process has some, a JSON object, a CSV field. */
static void labels(void)
{
    const struct hsw_proc *rows[2] = {&procs[1], &procs[2]};
    FILE *out;

    snprintf(procs[1].now.labels, sizeof procs[1].now.labels, "pod=web-1,namespace=shop");
    out = open_buffer();
    hsw_table_text(out, rows, 2, 0);
    fclose(out);
    CHECK(strstr(buffer, " LABELS ") != NULL && strstr(buffer, " pod=web-1,namesp ") != NULL &&
              strstr(buffer, " -                a, ") == NULL,
          "text: a LABELS column, cut to its width: %s", buffer);
    out = open_buffer();
    hsw_table_json(out, rows, 2, 12.5);
    fclose(out);
    CHECK(strstr(buffer, "\"labels\":{\"pod\":\"web-1\",\"namespace\":\"shop\"}") != NULL &&
              strstr(buffer, "\"labels\":{}") != NULL,
          "json: a labels object, empty without labels");
    out = open_buffer();
    hsw_table_csv(out, rows, 2, false, 12.5);
    fclose(out);
    CHECK(strstr(buffer, "command\",\"pod=web-1,namespace=shop\"\n") != NULL,
          "csv: the labels last, quoted: %s", buffer);
    procs[1].now.labels[0] = '\0';
}

/* A process that timed its mallocs: `count` calls of `ns` each, and one
 * of 1 ms (a clock of 1 tick per ns). */
static void give_latency(struct hsw_proc *proc, double ns, uint64_t count)
{
    struct heapswitch_latency *l = &proc->now.latency;
    unsigned fast = 0, slow = 0;

    memset(l, 0, sizeof *l);
    l->present = 1;
    l->rate = 256;
    l->ticks_per_ns = 1;
    while (fast + 1 < HEAPSWITCH_LATENCY_BUCKETS && heapswitch_latency_bucket_ns(l, fast + 1) <= ns)
        fast++;
    while (slow + 1 < HEAPSWITCH_LATENCY_BUCKETS && heapswitch_latency_bucket_ns(l, slow + 1) <= 1e6)
        slow++;
    l->kinds[HEAPSWITCH_LATENCY_ALLOC].buckets[fast] = count;
    l->kinds[HEAPSWITCH_LATENCY_ALLOC].buckets[slow] = 1;
    l->kinds[HEAPSWITCH_LATENCY_ALLOC].samples = count + 1;
    l->kinds[HEAPSWITCH_LATENCY_ALLOC].sum_ns = ns * (double)count + 1e6;
    l->kinds[HEAPSWITCH_LATENCY_ALLOC].max_ns = 1e6;
}

/* The latency columns: cells, sorting, and the three forms. */
static void latency(void)
{
    const struct hsw_proc *rows[2] = {&procs[0], &procs[1]};
    char cell[64];
    FILE *out;

    make(&procs[0], 10, "mimalloc", 9000, 300);
    make(&procs[1], 40, "jemalloc", -1, 200);
    EXPECT_CELL(&procs[0], HSW_COL_LAT_P99, "-");
    give_latency(&procs[0], 80, 999);
    give_latency(&procs[1], 3000, 99);
    /* 80 ns lies in the bucket [80, 88): its midpoint. */
    EXPECT_CELL(&procs[0], HSW_COL_LAT_P50, "84ns");
    EXPECT_CELL(&procs[0], HSW_COL_LAT_MAX, "1.0ms");
    /* 3000 ns lies in [2816, 3072). */
    EXPECT_CELL(&procs[1], HSW_COL_LAT_P50, "2.9us");
    CHECK(strstr(hsw_cell(&procs[1], HSW_COL_LAT_P999, cell, sizeof cell), "ms") != NULL,
          "p99.9 of 99 fast and 1 slow is the slow one: %s", cell);
    CHECK(hsw_column_by_key("p99") == HSW_COL_LAT_P99 && hsw_column_by_key("p999") == HSW_COL_LAT_P999,
          "latency keys");
    hsw_sort(rows, 2, HSW_COL_LAT_P50, false);
    CHECK(rows[0]->now.pid == 40, "sorted by p50: the slowest first");

    out = open_buffer();
    hsw_table_text(out, rows, 2, 0);
    fclose(out);
    CHECK(strstr(buffer, "    P50    P99  P99.9 MAXLAT COMMAND") != NULL,
          "text: latency columns when a process has figures: %s", buffer);
    out = open_buffer();
    hsw_table_json(out, rows, 2, 1.0);
    fclose(out);
    CHECK(strstr(buffer, ",\"latency\":{\"rate\":256,\"clock\":\"monotonic\",\"alloc\":{\"samples\":1000,") != NULL,
          "json latency: %s", buffer);
    CHECK(strstr(buffer, "\"max_ns\":1000000.0}") != NULL, "json max: %s", buffer);
    CHECK(strstr(buffer, "\"free\":{\"samples\":0,\"mean_ns\":null,\"p50_ns\":null") != NULL,
          "json: no frees timed, nulls: %s", buffer);
}

int main(void)
{
    columns();
    cells();
    sorting();
    forms();
    labels();
    latency();
    return test_finish("unit/table");
}
