/* Under jemalloc, the counters learn a freed block's size from jemalloc's
 * per-thread count of freed bytes, set up at the thread's first counted
 * allocating call; sallocx(), a lookup per free, is only the fallback. A
 * thread whose first counted call is a free claims its slot then, and
 * must still get the cheap path within a few hundred allocations.
 *
 * This program defines sallocx() itself (exported with -rdynamic), so
 * that libheapswitch's calls to it land here and are counted, per
 * thread, before going on to jemalloc's. Under the other backends nobody
 * calls it, and the checks hold trivially. */
#include "config.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

#include "tests/harness.h"

enum { PAIRS = 4000, FALLBACK_LIMIT = 300 };

size_t sallocx(void *ptr, int flags);

/* Volatile: the compiler takes malloc and free for builtins that call
 * back into nothing, and would read it once. */
static _Thread_local volatile unsigned long sallocx_calls;

size_t sallocx(void *ptr, int flags)
{
    static size_t (*real)(void *, int);

    if (real == NULL)
        real = (size_t(*)(void *, int))dlsym(RTLD_NEXT, "sallocx");
    if (real == NULL)
        abort();
    sallocx_calls++;
    return real(ptr, flags);
}

/* PAIRS malloc/free pairs; returns the sallocx() calls they made. */
static unsigned long churn(void)
{
    unsigned long before = sallocx_calls;

    for (int i = 0; i < PAIRS; i++) {
        char *volatile block = malloc(16 + (size_t)(i % 64) * 8);
        if (block == NULL)
            abort();
        block[0] = 1;
        free(block);
    }
    return sallocx_calls - before;
}

static void *malloc_first(void *arg)
{
    *(unsigned long *)arg = churn();
    return NULL;
}

static void *free_first(void *arg)
{
    void *volatile nothing = NULL; /* a free(NULL) the compiler keeps */

    free(nothing); /* the thread's first call: it claims the slot */
    *(unsigned long *)arg = churn();
    return NULL;
}

static unsigned long run_thread(void *(*body)(void *))
{
    unsigned long calls = 0;
    pthread_t thread;

    if (pthread_create(&thread, NULL, body, &calls) != 0 || pthread_join(thread, NULL) != 0)
        abort();
    return calls;
}

int main(void)
{
    unsigned long after_malloc = run_thread(malloc_first);
    unsigned long after_free = run_thread(free_first);

    printf("sallocx calls in %d pairs: %lu (first call malloc), %lu (first call free)\n", PAIRS,
           after_malloc, after_free);
    CHECK(after_malloc <= FALLBACK_LIMIT, "%lu of %d frees looked their size up", after_malloc,
          PAIRS);
    CHECK(after_free <= FALLBACK_LIMIT, "%lu of %d frees looked their size up", after_free, PAIRS);
    return test_finish("free_lookups");
}
