/* dashboard/format.c: human units for bytes and counts (including the
 * edges where rounding would print "1024.0 KiB" or "1000"), JSON and CSV
 * quoting, and the parsers of seconds and counts every subcommand uses. */
#include "config.h"

#include "dashboard/format.h"
#include "tests/harness.h"

#define EXPECT_TEXT(call, want)                                             \
    do {                                                                    \
        char out_[32];                                                      \
        const char *got_ = call;                                            \
        (void)out_;                                                         \
        CHECK(strcmp(got_, want) == 0, "%s: \"%s\", want \"%s\"", #call,    \
              got_, want);                                                  \
    } while (0)

#define BYTES(value) hsw_format_bytes(out_, sizeof out_, (value))
#define COUNT(value) hsw_format_count(out_, sizeof out_, (value))

static void bytes(void)
{
    EXPECT_TEXT(BYTES(0), "0 B");
    EXPECT_TEXT(BYTES(512), "512 B");
    EXPECT_TEXT(BYTES(1023), "1023 B");
    EXPECT_TEXT(BYTES(1024), "1.0 KiB");
    EXPECT_TEXT(BYTES(1536), "1.5 KiB");
    EXPECT_TEXT(BYTES(12.3 * 1024), "12.3 KiB");
    EXPECT_TEXT(BYTES(4.0 * 1024 * 1024), "4.0 MiB");
    EXPECT_TEXT(BYTES(1.2 * 1024 * 1024 * 1024), "1.2 GiB");
    EXPECT_TEXT(BYTES(3.0 * 1024 * 1024 * 1024 * 1024), "3.0 TiB");
    EXPECT_TEXT(BYTES(-2048), "-2.0 KiB");
    /* Past the last unit: the number grows, the unit stays. */
    EXPECT_TEXT(BYTES(2048.0 * 1024 * 1024 * 1024 * 1024 * 1024), "2048.0 PiB");
    /* Values that round up to the next unit are shown in it. */
    EXPECT_TEXT(BYTES(1023.6), "1.0 KiB");
    EXPECT_TEXT(BYTES(1024.0 * 1024 - 1), "1.0 MiB");
    EXPECT_TEXT(BYTES(1023.9 * 1024), "1023.9 KiB");
}

static void counts(void)
{
    EXPECT_TEXT(COUNT(0), "0");
    EXPECT_TEXT(COUNT(950), "950");
    EXPECT_TEXT(COUNT(999), "999");
    EXPECT_TEXT(COUNT(1000), "1.0k");
    EXPECT_TEXT(COUNT(12345), "12.3k");
    EXPECT_TEXT(COUNT(4.1e6), "4.1M");
    EXPECT_TEXT(COUNT(2e9), "2.0G");
    EXPECT_TEXT(COUNT(7e12), "7.0T");
    EXPECT_TEXT(COUNT(-1500), "-1.5k");
    /* A rate of 0.4 calls per second is shown as 0, not as a fraction. */
    EXPECT_TEXT(COUNT(0.4), "0");
    EXPECT_TEXT(COUNT(999.6), "1.0k");
    EXPECT_TEXT(COUNT(999999), "1.0M");
    EXPECT_TEXT(COUNT(999940), "999.9k");
}

/* What a function writes to a FILE, as a string. */
static const char *written(void (*write)(FILE *, const char *), const char *text)
{
    static char buffer[256];
    FILE *out;

    memset(buffer, 0, sizeof buffer);
    out = fmemopen(buffer, sizeof buffer, "w");
    if (out == NULL)
        return "(fmemopen failed)";
    write(out, text);
    fclose(out);
    return buffer;
}

static void quoting(void)
{
    CHECK(strcmp(written(hsw_json_string, "plain"), "\"plain\"") == 0, "json plain");
    CHECK(strcmp(written(hsw_json_string, ""), "\"\"") == 0, "json empty");
    CHECK(strcmp(written(hsw_json_string, "a\"b\\c"), "\"a\\\"b\\\\c\"") == 0,
          "json quote and backslash: %s", written(hsw_json_string, "a\"b\\c"));
    CHECK(strcmp(written(hsw_json_string, "t\tn\n\001\177"),
                 "\"t\\u0009n\\u000a\\u0001\\u007f\"") == 0,
          "json control characters: %s", written(hsw_json_string, "t\tn\n\001\177"));
    CHECK(strcmp(written(hsw_json_string, "caf\xc3\xa9"), "\"caf\xc3\xa9\"") == 0,
          "json UTF-8 passes through");

    CHECK(strcmp(written(hsw_csv_field, "plain text"), "plain text") == 0, "csv plain");
    CHECK(strcmp(written(hsw_csv_field, ""), "") == 0, "csv empty");
    CHECK(strcmp(written(hsw_csv_field, "a,b"), "\"a,b\"") == 0, "csv comma");
    CHECK(strcmp(written(hsw_csv_field, "say \"hi\""), "\"say \"\"hi\"\"\"") == 0,
          "csv quotes doubled: %s", written(hsw_csv_field, "say \"hi\""));
    CHECK(strcmp(written(hsw_csv_field, "two\nlines"), "\"two\nlines\"") == 0, "csv newline");
    CHECK(strcmp(written(hsw_csv_field, "cr\r"), "\"cr\r\"") == 0, "csv carriage return");
}

static void parsers(void)
{
    static const char *const bad_seconds[] = {"", "0", "0.0", "-1", "abc", "1x", "1s",
                                              "86401", "nan", "inf", "1e9"};
    static const char *const bad_counts[] = {"", "0", "11", "-1", "+1", " 1", "1x", "x",
                                             "1.5", "99999999999999999999999"};
    double seconds = -7;
    unsigned long count = 7;

    CHECK(hsw_parse_seconds("1", &seconds) == 0 && seconds == 1, "seconds 1");
    CHECK(hsw_parse_seconds("0.5", &seconds) == 0 && seconds == 0.5, "seconds 0.5");
    CHECK(hsw_parse_seconds("86400", &seconds) == 0 && seconds == 86400, "seconds 86400");
    for (size_t i = 0; i < sizeof bad_seconds / sizeof bad_seconds[0]; i++) {
        seconds = -7;
        CHECK(hsw_parse_seconds(bad_seconds[i], &seconds) == -1 && seconds == -7,
              "seconds \"%s\" refused, result untouched", bad_seconds[i]);
    }
    CHECK(hsw_parse_count("1", 10, &count) == 0 && count == 1, "count 1");
    CHECK(hsw_parse_count("10", 10, &count) == 0 && count == 10, "count 10 (the maximum)");
    for (size_t i = 0; i < sizeof bad_counts / sizeof bad_counts[0]; i++) {
        count = 7;
        CHECK(hsw_parse_count(bad_counts[i], 10, &count) == -1 && count == 7,
              "count \"%s\" refused (max 10), result untouched", bad_counts[i]);
    }
}

int main(void)
{
    bytes();
    counts();
    quoting();
    parsers();
    return test_finish("unit/format");
}
