/* For test programs that publish a segment file of their own: the name
 * and pid namespace a real writer of this process would use, so that the
 * reader's name/header checks hold in any pid namespace. */
#ifndef HSW_TESTS_OWN_SEGMENT_H
#define HSW_TESTS_OWN_SEGMENT_H

#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/segment_layout.h"

static inline uint64_t own_pid_namespace(void)
{
    struct stat info;

    return stat("/proc/self/ns/pid", &info) == 0 ? (uint64_t)info.st_ino : 0;
}

/* /dev/shm/heapswitch-<uid>-<pid>[-<namespace>] */
static inline void own_segment_path(char *out, size_t capacity, pid_t pid)
{
    uint64_t namespace = own_pid_namespace();

    if (namespace == 0 || namespace == HSW_INITIAL_PID_NAMESPACE)
        snprintf(out, capacity, "/dev/shm/%s%u-%d", HSW_SEGMENT_NAME_PREFIX, (unsigned)getuid(),
                 (int)pid);
    else
        snprintf(out, capacity, "/dev/shm/%s%u-%d-%llu", HSW_SEGMENT_NAME_PREFIX,
                 (unsigned)getuid(), (int)pid, (unsigned long long)namespace);
}

#endif
