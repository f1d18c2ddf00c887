/* The holders of flock write locks, from /proc/locks (see
 * lib/lock_holders.h): how a reader finds a segment's process as its own
 * pid namespace sees it. A line reads
 *   "3: FLOCK  ADVISORY  WRITE 1234 00:1a:5678 0 EOF"
 * (device major and minor in hex, inode in decimal); a line with "->"
 * after the number is a waiter, not a holder. Read with read(2) into a
 * buffer on the stack: looking one holder up allocates nothing. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lib/lock_holders.h"

typedef bool (*holder_fn)(const struct hsw_lock_holder *holder, void *context);

/* One line (NUL-terminated): true for a flock write-lock holder. */
static bool parse_line(const char *line, struct hsw_lock_holder *holder)
{
    char kind[16], mode[16], access[16];
    unsigned long long major, minor, inode;
    long long pid;

    if (sscanf(line, "%*d: %15s %15s %15s %lld %llx:%llx:%llu", kind, mode, access, &pid, &major,
               &minor, &inode) != 7)
        return false;
    if (strcmp(kind, "FLOCK") != 0 || strcmp(access, "WRITE") != 0 || pid <= 0 ||
        pid > 0x7fffffff)
        return false;
    holder->device_major = major;
    holder->device_minor = minor;
    holder->inode = inode;
    holder->pid = (pid_t)pid;
    return true;
}

/* Calls fn for each holder in text until it returns false; false then. */
static bool each_in_text(char *text, size_t length, holder_fn fn, void *context)
{
    size_t at = 0;

    while (at < length) {
        char *end = memchr(text + at, '\n', length - at);
        struct hsw_lock_holder holder;

        if (end == NULL)
            break; /* an unfinished line: the caller keeps it */
        *end = '\0';
        if (parse_line(text + at, &holder) && !fn(&holder, context))
            return false;
        at = (size_t)(end - text) + 1;
    }
    return true;
}

/* Reads /proc/locks by chunks; a line longer than a chunk is skipped.
 * Returns 0, or -1 when it cannot be read. */
static int each_holder(holder_fn fn, void *context)
{
    char chunk[8192];
    size_t kept = 0;
    bool skipping = false;
    int fd = open("/proc/locks", O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return -1;
    for (;;) {
        ssize_t got = read(fd, chunk + kept, sizeof chunk - 1 - kept);
        size_t length, last_line;
        char *last_newline;

        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        length = kept + (size_t)got;
        last_newline = memrchr(chunk, '\n', length);
        if (last_newline == NULL) {
            kept = length < sizeof chunk - 1 ? length : 0;
            skipping = skipping || kept == 0;
            continue;
        }
        last_line = (size_t)(last_newline - chunk) + 1;
        if (skipping) { /* the rest of an overlong line */
            char *first = memchr(chunk, '\n', length);
            size_t skip = (size_t)(first - chunk) + 1;
            memmove(chunk, chunk + skip, length - skip);
            length -= skip;
            last_line -= skip;
            skipping = false;
        }
        if (!each_in_text(chunk, last_line, fn, context))
            break;
        memmove(chunk, chunk + last_line, length - last_line);
        kept = length - last_line;
    }
    close(fd);
    return 0;
}

static bool add(const struct hsw_lock_holder *holder, void *context)
{
    struct hsw_lock_holders *out = context;

    if (out->count == out->capacity) {
        size_t capacity = out->capacity != 0 ? out->capacity * 2 : 64;
        struct hsw_lock_holder *grown = realloc(out->holders, capacity * sizeof *grown);
        if (grown == NULL) {
            out->loaded = -1;
            return false;
        }
        out->holders = grown;
        out->capacity = capacity;
    }
    out->holders[out->count++] = *holder;
    return true;
}

static int finish_load(struct hsw_lock_holders *out, int read_status)
{
    if (read_status != 0 || out->loaded < 0) {
        hsw_lock_holders_free(out);
        return -1;
    }
    out->loaded = 1;
    return 0;
}

int hsw_lock_holders_parse(struct hsw_lock_holders *out, const char *text, size_t length)
{
    char *copy = malloc(length + 1);
    int status = 0;

    memset(out, 0, sizeof *out);
    if (copy == NULL)
        return -1;
    memcpy(copy, text, length);
    copy[length] = '\0';
    each_in_text(copy, length, add, out);
    free(copy);
    return finish_load(out, status);
}

int hsw_lock_holders_load(struct hsw_lock_holders *out)
{
    memset(out, 0, sizeof *out);
    return finish_load(out, each_holder(add, out));
}

static bool same_file(const struct hsw_lock_holder *holder, dev_t device, ino_t inode)
{
    return holder->inode == (uint64_t)inode && holder->device_major == major(device) &&
           holder->device_minor == minor(device);
}

pid_t hsw_lock_holder_of(const struct hsw_lock_holders *holders, dev_t device, ino_t inode)
{
    for (size_t i = 0; i < holders->count; i++)
        if (same_file(&holders->holders[i], device, inode))
            return holders->holders[i].pid;
    return 0;
}

struct wanted_file {
    dev_t device;
    ino_t inode;
    pid_t pid;
};

static bool match(const struct hsw_lock_holder *holder, void *context)
{
    struct wanted_file *wanted = context;

    if (!same_file(holder, wanted->device, wanted->inode))
        return true;
    wanted->pid = holder->pid;
    return false;
}

pid_t hsw_lock_holder_find(dev_t device, ino_t inode)
{
    struct wanted_file wanted = {device, inode, 0};

    if (each_holder(match, &wanted) != 0)
        return -1;
    return wanted.pid;
}

void hsw_lock_holders_free(struct hsw_lock_holders *holders)
{
    free(holders->holders);
    memset(holders, 0, sizeof *holders);
}
