/* Bad input gets glibc's documented behaviour under every backend. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "tests/harness.h"

/* Keeps the compiler from folding calls with impossible sizes. */
static volatile size_t huge_size = SIZE_MAX - 4096;
static volatile size_t half_size = SIZE_MAX / 2 + 2;
static volatile size_t overflow_count = SIZE_MAX / 65536 + 2;
/* Called through pointers so the compiler cannot see that a failed
 * realloc leaves its block alive. */
static void *(*volatile realloc_call)(void *, size_t) = realloc;
static void *(*volatile reallocarray_call)(void *, size_t, size_t) = reallocarray;

#define CHECK_ENOMEM(label, expr)                                            \
    do {                                                                     \
        void *ptr_;                                                          \
        errno = 0;                                                           \
        ptr_ = (expr);                                                       \
        CHECK(ptr_ == NULL && errno == ENOMEM, "%s: got %p, errno %d", label, \
              ptr_, errno);                                                  \
        free(ptr_);                                                          \
    } while (0)

static void check_failures(void)
{
    void *block = malloc(32);

    CHECK_ENOMEM("malloc(huge)", malloc(huge_size));
    CHECK_ENOMEM("calloc(huge, 1)", calloc(huge_size, 1));
    CHECK_ENOMEM("calloc overflow", calloc(half_size, 2));
    CHECK_ENOMEM("calloc overflow 2", calloc(65536, overflow_count));
    CHECK_ENOMEM("reallocarray overflow", reallocarray(NULL, half_size, 2));
    CHECK_ENOMEM("realloc(NULL, huge)", realloc(NULL, huge_size));
    CHECK_ENOMEM("aligned_alloc(64, huge)", aligned_alloc(64, huge_size));
    CHECK_ENOMEM("memalign(64, huge)", memalign(64, huge_size));
    CHECK_ENOMEM("valloc(huge)", valloc(huge_size));
    CHECK_ENOMEM("pvalloc(huge)", pvalloc(huge_size));

    /* A failed realloc leaves the block intact. */
    memset(block, 0x5a, 32);
    CHECK_ENOMEM("realloc(p, huge)", realloc_call(block, huge_size));
    CHECK_ENOMEM("reallocarray(p, overflow)", reallocarray_call(block, half_size, 4));
    CHECK(((unsigned char *)block)[31] == 0x5a, "block changed by failed realloc");
    free(block);
}

static void check_alignment_rules(void)
{
    void *ptr = (void *)&ptr;
    void *sentinel = ptr;
    void *aligned;

    CHECK(posix_memalign(&ptr, 3, 64) == EINVAL && ptr == sentinel,
          "posix_memalign(3) must be EINVAL and leave *memptr");
    CHECK(posix_memalign(&ptr, 0, 64) == EINVAL, "posix_memalign(0)");
    CHECK(posix_memalign(&ptr, sizeof(void *) / 2, 64) == EINVAL,
          "posix_memalign(below sizeof(void *))");
    CHECK(posix_memalign(&ptr, 24, 64) == EINVAL, "posix_memalign(24)");
    CHECK(posix_memalign(&ptr, 64, huge_size) == ENOMEM && ptr == sentinel,
          "posix_memalign(huge) must be ENOMEM and leave *memptr");
    for (size_t alignment = sizeof(void *); alignment <= 1 << 20; alignment <<= 1) {
        CHECK(posix_memalign(&ptr, alignment, 100) == 0 &&
                  (uintptr_t)ptr % alignment == 0,
              "posix_memalign(%zu)", alignment);
        free(ptr);
        aligned = aligned_alloc(alignment, 3 * alignment);
        CHECK(aligned != NULL && (uintptr_t)aligned % alignment == 0,
              "aligned_alloc(%zu)", alignment);
        free(aligned);
    }

    errno = 0;
    aligned = aligned_alloc(3, 64);
    CHECK(aligned == NULL && errno == EINVAL, "aligned_alloc(3) must be EINVAL");
    errno = 0;
    aligned = aligned_alloc(0, 64);
    CHECK(aligned == NULL && errno == EINVAL, "aligned_alloc(0) must be EINVAL");
    /* C17: the size need not be a multiple of the alignment. */
    aligned = aligned_alloc(64, 100);
    CHECK(aligned != NULL && (uintptr_t)aligned % 64 == 0, "aligned_alloc(64, 100)");
    free(aligned);

    /* memalign rounds a non-power-of-two alignment up, as glibc does. */
    aligned = memalign(48, 100);
    CHECK(aligned != NULL && (uintptr_t)aligned % 64 == 0, "memalign(48) -> 64");
    free(aligned);
    errno = 0;
    aligned = memalign(half_size, 100);
    CHECK(aligned == NULL && errno == EINVAL, "memalign(> SIZE_MAX/2+1) is EINVAL");

    aligned = valloc(10);
    CHECK(aligned != NULL && (uintptr_t)aligned % (uintptr_t)getpagesize() == 0,
          "valloc alignment");
    free(aligned);
    aligned = pvalloc(10);
    CHECK(aligned != NULL && (uintptr_t)aligned % (uintptr_t)getpagesize() == 0 &&
              malloc_usable_size(aligned) >= (size_t)getpagesize(),
          "pvalloc rounds up to a page");
    free(aligned);
}

static void check_zero_and_null(void)
{
    void *a = malloc(0), *b = malloc(0), *grown, *shrunk;

    CHECK(a != NULL && b != NULL && a != b, "malloc(0) gives distinct non-NULL blocks");
    free(a);
    free(b);
    a = calloc(0, 16);
    CHECK(a != NULL, "calloc(0, n) gives a block");
    free(a);

    errno = 1234;
    free(NULL);
    CHECK(errno == 1234, "free(NULL) changed errno");

    grown = realloc(NULL, 100);
    CHECK(grown != NULL, "realloc(NULL, n) is malloc(n)");
    memset(grown, 7, 100);
    shrunk = realloc(grown, 0);
    CHECK(shrunk == NULL, "realloc(p, 0) frees and returns NULL, as glibc does");
    a = realloc(NULL, 0);
    CHECK(a != NULL, "realloc(NULL, 0) is malloc(0)");
    free(a);
    CHECK(malloc_usable_size(NULL) == 0, "malloc_usable_size(NULL) is 0");

    /* calloc memory is zeroed, also when it recycles a dirty block. */
    for (int round = 0; round < 100; round++) {
        unsigned char *dirty = malloc(512), *clean;
        memset(dirty, 0xff, 512);
        free(dirty);
        clean = calloc(64, 8);
        for (int i = 0; i < 512; i++)
            if (clean[i] != 0) {
                CHECK(clean[i] == 0, "calloc byte %d is %d", i, clean[i]);
                break;
            }
        free(clean);
    }
}

/* free() preserves errno (glibc's manual, "Replacing malloc"), also when
 * the allocator returns memory to the kernel. */
static void check_free_preserves_errno(void)
{
    enum { COUNT = 64 };
    void *blocks[COUNT];

    for (int i = 0; i < COUNT; i++)
        blocks[i] = malloc((size_t)(i + 1) * 256 * 1024);
    for (int i = 0; i < COUNT; i++) {
        errno = 4321;
        free(blocks[i]);
        CHECK(errno == 4321, "free of a %d KiB block changed errno to %d",
              (i + 1) * 256, errno);
    }
}

int main(void)
{
    check_failures();
    check_alignment_rules();
    check_zero_and_null();
    check_free_preserves_errno();
    return test_finish("bad_input");
}
