/* A small test harness for the programs in tests/: CHECK() records a
 * failure and goes on; test_finish() gives the exit status. Also the
 * ownership probes that ask each allocator itself whether it made a
 * pointer. Usable from C and C++. */
#ifndef HSW_TEST_HARNESS_H
#define HSW_TEST_HARNESS_H

#include <dlfcn.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures;

#define CHECK(cond, ...)                                                    \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__,          \
                    __LINE__, #cond);                                       \
            fprintf(stderr, __VA_ARGS__);                                   \
            fputc('\n', stderr);                                            \
            test_failures++;                                                \
        }                                                                   \
    } while (0)

static inline int test_finish(const char *name)
{
    if (test_failures == 0)
        printf("%s: all checks passed\n", name);
    else
        fprintf(stderr, "%s: %d check(s) failed\n", name, test_failures);
    return test_failures == 0 ? 0 : 1;
}

/* The backend this run asked for (the runner sets HEAPSWITCH_BACKEND). */
static inline const char *test_expected_backend(void)
{
    const char *name = getenv("HEAPSWITCH_BACKEND");
    return name != NULL && name[0] != '\0' ? name : "system";
}

/* heapswitch_backend_name(), found at run time so that preloaded tests
 * need not link the library. NULL when heapswitch is not loaded. */
static inline const char *test_active_backend(void)
{
    const char *(*name_of)(void) =
        (const char *(*)(void))dlsym(RTLD_DEFAULT, "heapswitch_backend_name");
    return name_of != NULL ? name_of() : NULL;
}

/* jemalloc's own answer: arenas.lookup succeeds only for its pointers. */
static inline bool test_owned_by_jemalloc(void *ptr)
{
    int (*ctl)(const char *, void *, size_t *, void *, size_t) =
        (int (*)(const char *, void *, size_t *, void *, size_t))dlsym(
            RTLD_DEFAULT, "mallctl");
    unsigned arena;
    size_t size = sizeof arena;

    return ctl != NULL &&
           ctl("arenas.lookup", &arena, &size, &ptr, sizeof ptr) == 0;
}

/* mimalloc's own answer. */
static inline bool test_owned_by_mimalloc(void *ptr)
{
    bool (*in_heap)(const void *) =
        (bool (*)(const void *))dlsym(RTLD_DEFAULT, "mi_is_in_heap_region");
    return in_heap != NULL && in_heap(ptr);
}

/* The arena backend's own answer: its chunk header. */
static inline bool test_owned_by_arena(void *ptr)
{
    int (*owns)(const void *) = (int (*)(const void *))dlsym(RTLD_DEFAULT,
                                                              "heapswitch_backend_owns");
    return owns != NULL && strcmp(test_expected_backend(), "arena") == 0 && owns(ptr) == 1;
}

/* Bytes glibc's allocator has handed out, in its arenas and mmapped. */
static inline size_t test_glibc_in_use(void)
{
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
}

/* Evaluates expr, an allocation of at least size bytes, and checks with each
 * allocator's own statistics that the expected backend made the block. */
#define CHECK_OWNER(label, size, expr) CHECK_OWNER_RELEASE(label, size, expr, free)

#define CHECK_OWNER_RELEASE(label, size, expr, release)                     \
    do {                                                                    \
        const char *want_ = test_expected_backend();                        \
        size_t before_ = test_glibc_in_use();                               \
        void *ptr_ = (expr);                                                \
        size_t after_ = test_glibc_in_use();                                \
        bool glibc_ = after_ >= before_ + (size);                           \
        bool mi_, je_;                                                      \
        CHECK(ptr_ != NULL, "%s returned NULL", label);                     \
        if (ptr_ == NULL)                                                   \
            break;                                                          \
        mi_ = test_owned_by_mimalloc(ptr_);                                 \
        /* arenas.lookup is only safe on pointers jemalloc may own */       \
        je_ = strcmp(want_, "jemalloc") == 0 && test_owned_by_jemalloc(ptr_); \
        if (strcmp(want_, "system") == 0)                                   \
            CHECK(glibc_ && !mi_, "%s: glibc in-use %zu -> %zu, mimalloc=%d", \
                  label, before_, after_, mi_);                             \
        else if (strcmp(want_, "jemalloc") == 0)                            \
            CHECK(je_ && !glibc_ && !mi_,                                   \
                  "%s: jemalloc=%d glibc %zu -> %zu mimalloc=%d", label,    \
                  je_, before_, after_, mi_);                               \
        else if (strcmp(want_, "mimalloc") == 0)                            \
            CHECK(mi_ && !glibc_, "%s: mimalloc=%d glibc %zu -> %zu",       \
                  label, mi_, before_, after_);                             \
        else if (strcmp(want_, "arena") == 0)                               \
            CHECK(test_owned_by_arena(ptr_) && !glibc_ && !mi_,             \
                  "%s: arena=%d glibc %zu -> %zu mimalloc=%d", label,       \
                  test_owned_by_arena(ptr_), before_, after_, mi_);         \
        release(ptr_);                                                      \
    } while (0)

#endif
