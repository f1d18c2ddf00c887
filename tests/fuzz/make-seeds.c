/* Writes the fuzzer's seed corpus: one valid segment image per kind of
 * tests/fuzz/seed-image.h, recording this process's uid (the owner the
 * fuzz target passes) and pid, into the directory given, as
 * DIR/seed-KIND. Usage: make-seeds DIR */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/fuzz/seed-image.h"

static int write_file(const char *path, const unsigned char *bytes, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    size_t done = 0;
    int result = -1;

    if (fd < 0)
        return -1;
    while (done < size) {
        ssize_t wrote = write(fd, bytes + done, size - done);
        if (wrote < 0 && errno == EINTR)
            continue;
        if (wrote <= 0)
            goto done;
        done += (size_t)wrote;
    }
    result = 0;
done:
    if (close(fd) != 0)
        result = -1;
    return result;
}

int main(int argc, char **argv)
{
    static unsigned char image[SEED_IMAGE_CAPACITY];

    if (argc != 2) {
        fprintf(stderr, "usage: make-seeds DIR\n");
        return 2;
    }
    for (int kind = 0; kind < SEED_KINDS; kind++) {
        char path[4096];
        size_t size = seed_build(image, (enum seed_kind)kind, (uint32_t)getuid(),
                                 (int32_t)getpid());

        if (snprintf(path, sizeof path, "%s/seed-%s", argv[1],
                     seed_name((enum seed_kind)kind)) >= (int)sizeof path) {
            fprintf(stderr, "make-seeds: %s: path too long\n", argv[1]);
            return 1;
        }
        if (write_file(path, image, size) != 0) {
            fprintf(stderr, "make-seeds: %s: %s\n", path, strerror(errno));
            return 1;
        }
    }
    return 0;
}
