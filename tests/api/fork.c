/* fork: the child allocates and frees freely, including the parent's
 * blocks, while another parent thread was allocating at the fork. */
#include "config.h"

#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/harness.h"

enum { BLOCKS = 256, ROUNDS = 40 };

static volatile int stop_churn;

/* Keeps the backend's locks busy so that fork() lands while they are used. */
static void *churn(void *arg)
{
    (void)arg;
    while (!stop_churn) {
        void *blocks[16];
        for (int i = 0; i < 16; i++)
            blocks[i] = malloc((size_t)(16 << (i % 12)));
        for (int i = 0; i < 16; i++)
            free(blocks[i]);
    }
    return NULL;
}

static void fill(unsigned char *block, size_t size, unsigned char seed)
{
    for (size_t i = 0; i < size; i++)
        block[i] = (unsigned char)(seed + i);
}

static int verify(const unsigned char *block, size_t size, unsigned char seed)
{
    for (size_t i = 0; i < size; i++)
        if (block[i] != (unsigned char)(seed + i))
            return 0;
    return 1;
}

static size_t size_of(int i)
{
    return (size_t)(1 + (i * 977) % 70000);
}

static int child_work(unsigned char **blocks)
{
    int bad = 0;

    for (int i = 0; i < BLOCKS; i++) {
        if (!verify(blocks[i], size_of(i), (unsigned char)i))
            bad++;
        if (i % 2)
            free(blocks[i]);
        else
            blocks[i] = realloc(blocks[i], size_of(i) * 2 + 1);
    }
    for (int i = 0; i < BLOCKS; i += 2)
        free(blocks[i]);
    for (int i = 0; i < 1000; i++)
        free(malloc((size_t)i * 13 + 1));
    return bad == 0 ? 0 : 3;
}

int main(void)
{
    unsigned char *blocks[BLOCKS];
    pthread_t churner;

    CHECK(pthread_create(&churner, NULL, churn, NULL) == 0, "pthread_create");
    for (int round = 0; round < ROUNDS; round++) {
        pid_t child;
        int status = 0;

        for (int i = 0; i < BLOCKS; i++) {
            blocks[i] = malloc(size_of(i));
            fill(blocks[i], size_of(i), (unsigned char)i);
        }
        child = fork();
        if (child == 0) {
            /* A grandchild too: fork from a forked process. */
            pid_t grandchild = fork();
            if (grandchild == 0)
                _exit(child_work(blocks));
            int code = child_work(blocks), grand_status = 0;
            waitpid(grandchild, &grand_status, 0);
            _exit(code != 0 ? code : WIFEXITED(grand_status) ? WEXITSTATUS(grand_status) : 4);
        }
        CHECK(child > 0, "fork failed");
        waitpid(child, &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "round %d: child status %#x", round, status);
        for (int i = 0; i < BLOCKS; i++) {
            CHECK(verify(blocks[i], size_of(i), (unsigned char)i),
                  "parent block %d changed", i);
            free(blocks[i]);
        }
    }
    stop_churn = 1;
    pthread_join(churner, NULL);
    return test_finish("fork");
}
