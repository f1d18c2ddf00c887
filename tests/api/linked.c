/* A program linked with -lheapswitch instead of preloading it: the
 * library takes over malloc all the same. */
#include "config.h"

#include "include/heapswitch.h"
#include "tests/harness.h"

int main(void)
{
    char *text;

    CHECK(strcmp(heapswitch_backend_name(), test_expected_backend()) == 0,
          "active %s, expected %s", heapswitch_backend_name(),
          test_expected_backend());
    CHECK(strcmp(heapswitch_version(), HEAPSWITCH_VERSION) == 0, "version");
    CHECK(getenv("LD_PRELOAD") == NULL || strstr(getenv("LD_PRELOAD"), "heapswitch") == NULL,
          "this test must run without LD_PRELOAD");
    CHECK_OWNER("malloc", 4000, malloc(4000));
    CHECK_OWNER("calloc", 4000, calloc(4, 1000));
    CHECK_OWNER("aligned_alloc", 4000, aligned_alloc(64, 4000));
    text = strdup("linked");
    CHECK(text != NULL && strcmp(text, "linked") == 0, "strdup");
    free(text);
    return test_finish("linked");
}
