/* Out of address space under every backend: malloc returns NULL with errno
 * ENOMEM (never crashes or aborts) once RLIMIT_AS is reached, and works
 * again once memory is given back and the limit lifted. Skipped (77) when
 * the limit cannot be lowered to 1 GiB here. */
#include "config.h"

#include <errno.h>
#include <sys/resource.h>

#include "tests/harness.h"

/* Out of address space: NULL and ENOMEM, nothing broken, and allocation
 * works again once memory is given back. */
static void address_space_limit(void)
{
    struct rlimit old, limited;
    void *blocks[4096];
    int count = 0, saw_enomem = 0;

    getrlimit(RLIMIT_AS, &old);
    limited = old;
    limited.rlim_cur = 1u << 30; /* 1 GiB: above what this process maps already */
    if (setrlimit(RLIMIT_AS, &limited) != 0) {
        printf("SKIP: cannot lower RLIMIT_AS to 1 GiB: %s\n", strerror(errno));
        exit(77);
    }
    while (count < 4096) {
        errno = 0;
        blocks[count] = malloc(1u << 20);
        if (blocks[count] == NULL) {
            saw_enomem = errno == ENOMEM;
            break;
        }
        memset(blocks[count], 1, 4096);
        count++;
    }
    CHECK(count < 4096 && saw_enomem, "no ENOMEM after %d MiB (errno %d)", count, errno);
    for (int i = 0; i < count; i++)
        free(blocks[i]);
    setrlimit(RLIMIT_AS, &old);
    blocks[0] = malloc(1u << 20);
    CHECK(blocks[0] != NULL, "allocation after the limit was lifted");
    free(blocks[0]);
}

int main(void)
{
    address_space_limit();
    return test_finish("enomem");
}
