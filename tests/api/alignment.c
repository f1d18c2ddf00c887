/* Aligned allocation, exhaustively over the small cases: every alignment
 * from 16 bytes to 64 KiB with every power-of-two size up to 64 KiB, the
 * sizes next to them, and 0, through aligned_alloc, posix_memalign,
 * memalign and C11's rules; each result aligned, usable for its size, and
 * writable. mimalloc 2.0.9's mi_malloc_aligned() got 256/512/1024-byte
 * blocks with alignments from 256 wrong; this is the test that says so. */
#include "config.h"

#include <stdint.h>

#include "tests/harness.h"

static int failures_shown;

static void check_block(const char *label, void *ptr, size_t alignment, size_t size)
{
    CHECK(ptr != NULL, "%s(%zu, %zu) returned NULL", label, alignment, size);
    if (ptr == NULL)
        return;
    if ((uintptr_t)ptr % alignment != 0 && failures_shown++ < 20)
        CHECK(0, "%s(alignment %zu, size %zu) = %p: misaligned", label, alignment, size,
              ptr);
    CHECK(malloc_usable_size(ptr) >= size, "%s(%zu, %zu): usable size %zu", label,
          alignment, size, malloc_usable_size(ptr));
    memset(ptr, 0xa5, size);
}

int main(void)
{
    for (size_t alignment = 16; alignment <= 65536; alignment *= 2) {
        for (size_t power = 1; power <= 65536; power *= 2) {
            size_t sizes[3] = {power - 1, power, power + 1};
            for (int i = 0; i < 3; i++) {
                size_t size = sizes[i];
                void *held[8];
                /* several at once: a fresh page's first block is often
                 * aligned by luck */
                for (int n = 0; n < 8; n++) {
                    held[n] = aligned_alloc(alignment, size);
                    check_block("aligned_alloc", held[n], alignment, size);
                }
                for (int n = 0; n < 8; n++) {
                    void *ptr = NULL;
                    CHECK(posix_memalign(&ptr, alignment, size) == 0, "posix_memalign");
                    check_block("posix_memalign", ptr, alignment, size);
                    free(ptr);
                    ptr = memalign(alignment, size);
                    check_block("memalign", ptr, alignment, size);
                    free(ptr);
                }
                for (int n = 0; n < 8; n++)
                    free(held[n]);
            }
        }
    }
    return test_finish("alignment");
}
