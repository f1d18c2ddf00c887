/* The pieces of containers support that need no container: label checks,
 * segment names with and without a pid namespace, /proc/locks lines, the
 * directory rules, and the reader's parse of minor-2 (smaller) and
 * minor-3 headers, labels included. */
#include "config.h"

#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "include/heapswitch.h"
#include "lib/labels.h"
#include "lib/lock_holders.h"
#include "lib/segment_layout.h"
#include "lib/segment_place.h"
#include "tests/harness.h"

static void labels(void)
{
    static const char *const good[] = {
        "", "pod=web-1", "pod=web-1,namespace=shop,container=api", "_x=1", "a=b.c:d/e-f_g",
        "k1=1,k2=2,k3=3,k4=4,k5=5,k6=6,k7=7,k8=8",
    };
    static const struct {
        const char *text, *why;
        size_t at;
    } bad[] = {
        {"pod", "is not key=value", 0},
        {"=x", "has an empty label name", 0},
        {"1a=x", "has a label name that starts with a digit", 0},
        {"a-b=x", "has a label name with a character outside [a-zA-Z0-9_]", 0},
        {"__name__=x", "has a label name starting with \"__\" (reserved by Prometheus)", 0},
        {"x=1,tag=y", NULL, 4},
        {"x=1,x=2", "names a label twice", 4},
        {"x=", "has a label with an empty value", 0},
        {"x=a b", NULL, 3},
        {"x=a\"b", NULL, 3},
        {"x=a=b", NULL, 3},
        {"x=1,", "ends with a comma", 3},
        {"k1=1,k2=2,k3=3,k4=4,k5=5,k6=6,k7=7,k8=8,k9=9", "has more than 8 labels", 40},
    };
    char long_name[80], long_value[140];
    size_t at, length;

    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        CHECK(hsw_labels_check(good[i], &at, &length) == NULL, "'%s' is valid", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *why = hsw_labels_check(bad[i].text, &at, &length);
        CHECK(why != NULL && (bad[i].why == NULL || strcmp(why, bad[i].why) == 0) &&
                  at == bad[i].at,
              "'%s': %s at %zu", bad[i].text, why != NULL ? why : "accepted", at);
    }
    for (const char *const *name = (const char *const[]){"pid", "backend", "tag", "program",
                                                           "command", "kind", "job", NULL};
         *name != NULL; name++) {
        char text[32];
        snprintf(text, sizeof text, "%s=x", *name);
        CHECK(hsw_labels_check(text, &at, &length) != NULL, "'%s' is reserved", *name);
    }
    memset(long_name, 'n', 64);
    strcpy(long_name + 64, "=x");
    CHECK(hsw_labels_check(long_name, &at, &length) != NULL, "a 64-character name");
    strcpy(long_name + 63, "=x");
    CHECK(hsw_labels_check(long_name, &at, &length) == NULL, "a 63-character name");
    strcpy(long_value, "v=");
    memset(long_value + 2, 'x', 128);
    long_value[130] = '\0';
    CHECK(hsw_labels_check(long_value, &at, &length) != NULL, "a 128-character value");
    long_value[129] = '\0';
    CHECK(hsw_labels_check(long_value, &at, &length) == NULL, "a 127-character value");
}

static void names(void)
{
    char name[HSW_SEGMENT_NAME_MAX];
    uid_t uid;
    pid_t pid;
    uint64_t namespace;

    hsw_segment_format_name(name, 1000, 42, HSW_INITIAL_PID_NAMESPACE);
    CHECK(strcmp(name, "heapswitch-1000-42") == 0, "initial namespace: %s", name);
    hsw_segment_format_name(name, 1000, 42, 0);
    CHECK(strcmp(name, "heapswitch-1000-42") == 0, "unknown namespace: %s", name);
    hsw_segment_format_name(name, 0, 1, 4026532178u);
    CHECK(strcmp(name, "heapswitch-0-1-4026532178") == 0, "another namespace: %s", name);
    CHECK(hsw_segment_parse_name(name, &uid, &pid, &namespace) && uid == 0 && pid == 1 &&
              namespace == 4026532178u,
          "parsed back");
    CHECK(hsw_segment_parse_name("heapswitch-5-6", &uid, &pid, &namespace) && namespace == 0,
          "the short form");
    for (const char *const *wrong =
             (const char *const[]){"heapswitch-1-2-", "heapswitch-1-2-0", "heapswitch-1-2-4026531836",
                                   "heapswitch-1-2-3-4", "heapswitch-1-0-5", "heapswitch-1-2-x",
                                   "heapswitch-1-2-99999999999999999999", NULL};
         *wrong != NULL; wrong++)
        CHECK(!hsw_segment_parse_name(*wrong, &uid, &pid, &namespace), "'%s' refused", *wrong);
}

