/* A simulated request handler, written twice: the way careless code
 * allocates (--naive: a few thousand to tens of thousands of malloc calls
 * per request) and with the classic remedies (--tuned: a few per request).
 * Both produce the same responses; the program prints their checksum.
 *
 * Each request parses a generated header block of N lines
 * ("X-Field-7: Value 42 7; tags=alpha,beta,..."), splits fields and tags,
 * normalises names, and renders a response listing every field with its
 * tags. It marks each request with heapswitch_request_done(), so
 * `heapswitch top` shows allocations per request.
 *
 *   request_server [--naive | --tuned] [-r REQUESTS | -s SECONDS] [-l LINES] [-t THREADS]
 *
 * Linked with -lheapswitch: HEAPSWITCH_BACKEND picks the allocator, no
 * LD_PRELOAD needed.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <heapswitch.h>

static const char *const tag_words[] = {"alpha", "beta", "gamma", "delta", "epsilon",
                                        "zeta", "eta", "theta"};

struct options {
    bool tuned;
    unsigned long requests; /* per thread; 0: run for `seconds` */
    double seconds;
    unsigned long lines;
    unsigned long threads;
};

static struct options options = {false, 2000, 0, 120, 1};

/* The request's input: a header block, deterministic from its id. */
static size_t make_headers(char *out, size_t size, unsigned long id)
{
    size_t used = 0;

    for (unsigned long line = 0; line < options.lines && used + 160 < size; line++) {
        unsigned tags = 1 + (unsigned)((id + line) % 5);
        used += (size_t)snprintf(out + used, size - used, "X-Field-%lu: Value %lu %lu ; tags=",
                                 line, id % 997, line * 31 % 101);
        for (unsigned t = 0; t < tags; t++)
            used += (size_t)snprintf(out + used, size - used, "%s%s", t ? "," : "",
                                     tag_words[(id + line + t) % 8]);
        used += (size_t)snprintf(out + used, size - used, "\r\n");
    }
    return used;
}

static uint64_t fnv(uint64_t hash, const char *text, size_t length)
{
    for (size_t i = 0; i < length; i++)
        hash = (hash ^ (unsigned char)text[i]) * 1099511628211u;
    return hash;
}

/* ---- naive: a copy of everything, a call per growth ------------------- */

static char *concat(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *joined = malloc(la + lb + 1);

    memcpy(joined, a, la);
    memcpy(joined + la, b, lb + 1);
    return joined;
}

static uint64_t handle_naive(const char *input)
{
    char *copy = strdup(input), *line, *save_line = NULL;
    char **names = NULL, **values = NULL, ***tags = NULL;
    size_t *tag_counts = NULL, count = 0;
    char *response = malloc(1);
    size_t response_length = 0;
    uint64_t hash;

    response[0] = '\0';
    for (line = strtok_r(copy, "\r\n", &save_line); line != NULL;
         line = strtok_r(NULL, "\r\n", &save_line)) {
        char *owned = strdup(line), *colon = strchr(owned, ':'), *semicolon, *name, *value;
        char *tag_list, *tag, *save_tag = NULL;

        if (colon == NULL) {
            free(owned);
            continue;
        }
        name = strndup(owned, (size_t)(colon - owned));
        for (char *at = name; *at; at++) {
            char lower[2] = {(char)tolower((unsigned char)*at), 0}, *step = concat("", lower);
            *at = step[0];
            free(step);
        }
        semicolon = strchr(colon, ';');
        value = strndup(colon + 2, (size_t)(semicolon - colon - 3));
        names = realloc(names, (count + 1) * sizeof *names);
        values = realloc(values, (count + 1) * sizeof *values);
        tags = realloc(tags, (count + 1) * sizeof *tags);
        tag_counts = realloc(tag_counts, (count + 1) * sizeof *tag_counts);
        names[count] = name;
        values[count] = value;
        tags[count] = NULL;
        tag_counts[count] = 0;
        tag_list = strdup(semicolon + 7);
        for (tag = strtok_r(tag_list, ",", &save_tag); tag != NULL;
             tag = strtok_r(NULL, ",", &save_tag)) {
            tags[count] = realloc(tags[count], (tag_counts[count] + 1) * sizeof **tags);
            tags[count][tag_counts[count]++] = strdup(tag);
        }
        free(tag_list);
        free(owned);
        count++;
    }
    for (size_t f = 0; f < count; f++) {
        char *piece = concat(names[f], "="), *next = concat(piece, values[f]);
        free(piece);
        piece = next;
        for (size_t t = 0; t < tag_counts[f]; t++) {
            next = concat(piece, t ? "|" : " [");
            free(piece);
            piece = concat(next, tags[f][t]);
            free(next);
            free(tags[f][t]);
        }
        next = concat(piece, "]\n");
        free(piece);
        /* The response grows a character at a time. */
        for (const char *at = next; *at; at++) {
            response = realloc(response, response_length + 2);
            response[response_length++] = *at;
            response[response_length] = '\0';
        }
        free(next);
        free(tags[f]);
        free(names[f]);
        free(values[f]);
    }
    hash = fnv(14695981039346656037u, response, response_length);
    free(response);
    free(names);
    free(values);
    free(tags);
    free(tag_counts);
    free(copy);
    return hash;
}

