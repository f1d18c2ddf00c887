/* Every entry point of the malloc family returns memory that the selected
 * backend made, proven with that allocator's own API, and the library
 * reports the backend it was asked for. */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#include "tests/harness.h"

typedef void *(*alloc_fn)(size_t);
typedef void *(*aligned_fn)(size_t, size_t);
typedef void *(*calloc_fn)(size_t, size_t);

static void *posix_memalign_64(size_t size)
{
    void *ptr = NULL;
    return posix_memalign(&ptr, 64, size) == 0 ? ptr : NULL;
}

static void check_every_entry_point(void)
{
    const size_t size = 4000; /* below every mmap threshold */
    alloc_fn libc_malloc = (alloc_fn)dlsym(RTLD_DEFAULT, "__libc_malloc");
    calloc_fn libc_calloc = (calloc_fn)dlsym(RTLD_DEFAULT, "__libc_calloc");
    aligned_fn libc_memalign = (aligned_fn)dlsym(RTLD_DEFAULT, "__libc_memalign");
    static char long_text[1001];
    void *grown;

    memset(long_text, 'x', sizeof long_text - 1);

    CHECK_OWNER("malloc", size, malloc(size));
    CHECK_OWNER("calloc", size, calloc(1, size));
    CHECK_OWNER("realloc(NULL)", size, realloc(NULL, size));
    CHECK_OWNER("reallocarray(NULL)", size, reallocarray(NULL, 4, size / 4));
    CHECK_OWNER("aligned_alloc", size, aligned_alloc(256, size));
    CHECK_OWNER("posix_memalign", size, posix_memalign_64(size));
    CHECK_OWNER("memalign", size, memalign(128, size));
    CHECK_OWNER("valloc", size, valloc(size));
    CHECK_OWNER("pvalloc", size, pvalloc(size));
    CHECK_OWNER("strdup (inside libc)", 1000, strdup(long_text));
    CHECK(libc_malloc != NULL && libc_calloc != NULL && libc_memalign != NULL,
          "the __libc_* aliases are not exported");
    if (libc_malloc != NULL)
        CHECK_OWNER("__libc_malloc", size, libc_malloc(size));
    if (libc_calloc != NULL)
        CHECK_OWNER("__libc_calloc", size, libc_calloc(2, size / 2));
    if (libc_memalign != NULL)
        CHECK_OWNER("__libc_memalign", size, libc_memalign(64, size));

    /* A block grown by realloc stays the backend's. */
    grown = malloc(64);
    /* The 64-byte block is given back: glibc grows by the difference. */
    CHECK_OWNER("realloc(grow)", size - 128, realloc(grown, size));
}

static void *thread_main(void *arg)
{
    (void)arg;
    check_every_entry_point();
    return NULL;
}

int main(void)
{
    const char *active = test_active_backend();
    pthread_t thread;

    CHECK(active != NULL, "heapswitch is not loaded");
    CHECK(active == NULL || strcmp(active, test_expected_backend()) == 0,
          "active backend is %s, expected %s", active ? active : "(none)",
          test_expected_backend());
    check_every_entry_point();
    /* heapswitch_backend_owns: the backend's own test where it has one
     * (the arena's chunk header), -1 ("cannot tell") elsewhere. */
    {
        int (*owns)(const void *) =
            (int (*)(const void *))dlsym(RTLD_DEFAULT, "heapswitch_backend_owns");
        void *block = malloc(100);
        int want = strcmp(test_expected_backend(), "arena") == 0 ? 1 : -1;
        CHECK(owns != NULL && owns(block) == want, "heapswitch_backend_owns: %d, want %d",
              owns != NULL ? owns(block) : -2, want);
        free(block);
    }
    /* A second thread exercises the backends' per-thread caches. */
    CHECK(pthread_create(&thread, NULL, thread_main, NULL) == 0, "pthread_create");
    pthread_join(thread, NULL);
    return test_finish("ownership");
}
