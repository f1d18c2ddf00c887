/* An allocation-heavy example workload: builds, indexes and drops many
 * small strings and arrays per simulated request, like a service that
 * parses and renders text. Prints a checksum so runs under different
 * backends can be compared for identical output.
 *
 *   workload [REQUESTS] [THREADS]
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct request_result {
    unsigned long requests;
    uint64_t checksum;
};

static uint64_t mix(uint64_t hash, const char *text, size_t length)
{
    for (size_t i = 0; i < length; i++)
        hash = (hash ^ (unsigned char)text[i]) * 1099511628211u;
    return hash;
}

/* One request: split a generated header block into fields, copy each
 * into its own string, group them in growable arrays, render a reply. */
static uint64_t handle_request(unsigned long id)
{
    size_t field_count = 200 + id % 300, used = 0, capacity = 4;
    char **fields = malloc(capacity * sizeof *fields);
    char *reply;
    size_t reply_length = 0;
    uint64_t hash = 14695981039346656037u;

    if (fields == NULL)
        abort();
    for (size_t i = 0; i < field_count; i++) {
        char buffer[64];
        int length = snprintf(buffer, sizeof buffer, "x-field-%lu-%zu: value %zu",
                              id, i, (i * 2654435761u) % 100000);
        if (used == capacity) {
            capacity *= 2;
            fields = realloc(fields, capacity * sizeof *fields);
            if (fields == NULL)
                abort();
        }
        fields[used] = malloc((size_t)length + 1);
        if (fields[used] == NULL)
            abort();
        memcpy(fields[used], buffer, (size_t)length + 1);
        reply_length += (size_t)length + 2;
        used++;
    }
    reply = malloc(reply_length + 1);
    if (reply == NULL)
        abort();
    reply[0] = '\0';
    for (size_t i = 0, at = 0; i < used; i++) {
        size_t length = strlen(fields[i]);
        memcpy(reply + at, fields[i], length);
        memcpy(reply + at + length, "\r\n", 3);
        at += length + 2;
        free(fields[i]);
    }
    hash = mix(hash, reply, reply_length);
    free(reply);
    free(fields);
    return hash;
}

static void *worker(void *arg)
{
    struct request_result *result = arg;
    uint64_t checksum = 0;

    for (unsigned long id = 0; id < result->requests; id++)
        checksum += handle_request(id);
    result->checksum = checksum;
    return NULL;
}

static unsigned long parse_count(const char *text, const char *what)
{
    char *end;
    unsigned long value;

    errno = 0;
    value = strtoul(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value == 0 || text[0] == '-') {
        fprintf(stderr, "workload: %s must be a positive integer, not '%s'\n", what, text);
        exit(2);
    }
    return value;
}

int main(int argc, char **argv)
{
    unsigned long requests = argc > 1 ? parse_count(argv[1], "REQUESTS") : 20000;
    unsigned long threads = argc > 2 ? parse_count(argv[2], "THREADS") : 2;
    struct request_result results[64];
    pthread_t ids[64];
    uint64_t checksum = 0;

    if (argc > 3 || threads > 64) {
        fprintf(stderr, "usage: workload [REQUESTS] [THREADS<=64]\n");
        return 2;
    }
    for (unsigned long t = 0; t < threads; t++) {
        results[t].requests = requests / threads;
        if (pthread_create(&ids[t], NULL, worker, &results[t]) != 0) {
            fprintf(stderr, "workload: cannot start thread %lu\n", t);
            return 1;
        }
    }
    for (unsigned long t = 0; t < threads; t++) {
        pthread_join(ids[t], NULL);
        checksum += results[t].checksum;
    }
    printf("%lu requests, checksum %016" PRIx64 "\n", requests / threads * threads, checksum);
    return 0;
}