/* ---- tuned: borrow, stack buffers, small vectors, an arena ------------- */

struct slice {
    const char *text;
    size_t length;
};

/* A vector that holds up to 8 items inline and spills to the arena. */
struct small_vector {
    struct slice inline_items[8];
    struct slice *items;
    size_t count, capacity;
};

static void small_vector_push(struct small_vector *vector, heapswitch_arena *arena,
                              struct slice item)
{
    if (vector->items == NULL) {
        vector->items = vector->inline_items;
        vector->capacity = 8;
    }
    if (vector->count == vector->capacity) {
        struct slice *grown =
            heapswitch_arena_alloc(arena, vector->capacity * 2 * sizeof *grown);
        memcpy(grown, vector->items, vector->count * sizeof *grown);
        vector->items = grown;
        vector->capacity *= 2;
    }
    vector->items[vector->count++] = item;
}

struct field {
    char name[64]; /* lower-cased copy: a fixed buffer, names are short */
    size_t name_length;
    struct slice value; /* borrowed from the input */
    struct small_vector tags;
};

struct worker_state {
    heapswitch_arena *arena; /* reset after every request */
    char *response;          /* reused across requests */
    size_t response_capacity;
};

static void append(struct worker_state *state, size_t *length, const char *text, size_t size)
{
    if (*length + size + 1 > state->response_capacity) {
        state->response_capacity = (*length + size + 1) * 2;
        state->response = realloc(state->response, state->response_capacity);
    }
    memcpy(state->response + *length, text, size);
    *length += size;
}

static uint64_t handle_tuned(struct worker_state *state, const char *input)
{
    size_t lines = 0, count = 0, length = 0;
    struct field *fields;
    const char *at = input;

    for (const char *c = input; *c; c++)
        lines += *c == '\n';
    /* Capacity reserved up front, from the arena. */
    fields = heapswitch_arena_alloc(state->arena, (lines + 1) * sizeof *fields);
    while (*at != '\0') {
        const char *end = strstr(at, "\r\n"), *colon = memchr(at, ':', (size_t)(end - at));
        const char *semicolon = colon ? memchr(colon, ';', (size_t)(end - colon)) : NULL;
        struct field *field = &fields[count];
        const char *tag = semicolon + 7;

        if (colon == NULL || semicolon == NULL) {
            at = end + 2;
            continue;
        }
        field->name_length = (size_t)(colon - at) < sizeof field->name - 1
                                 ? (size_t)(colon - at)
                                 : sizeof field->name - 1;
        for (size_t i = 0; i < field->name_length; i++)
            field->name[i] = (char)tolower((unsigned char)at[i]);
        field->value.text = colon + 2;
        field->value.length = (size_t)(semicolon - colon - 3);
        memset(&field->tags, 0, sizeof field->tags);
        while (tag < end) {
            const char *comma = memchr(tag, ',', (size_t)(end - tag));
            const char *stop = comma ? comma : end;
            small_vector_push(&field->tags, state->arena,
                              (struct slice){tag, (size_t)(stop - tag)});
            tag = stop + 1;
        }
        count++;
        at = end + 2;
    }
    for (size_t f = 0; f < count; f++) {
        struct field *field = &fields[f];
        append(state, &length, field->name, field->name_length);
        append(state, &length, "=", 1);
        append(state, &length, field->value.text, field->value.length);
        for (size_t t = 0; t < field->tags.count; t++) {
            append(state, &length, t ? "|" : " [", t ? 1 : 2);
            append(state, &length, field->tags.items[t].text, field->tags.items[t].length);
        }
        append(state, &length, "]\n", 2);
    }
    heapswitch_arena_reset(state->arena);
    return fnv(14695981039346656037u, state->response, length);
}

