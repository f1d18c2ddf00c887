/* Where segments live and what they are called, for the writer (inside
 * malloc: no stdio, no allocation) and the reader alike: the directory
 * (HEAPSWITCH_DIR, default /dev/shm) and its safety rules, and names
 * unique across pid namespaces. See docs/containers.md. */
#ifndef HSW_SEGMENT_PLACE_H
#define HSW_SEGMENT_PLACE_H

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#pragma GCC visibility push(hidden)

#define HSW_DEFAULT_SEGMENT_DIR "/dev/shm"
/* A directory's path, NUL included, is at most this long. */
#define HSW_SEGMENT_DIR_MAX 1024
/* "heapswitch-<uid>-<pid>-<namespace>" with its NUL. */
#define HSW_SEGMENT_NAME_MAX 80

/* The inode of this process's pid namespace (/proc/self/ns/pid), or 0
 * when /proc cannot tell. */
uint64_t hsw_pid_namespace_self(void);

/* The inode of process pid's pid namespace as this process's /proc shows
 * it, or 0 when it cannot be read. */
uint64_t hsw_pid_namespace_of(pid_t pid);

/* The segment name (no directory) of process pid in its pid namespace
 * `namespace`: heapswitch-<uid>-<pid>, with -<namespace> appended unless
 * namespace is the initial one or unknown (0). out holds
 * HSW_SEGMENT_NAME_MAX bytes. */
void hsw_segment_format_name(char *out, uid_t uid, pid_t pid, uint64_t namespace);

/* Parses such a name: the uid, the pid and the namespace (0 for the
 * short form). Returns 1 for a segment name, 0 otherwise. */
int hsw_segment_parse_name(const char *name, uid_t *uid, pid_t *pid, uint64_t *namespace);

/* Why a path may not be a segment directory (not absolute, too long), or
 * NULL when it may. */
const char *hsw_segment_dir_path_problem(const char *path);

/* Why the directory `info` describes is unsafe for `user`'s segments, or
 * NULL when it is safe: it must be a directory owned by root or by user,
 * and writable by nobody else unless it has the sticky bit (as /dev/shm
 * and /tmp have). */
const char *hsw_segment_dir_problem(const struct stat *info, uid_t user);

#pragma GCC visibility pop

#endif
