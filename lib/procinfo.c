/* Facts about a process from /proc, without stdio or allocation. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "lib/procinfo.h"

size_t hsw_format_u64(char *out, uint64_t value)
{
    char reversed[21];
    size_t length = 0;

    do {
        reversed[length++] = (char)('0' + value % 10);
        value /= 10;
    } while (value != 0);
    for (size_t i = 0; i < length; i++)
        out[i] = reversed[length - 1 - i];
    out[length] = '\0';
    return length;
}

void hsw_proc_path(char *out, pid_t pid, const char *leaf)
{
    size_t at = 0;
    size_t leaf_length = strlen(leaf);

    memcpy(out, "/proc/", 6);
    if (pid == 0) {
        memcpy(out + 6, "self", 4); /* this process, whatever its pid namespace */
        at = 10;
    } else {
        at = 6 + hsw_format_u64(out + 6, (uint64_t)pid);
    }
    out[at++] = '/';
    if (leaf_length > 32)
        leaf_length = 32;
    memcpy(out + at, leaf, leaf_length);
    out[at + leaf_length] = '\0';
}

ssize_t hsw_read_small_file(const char *path, char *out, size_t capacity)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    size_t used = 0;

    if (fd < 0)
        return -1;
    while (used < capacity - 1) {
        ssize_t got = read(fd, out + used, capacity - 1 - used);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        used += (size_t)got;
    }
    out[used] = '\0';
    close(fd);
    return (ssize_t)used;
}

/* Parses the unsigned decimal at *cursor, moving past it. */
static bool parse_u64(const char **cursor, uint64_t *value)
{
    const char *at = *cursor;
    uint64_t result = 0;

    if (*at < '0' || *at > '9')
        return false;
    for (; *at >= '0' && *at <= '9'; at++)
        result = result * 10 + (uint64_t)(*at - '0');
    *value = result;
    *cursor = at;
    return true;
}

/* Reads /proc/PID/stat and moves *fields to field `first` (3 is the
 * state, the first after the command name, which may hold spaces and ')'). */
static const char *stat_field(pid_t pid, char *stat, size_t size, int first)
{
    char path[64];
    const char *at;

    hsw_proc_path(path, pid, "stat");
    if (hsw_read_small_file(path, stat, size) <= 0)
        return NULL;
    at = strrchr(stat, ')');
    if (at == NULL)
        return NULL;
    at++;
    for (int field = 3; field < first; field++) {
        while (*at == ' ')
            at++;
        while (*at != ' ' && *at != '\0')
            at++;
        if (*at == '\0')
            return NULL;
    }
    while (*at == ' ')
        at++;
    return at;
}

int hsw_proc_start_time(pid_t pid, uint64_t *start_time)
{
    char stat[1024];
    const char *at = stat_field(pid, stat, sizeof stat, 22);

    return at != NULL && parse_u64(&at, start_time) ? 0 : -1;
}

double hsw_proc_cpu_seconds(pid_t pid)
{
    char stat[1024];
    const char *at = stat_field(pid, stat, sizeof stat, 14);
    uint64_t user, system;
    long ticks = sysconf(_SC_CLK_TCK);

    if (at == NULL || !parse_u64(&at, &user) || *at++ != ' ' || !parse_u64(&at, &system) ||
        ticks <= 0)
        return -1;
    return (double)(user + system) / (double)ticks;
}

uint64_t hsw_proc_rss_bytes(pid_t pid)
{
    char path[64], statm[256];
    const char *at = statm;
    uint64_t size, resident;

    hsw_proc_path(path, pid, "statm");
    if (hsw_read_small_file(path, statm, sizeof statm) <= 0)
        return 0;
    if (!parse_u64(&at, &size) || *at++ != ' ' || !parse_u64(&at, &resident))
        return 0;
    return resident * (uint64_t)sysconf(_SC_PAGESIZE);
}