static void lock_lines(void)
{
    static const char text[] =
        "1: POSIX  ADVISORY  WRITE 300 00:1a:77 0 EOF\n"
        "2: FLOCK  ADVISORY  WRITE 4242 00:1a:1234 0 EOF\n"
        "2: -> FLOCK  ADVISORY  WRITE 4343 00:1a:1234 0 EOF\n"
        "3: FLOCK  ADVISORY  READ 500 00:1a:99 0 EOF\n"
        "4: FLOCK  ADVISORY  WRITE 600 fd:01:5678 0 EOF\n"
        "5: OFDLCK ADVISORY  WRITE -1 00:1a:88 0 EOF\n"
        "garbage\n";
    struct hsw_lock_holders holders;

    CHECK(hsw_lock_holders_parse(&holders, text, sizeof text - 1) == 0 && holders.loaded,
          "parsed");
    CHECK(holders.count == 2, "two flock write holders, not %zu", holders.count);
    CHECK(hsw_lock_holder_of(&holders, makedev(0, 0x1a), 1234) == 4242, "the holder, not the waiter");
    CHECK(hsw_lock_holder_of(&holders, makedev(0xfd, 1), 5678) == 600, "hex device numbers");
    CHECK(hsw_lock_holder_of(&holders, makedev(0, 0x1a), 77) == 0, "a POSIX lock is not ours");
    CHECK(hsw_lock_holder_of(&holders, makedev(0, 0x1a), 99) == 0, "a read lock holds nothing");
    CHECK(hsw_lock_holder_of(&holders, makedev(0, 0x1b), 1234) == 0, "another device");
    hsw_lock_holders_free(&holders);
}

static void directories(void)
{
    struct stat info = {0};

    info.st_mode = S_IFDIR | 01777;
    CHECK(hsw_segment_dir_problem(&info, 1000) == NULL, "root's 1777, as /dev/shm");
    info.st_mode = S_IFDIR | 0777;
    CHECK(hsw_segment_dir_problem(&info, 1000) != NULL, "0777 without the sticky bit");
    info.st_mode = S_IFDIR | 0775;
    CHECK(hsw_segment_dir_problem(&info, 1000) != NULL, "group-writable without the sticky bit");
    info.st_mode = S_IFDIR | 0700;
    info.st_uid = 1000;
    CHECK(hsw_segment_dir_problem(&info, 1000) == NULL, "the user's own 0700");
    CHECK(hsw_segment_dir_problem(&info, 1001) != NULL, "another user's");
    info.st_mode = S_IFREG | 0700;
    CHECK(hsw_segment_dir_problem(&info, 1000) != NULL, "not a directory");
    CHECK(hsw_segment_dir_path_problem("run/heapswitch") != NULL, "relative");
    CHECK(hsw_segment_dir_path_problem("/run/heapswitch") == NULL, "absolute");
}

