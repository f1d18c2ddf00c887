/* A fork storm: 4 threads, each with its own blocks, fork 50 children each
 * without waiting in between (200 in flight) while the other threads keep
 * allocating. Each child checks the blocks it inherited, allocates and
 * frees a few hundred blocks of its own, frees the inherited ones and
 * leaves through exit() (so the library's exit path runs in it). Every
 * child is reaped by the thread that made it, and must exit 0; none is
 * left over. LONG=1 (make check-long) makes 10 rounds of it. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/harness.h"

enum { THREADS = 4, CHILDREN = 50, BLOCKS = 64 };

static void fill(unsigned char *block, size_t size, unsigned char seed)
{
    for (size_t i = 0; i < size; i++)
        block[i] = (unsigned char)(seed + i * 7);
}

static int intact(const unsigned char *block, size_t size, unsigned char seed)
{
    for (size_t i = 0; i < size; i++)
        if (block[i] != (unsigned char)(seed + i * 7))
            return 0;
    return 1;
}

static size_t size_of(int i)
{
    return (size_t)(1 + (i * 7919) % 20000);
}

struct worker {
    int index;
    int forked, reaped, failed_children, fork_errors, parent_errors;
};

static int child(unsigned char **inherited, unsigned char seed)
{
    int bad = 0;
    void *own[BLOCKS];

    for (int i = 0; i < BLOCKS; i++)
        if (!intact(inherited[i], size_of(i), (unsigned char)(seed + i)))
            bad++;
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < BLOCKS; i++) {
            own[i] = malloc(size_of(i * 3 + round));
            if (own[i] == NULL)
                return 2;
            fill(own[i], size_of(i * 3 + round), (unsigned char)i);
        }
        for (int i = 0; i < BLOCKS; i++) {
            if (!intact(own[i], size_of(i * 3 + round), (unsigned char)i))
                bad++;
            own[i] = i % 2 ? realloc(own[i], size_of(i) + 100) : own[i];
            free(own[i]);
        }
    }
    for (int i = 0; i < BLOCKS; i++)
        free(inherited[i]);
    return bad != 0;
}

static void *storm(void *arg)
{
    struct worker *self = arg;
    unsigned char seed = (unsigned char)(self->index * 37);
    unsigned char *blocks[BLOCKS];
    pid_t pids[CHILDREN];

    for (int i = 0; i < BLOCKS; i++) {
        blocks[i] = malloc(size_of(i));
        if (blocks[i] == NULL) {
            self->parent_errors++;
            return NULL;
        }
        fill(blocks[i], size_of(i), (unsigned char)(seed + i));
    }
    for (int c = 0; c < CHILDREN; c++) {
        /* Some churn between forks, so that forks land mid-allocation in
         * the other threads. */
        void *noise = malloc(size_of(c) * 2);
        free(noise);
        pids[c] = fork();
        if (pids[c] == 0)
            exit(child(blocks, seed));
        if (pids[c] < 0)
            self->fork_errors++;
        else
            self->forked++;
    }
    for (int c = 0; c < CHILDREN; c++) {
        int status;
        if (pids[c] <= 0)
            continue;
        while (waitpid(pids[c], &status, 0) < 0 && errno == EINTR)
            ;
        self->reaped++;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            self->failed_children++;
    }
    for (int i = 0; i < BLOCKS; i++) {
        if (!intact(blocks[i], size_of(i), (unsigned char)(seed + i)))
            self->parent_errors++;
        free(blocks[i]);
    }
    return NULL;
}

int main(void)
{
    const char *long_run = getenv("LONG");
    int rounds = long_run != NULL && strcmp(long_run, "1") == 0 ? 10 : 1;
    int forked = 0;

    fflush(NULL); /* nothing buffered for the children to write twice */
    for (int round = 0; round < rounds; round++) {
        struct worker workers[THREADS];
        pthread_t threads[THREADS];
        int status;

        memset(workers, 0, sizeof workers);
        for (int t = 0; t < THREADS; t++) {
            workers[t].index = t;
            CHECK(pthread_create(&threads[t], NULL, storm, &workers[t]) == 0,
                  "pthread_create");
        }
        for (int t = 0; t < THREADS; t++) {
            pthread_join(threads[t], NULL);
            CHECK(workers[t].fork_errors == 0, "round %d thread %d: %d forks failed",
                  round, t, workers[t].fork_errors);
            CHECK(workers[t].reaped == workers[t].forked,
                  "round %d thread %d: %d forked, %d reaped", round, t, workers[t].forked,
                  workers[t].reaped);
            CHECK(workers[t].failed_children == 0,
                  "round %d thread %d: %d children failed", round, t,
                  workers[t].failed_children);
            CHECK(workers[t].parent_errors == 0,
                  "round %d thread %d: parent blocks damaged", round, t);
            forked += workers[t].forked;
        }
        errno = 0;
        CHECK(waitpid(-1, &status, WNOHANG) < 0 && errno == ECHILD,
              "round %d: a child was left unreaped", round);
    }
    CHECK(forked == rounds * THREADS * CHILDREN, "%d children, expected %d", forked,
          rounds * THREADS * CHILDREN);
    printf("fork_storm: %d children in %d round(s)\n", forked, rounds);
    return test_finish("fork_storm");
}
