/* Facts about a process from /proc, read without stdio or allocation:
 * used by the segment writer (inside malloc) and by the reader alike. */
#ifndef HSW_PROCINFO_H
#define HSW_PROCINFO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#pragma GCC visibility push(hidden)

/* Writes value in decimal at out (at least 21 bytes), NUL-terminated;
 * returns the number of digits. */
size_t hsw_format_u64(char *out, uint64_t value);

/* "/proc/<pid>/<leaf>" into out (at least 64 bytes); pid 0 is "/proc/self/<leaf>",
 * this process even where /proc belongs to another pid namespace. */
void hsw_proc_path(char *out, pid_t pid, const char *leaf);

/* Reads at most capacity - 1 bytes of a file and NUL-terminates them;
 * returns the byte count, or -1 with errno set. */
ssize_t hsw_read_small_file(const char *path, char *out, size_t capacity);

/* The start time of a process, in clock ticks after boot (field 22 of
 * /proc/PID/stat). Returns 0, or -1 if the process does not exist. */
int hsw_proc_start_time(pid_t pid, uint64_t *start_time);

/* The resident set of a process in bytes (from /proc/PID/statm), or 0. */
uint64_t hsw_proc_rss_bytes(pid_t pid);

/* The user + system CPU time of a process in seconds (fields 14 and 15
 * of /proc/PID/stat), or -1 when it cannot be read. */
double hsw_proc_cpu_seconds(pid_t pid);

#pragma GCC visibility pop

#endif