/* A segment image: a header of header_size bytes, then one slot. */
static size_t image_of(unsigned char *image, uint32_t minor, uint32_t header_size,
                       const char *labels)
{
    struct hsw_segment_header header;
    struct hsw_slot slot;
    size_t size = header_size + sizeof slot;

    memset(&header, 0, sizeof header);
    header.magic = HSW_SEGMENT_MAGIC;
    header.layout_major = HSW_SEGMENT_LAYOUT_MAJOR;
    header.layout_minor = minor;
    header.header_size = header_size;
    header.slot_size = sizeof slot;
    header.slot_count = 1;
    header.size_classes = HSW_SIZE_CLASSES;
    header.segment_size = size;
    header.file_size = size;
    header.state = HSW_STATE_RUNNING;
    header.pid = 7;
    header.uid = 1000;
    strcpy(header.backend, "system");
    header.pid_namespace = 4026532178u;
    snprintf(header.labels, sizeof header.labels, "%s", labels);
    memset(image, 0, size);
    memcpy(image, &header, header_size < sizeof header ? header_size : sizeof header);
    memset(&slot, 0xff, sizeof slot); /* bytes a smaller header must not be read from */
    memset(slot.size_classes, 0, sizeof slot.size_classes);
    slot.calls[HSW_CALL_MALLOC] = 3;
    memcpy(image + header_size, &slot, sizeof slot);
    return size;
}

static void headers(void)
{
    static unsigned char image[HSW_SEGMENT_MAX_SIZE];
    struct heapswitch_snapshot snapshot;
    char why[256];
    size_t size;

    _Static_assert(sizeof(struct hsw_segment_header) > HSW_SEGMENT_HEADER_MIN_SIZE,
                   "minor 3 is larger");
    size = image_of(image, 2, HSW_SEGMENT_HEADER_MIN_SIZE, "");
    CHECK(heapswitch_parse(image, size, 1000, &snapshot, why, sizeof why) == 0,
          "a minor-2 header of 1216 bytes is read: %s", why);
    CHECK(snapshot.counters.malloc_calls == 3 && snapshot.labels[0] == '\0' &&
              snapshot.pid_namespace == 0 && snapshot.namespace_pid == 7,
          "minor 2: its slot read, the fields it lacks zero (labels '%.20s', namespace %llu)",
          snapshot.labels, (unsigned long long)snapshot.pid_namespace);
    size = image_of(image, 2, HSW_SEGMENT_HEADER_MIN_SIZE - 64, "");
    CHECK(heapswitch_parse(image, size, 1000, &snapshot, why, sizeof why) != 0,
          "a header below the minor-2 size is refused");

    size = image_of(image, 3, sizeof(struct hsw_segment_header), "pod=web-1,namespace=shop");
    CHECK(heapswitch_parse(image, size, 1000, &snapshot, why, sizeof why) == 0 &&
              strcmp(snapshot.labels, "pod=web-1,namespace=shop") == 0 &&
              snapshot.pid_namespace == 4026532178u && snapshot.counters.malloc_calls == 3,
          "minor 3: labels and namespace read: %s", why);
    {
        char key[64], value[128];
        size_t next = heapswitch_label_next(snapshot.labels, 0, key, sizeof key, value, sizeof value);
        CHECK(next == 10 && strcmp(key, "pod") == 0 && strcmp(value, "web-1") == 0, "first label");
        next = heapswitch_label_next(snapshot.labels, next, key, sizeof key, value, sizeof value);
        CHECK(next == 24 && strcmp(key, "namespace") == 0 && strcmp(value, "shop") == 0,
              "second label");
        CHECK(heapswitch_label_next(snapshot.labels, next, key, sizeof key, value, sizeof value) == 0,
              "no third");
    }
    size = image_of(image, 3, sizeof(struct hsw_segment_header), "pid=1");
    CHECK(heapswitch_parse(image, size, 1000, &snapshot, why, sizeof why) != 0 &&
              strstr(why, "bad labels") != NULL,
          "hostile labels refused: %s", why);
    size = image_of(image, 3, sizeof(struct hsw_segment_header), "");
    memset(image + offsetof(struct hsw_segment_header, labels), 'a', HSW_LABELS_SIZE);
    CHECK(heapswitch_parse(image, size, 1000, &snapshot, why, sizeof why) != 0,
          "unterminated labels refused: %s", why);
}

int main(void)
{
    labels();
    names();
    lock_lines();
    directories();
    headers();
    return test_finish("unit/containers");
}
