/* Who holds each segment's lock, as the reader's pid namespace sees it:
 * the writer holds an exclusive flock on its segment for its whole life,
 * and /proc/locks lists every flock with the holder's pid translated by
 * the kernel into the namespace of the /proc it is read from (holders
 * that namespace cannot see are left out) and the file's device and
 * inode. That pid comes from the kernel, not from the segment. */
#ifndef HSW_LOCK_HOLDERS_H
#define HSW_LOCK_HOLDERS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#pragma GCC visibility push(hidden)

struct hsw_lock_holder {
    uint64_t device_major, device_minor, inode;
    pid_t pid;
};

struct hsw_lock_holders {
    int loaded; /* 0 when /proc/locks could not be read: nothing is known */
    size_t count, capacity;
    struct hsw_lock_holder *holders;
};

/* Reads the holders of flock write locks from the text of /proc/locks
 * (length bytes). Lines it does not understand are skipped. Returns 0,
 * or -1 when out of memory (then loaded is 0). */
int hsw_lock_holders_parse(struct hsw_lock_holders *out, const char *text, size_t length);

/* The same from /proc/locks itself: 0, or -1 (loaded is 0). */
int hsw_lock_holders_load(struct hsw_lock_holders *out);

/* The pid holding an exclusive flock on the file of this device and
 * inode, or 0 when none is visible. */
pid_t hsw_lock_holder_of(const struct hsw_lock_holders *holders, dev_t device, ino_t inode);

/* The same straight from /proc/locks, without allocating (for a reader
 * running inside a measured process): the pid, 0 when none is visible,
 * -1 when /proc/locks cannot be read. */
pid_t hsw_lock_holder_find(dev_t device, ino_t inode);

void hsw_lock_holders_free(struct hsw_lock_holders *holders);

#pragma GCC visibility pop

#endif