/* ---- driver ------------------------------------------------------------ */

struct worker {
    pthread_t thread;
    unsigned long index;
    unsigned long done;
    uint64_t checksum;
};

static double now_seconds(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static void *work(void *arg)
{
    struct worker *worker = arg;
    struct worker_state state = {heapswitch_arena_create(0), NULL, 0};
    size_t input_size = options.lines * 160 + 1;
    char *input = malloc(input_size);
    double deadline = now_seconds() + options.seconds;

    if (input == NULL || state.arena == NULL) {
        fprintf(stderr, "request_server: out of memory\n");
        exit(1);
    }
    for (unsigned long id = 0;; id++) {
        if (options.requests != 0 ? id >= options.requests
                                  : (id % 64 == 0 && now_seconds() >= deadline))
            break;
        make_headers(input, input_size, id + worker->index * 1000003);
        worker->checksum += options.tuned ? handle_tuned(&state, input) : handle_naive(input);
        worker->done++;
        heapswitch_request_done();
    }
    free(input);
    free(state.response);
    heapswitch_arena_destroy(state.arena);
    return NULL;
}

static unsigned long parse_count(const char *text, const char *what)
{
    char *end;
    unsigned long value;

    errno = 0;
    value = strtoul(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value == 0 || text[0] == '-') {
        fprintf(stderr, "request_server: %s needs a positive integer, not '%s'\n", what, text);
        exit(2);
    }
    return value;
}

static void usage(void)
{
    fprintf(stderr, "usage: request_server [--naive | --tuned] [-r REQUESTS | -s SECONDS] "
                    "[-l LINES] [-t THREADS]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct worker workers[64];
    uint64_t checksum = 0;
    unsigned long total = 0;
    double started;

    for (int at = 1; at < argc; at++) {
        const char *arg = argv[at];
        if (strcmp(arg, "--naive") == 0)
            options.tuned = false;
        else if (strcmp(arg, "--tuned") == 0)
            options.tuned = true;
        else if (at + 1 < argc && strcmp(arg, "-r") == 0)
            options.requests = parse_count(argv[++at], "-r");
        else if (at + 1 < argc && strcmp(arg, "-s") == 0) {
            options.seconds = (double)parse_count(argv[++at], "-s");
            options.requests = 0;
        } else if (at + 1 < argc && strcmp(arg, "-l") == 0)
            options.lines = parse_count(argv[++at], "-l");
        else if (at + 1 < argc && strcmp(arg, "-t") == 0)
            options.threads = parse_count(argv[++at], "-t");
        else
            usage();
    }
    if (options.threads > 64 || options.lines > 100000)
        usage();
    started = now_seconds();
    for (unsigned long t = 0; t < options.threads; t++) {
        workers[t] = (struct worker){.index = t};
        pthread_create(&workers[t].thread, NULL, work, &workers[t]);
    }
    for (unsigned long t = 0; t < options.threads; t++) {
        pthread_join(workers[t].thread, NULL);
        checksum += workers[t].checksum;
        total += workers[t].done;
    }
    printf("%s: %lu requests in %.2f s, backend %s, checksum %016" PRIx64 "\n",
           options.tuned ? "tuned" : "naive", total, now_seconds() - started,
           heapswitch_backend_name(), checksum);
    return 0;
}
