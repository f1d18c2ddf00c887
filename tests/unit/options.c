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

    /* HEAPSWITCH_STATS: the counting level. */
    {
        static const struct {
            const char *value; /* NULL: unset */
            unsigned level;
        } levels[] = {
            {NULL, HSW_STATS_DEFAULT},   {"", HSW_STATS_DEFAULT},   {"default", HSW_STATS_DEFAULT},
            {"1", HSW_STATS_DEFAULT},    {"on", HSW_STATS_DEFAULT}, {"exact", HSW_STATS_EXACT},
            {"EXACT", HSW_STATS_EXACT},  {"0", 0},                  {"off", 0},
            {"bogus", HSW_STATS_DEFAULT}, {"2", HSW_STATS_DEFAULT},
        };
        for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
            if (levels[i].value == NULL)
                unsetenv("HEAPSWITCH_STATS");
            else
                setenv("HEAPSWITCH_STATS", levels[i].value, 1);
            CHECK(hsw_option_stats_level() == levels[i].level, "HEAPSWITCH_STATS='%s': level %u, want %u",
                  levels[i].value ? levels[i].value : "(unset)", hsw_option_stats_level(),
                  levels[i].level);
        }
        unsetenv("HEAPSWITCH_STATS");
    }

    /* Sizes with K, M, G suffixes (backends' options). */
    {
        static const struct {
            const char *text;
            bool ok;
            uint64_t value;
        } sizes[] = {
            {"0", true, 0},          {"4096", true, 4096},   {"64K", true, 65536},
            {"1m", true, 1u << 20},  {"2G", true, UINT64_C(2) << 30},
            {"4611686018427387904", true, UINT64_C(1) << 62},
            {"4611686018427387905", false, 0}, {"4294967296G", true, UINT64_C(1) << 62}, {"4294967297G", false, 0}, {"", false, 0},
            {"K", false, 0},         {"1KB", false, 0},      {"-1", false, 0},
            {"1.5M", false, 0},      {"99999999999999999999999", false, 0},
        };
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            uint64_t got = UINT64_C(12345);
            bool ok = hsw_parse_size(sizes[i].text, &got);
            CHECK(ok == sizes[i].ok && (!ok || got == sizes[i].value),
                  "hsw_parse_size('%s'): %s %llu", sizes[i].text, ok ? "ok" : "refused",
                  (unsigned long long)got);
        }
        CHECK(!hsw_parse_size(NULL, &(uint64_t){0}), "hsw_parse_size(NULL) refused");
    }
    return test_finish("unit/options");
}
