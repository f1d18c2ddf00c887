/* heapswitch_backend_name() reports the backend HEAPSWITCH_BACKEND asked
 * for; prints it so that tests/env_errors.sh can check fallbacks. */
#include "config.h"

#include "tests/harness.h"

int main(int argc, char **argv)
{
    const char *active = test_active_backend();
    const char *(*version)(void) =
        (const char *(*)(void))dlsym(RTLD_DEFAULT, "heapswitch_version");

    if (argc > 1 && strcmp(argv[1], "--print") == 0) {
        printf("%s\n", active != NULL ? active : "(not loaded)");
        return 0;
    }
    CHECK(active != NULL, "heapswitch_backend_name is not exported");
    CHECK(active == NULL || strcmp(active, test_expected_backend()) == 0,
          "active %s, expected %s", active, test_expected_backend());
    CHECK(version != NULL && strcmp(version(), PACKAGE_VERSION) == 0,
          "heapswitch_version()");
    return test_finish("backend_name");
}
