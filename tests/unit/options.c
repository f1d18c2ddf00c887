/* Option parsing: booleans in every accepted spelling; bad values fall
 * back with a warning; options are read straight from the environment. */
#include "config.h"

#include "lib/internal.h"
#include "tests/harness.h"

int main(void)
{
    static const char *const truths[] = {"1", "true", "TRUE", "yes", "On"};
    static const char *const falsities[] = {"0", "false", "No", "off", "OFF"};

    for (size_t i = 0; i < 5; i++) {
        setenv("HEAPSWITCH_STRICT", truths[i], 1);
        CHECK(hsw_option_bool(HSW_OPT_STRICT, false), "'%s' is true", truths[i]);
        setenv("HEAPSWITCH_STRICT", falsities[i], 1);
        CHECK(!hsw_option_bool(HSW_OPT_STRICT, true), "'%s' is false", falsities[i]);
    }
    setenv("HEAPSWITCH_STRICT", "maybe", 1);
    CHECK(hsw_option_bool(HSW_OPT_STRICT, true), "a bad value gives the fallback");
    CHECK(!hsw_option_bool(HSW_OPT_STRICT, false), "a bad value gives the fallback");
    setenv("HEAPSWITCH_STRICT", "", 1);
    CHECK(hsw_option_bool(HSW_OPT_STRICT, true), "empty gives the fallback");
    unsetenv("HEAPSWITCH_STRICT");
    CHECK(!hsw_option_bool(HSW_OPT_STRICT, false), "unset gives the fallback");

    setenv("HEAPSWITCH_BACKEND", "mimalloc", 1);
    CHECK(strcmp(hsw_option_string(HSW_OPT_BACKEND), "mimalloc") == 0, "string option");
    setenv("HEAPSWITCH_BACKENDX", "no", 1);
    unsetenv("HEAPSWITCH_BACKEND");
    CHECK(hsw_option_string(HSW_OPT_BACKEND) == NULL, "a longer name does not match");
    return test_finish("unit/options");
}
