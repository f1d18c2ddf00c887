/* Segment names unique across pid namespaces, and the segment directory's
 * safety rules: shared by the writer (inside malloc: system calls only)
 * and the reader. */
#include "config.h"

#include <string.h>
#include <sys/stat.h>

#include "lib/procinfo.h"
#include "lib/segment_layout.h"
#include "lib/segment_place.h"

uint64_t hsw_pid_namespace_self(void)
{
    struct stat info;

    return stat("/proc/self/ns/pid", &info) == 0 ? (uint64_t)info.st_ino : 0;
}

uint64_t hsw_pid_namespace_of(pid_t pid)
{
    char path[64];
    struct stat info;

    hsw_proc_path(path, pid, "ns/pid");
    return stat(path, &info) == 0 ? (uint64_t)info.st_ino : 0;
}

void hsw_segment_format_name(char *out, uid_t uid, pid_t pid, uint64_t namespace)
{
    size_t at = strlen(HSW_SEGMENT_NAME_PREFIX);

    memcpy(out, HSW_SEGMENT_NAME_PREFIX, at); // NOLINT(bugprone-not-null-terminated-result): hsw_format_u64 terminates
    at += hsw_format_u64(out + at, uid);
    out[at++] = '-';
    at += hsw_format_u64(out + at, (uint64_t)pid);
    if (namespace != 0 && namespace != HSW_INITIAL_PID_NAMESPACE) {
        out[at++] = '-';
        hsw_format_u64(out + at, namespace);
    }
}

/* Reads up to `digits` decimal digits at *at; false when there are none. */
static int parse_number(const char **at, unsigned digits, uint64_t *value)
{
    const char *start = *at;

    *value = 0;
    for (; **at >= '0' && **at <= '9' && (unsigned)(*at - start) < digits; (*at)++)
        *value = *value * 10 + (uint64_t)(**at - '0');
    return *at != start;
}

int hsw_segment_parse_name(const char *name, uid_t *uid, pid_t *pid, uint64_t *namespace)
{
    const char *at = name + strlen(HSW_SEGMENT_NAME_PREFIX);
    uint64_t numbers[3] = {0, 0, 0};

    if (strncmp(name, HSW_SEGMENT_NAME_PREFIX, strlen(HSW_SEGMENT_NAME_PREFIX)) != 0)
        return 0;
    if (!parse_number(&at, 10, &numbers[0]) || *at++ != '-' ||
        !parse_number(&at, 10, &numbers[1]))
        return 0;
    if (*at == '-') {
        at++;
        if (!parse_number(&at, 19, &numbers[2]) || numbers[2] == 0 ||
            numbers[2] == HSW_INITIAL_PID_NAMESPACE)
            return 0; /* the short form is the only name of those */
    }
    if (*at != '\0' || numbers[0] > 0xffffffffu || numbers[1] == 0 || numbers[1] > 0x7fffffff)
        return 0;
    *uid = (uid_t)numbers[0];
    *pid = (pid_t)numbers[1];
    *namespace = numbers[2];
    return 1;
}

const char *hsw_segment_dir_path_problem(const char *path)
{
    if (path[0] != '/')
        return "is not an absolute path";
    if (strlen(path) >= HSW_SEGMENT_DIR_MAX)
        return "is too long (at most 1023 bytes)";
    return NULL;
}

const char *hsw_segment_dir_problem(const struct stat *info, uid_t user)
{
    if (!S_ISDIR(info->st_mode))
        return "is not a directory";
    if (info->st_uid != 0 && info->st_uid != user)
        return "belongs to another user (a segment directory must be root's or yours)";
    if ((info->st_mode & (S_IWGRP | S_IWOTH)) != 0 && (info->st_mode & S_ISVTX) == 0)
        return "is writable by others without the sticky bit (chmod 1777, as /dev/shm, or "
               "make it yours alone)";
    return NULL;
}
