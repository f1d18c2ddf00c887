/* The textfile of `heapswitch export --textfile`, for node_exporter's
 * textfile collector, which reads every *.prom file of a directory at each
 * of its scrapes, whenever that is. So the file is replaced, never
 * rewritten: the text goes to a hidden temporary file of the same
 * directory (same file system, and a name the collector ignores), is
 * flushed to disk, and rename() puts it in place in one step. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dashboard/command.h"
#include "dashboard/export.h"

/* Why a file cannot be made in `directory`, in words. */
static void directory_error(const char *path, const char *directory, int error)
{
    struct stat info;

    if (error == ENOENT && stat(directory, &info) != 0)
        hsw_error("export", "cannot write %s: no directory %s", path, directory);
    else if (error == ENOTDIR)
        hsw_error("export", "cannot write %s: %s is not a directory", path, directory);
    else if (error == EACCES || error == EPERM || error == EROFS)
        hsw_error("export", "cannot write %s: directory %s is not writable (%s)", path,
                  directory, strerror(error));
    else
        hsw_error("export", "cannot write %s: cannot create a file in %s: %s", path,
                  directory, strerror(error));
}

static int write_all(int fd, const char *text, size_t length)
{
    while (length > 0) {
        ssize_t written = write(fd, text, length);
        if (written < 0 && errno == EINTR)
            continue;
        if (written <= 0)
            return -1;
        text += written;
        length -= (size_t)written;
    }
    return 0;
}

int hsw_textfile_write(const char *path, const char *text, size_t length)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash != NULL ? slash + 1 : path;
    char directory[4096], temporary[4096 + 32];
    struct stat info;
    int fd, error;

    if (base[0] == '\0') {
        hsw_error("export", "--textfile %s names a directory, not a file", path);
        return -1;
    }
    if (slash == NULL)
        strcpy(directory, ".");
    else if (slash == path)
        strcpy(directory, "/");
    else
        snprintf(directory, sizeof directory, "%.*s", (int)(slash - path), path);
    if (stat(path, &info) == 0 && S_ISDIR(info.st_mode)) {
        hsw_error("export", "cannot write %s: it is a directory", path);
        return -1;
    }
    snprintf(temporary, sizeof temporary, "%s/.%s.XXXXXX", directory, base);
    fd = mkstemp(temporary);
    if (fd < 0) {
        directory_error(path, directory, errno);
        return -1;
    }
    /* mkstemp makes it 0600; the collector may run as another user. */
    if (fchmod(fd, 0644) != 0 || write_all(fd, text, length) != 0 || fsync(fd) != 0) {
        error = errno;
        close(fd);
        unlink(temporary);
        hsw_error("export", "cannot write %s: %s", temporary, strerror(error));
        return -1;
    }
    if (close(fd) != 0 || rename(temporary, path) != 0) {
        error = errno;
        unlink(temporary);
        hsw_error("export", "cannot put %s in place: %s", path, strerror(error));
        return -1;
    }
    return 0;
}
