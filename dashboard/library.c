/* Finding libheapswitch.so and knowing which backends it has. */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backends/list.h"
#include "dashboard/library.h"
#include "lib/env_names.h"

static int readable(const char *path)
{
    return access(path, R_OK) == 0;
}

const char *hsw_library_path(const char **why)
{
    static char path[PATH_MAX];
    const char *forced = getenv(HSW_ENV_LIBRARY);
    char exe[PATH_MAX];
    ssize_t length;
    char *slash;

    if (forced != NULL && forced[0] != '\0') {
        if (forced[0] == '/' && readable(forced))
            return forced;
        *why = "HEAPSWITCH_LIBRARY is not an absolute path to a readable file";
        return NULL;
    }
    snprintf(path, sizeof path, "%s/libheapswitch.so.0", HSW_LIBDIR);
    if (readable(path))
        return path;
    /* Not installed: the build tree, dashboard/../lib/.libs/. */
    length = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (length > 0) {
        exe[length] = '\0';
        slash = strrchr(exe, '/');
        if (slash != NULL) {
            *slash = '\0';
            slash = strrchr(exe, '/');
            if (slash != NULL && strcmp(slash, "/.libs") == 0)
                *slash = '\0'; /* a libtool wrapper's real binary */
            if (strlen(exe) + sizeof "/../lib/.libs/libheapswitch.so" <= sizeof path) {
                /* both bounded by the length check above */
                strcpy(path, exe); // NOLINT(clang-analyzer-security.insecureAPI.strcpy)
                strcat(path, "/../lib/.libs/libheapswitch.so"); // NOLINT(clang-analyzer-security.insecureAPI.strcpy)
                if (readable(path) && realpath(path, exe) != NULL) {
                    /* realpath's result is below PATH_MAX, path's size */
                    strcpy(path, exe); // NOLINT(clang-analyzer-security.insecureAPI.strcpy)
                    return path;
                }
            }
        }
    }
    *why = "libheapswitch.so is neither installed in " HSW_LIBDIR
           " nor next to this program; set HEAPSWITCH_LIBRARY";
    return NULL;
}

/* The backends of backends/list.h: built or not, and the library that is
 * each when preloaded alone (NULL: nothing to preload). */
#define ENTRY(name, is_built, descriptor, why_not, direct_library) {#name, is_built, direct_library},
static const struct {
    const char *name;
    int built;
    const char *direct;
} backends[] = {HSW_BACKEND_LIST(ENTRY)};

int hsw_backend_known(const char *name, const char **why)
{
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
        if (strcmp(backends[i].name, name) != 0)
            continue;
        if (!backends[i].built)
            *why = "is not available in this build";
        return backends[i].built;
    }
    *why = "is not a backend";
    return 0;
}

const char *hsw_backend_direct(const char *name, const char **why)
{
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
        if (strcmp(backends[i].name, name) != 0)
            continue;
        if (strcmp(name, "system") == 0)
            return "";
        if (backends[i].direct == NULL) {
            *why = "it exists only inside libheapswitch";
            return NULL;
        }
        if (backends[i].direct[0] == '\0' || !readable(backends[i].direct)) {
            *why = backends[i].direct[0] == '\0' ? "configure found no library file for it"
                                                 : "its library file is not readable";
            return NULL;
        }
        return backends[i].direct;
    }
    *why = "is not a backend";
    return NULL;
}

const char *hsw_backend_list(void)
{
    static char list[128];

    list[0] = '\0';
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
        if (!backends[i].built)
            continue;
        /* four short names, ", " between: under 40 bytes of 128 */
        if (list[0] != '\0')
            strcat(list, ", "); // NOLINT(clang-analyzer-security.insecureAPI.strcpy)
        strcat(list, backends[i].name); // NOLINT(clang-analyzer-security.insecureAPI.strcpy)
    }
    return list;
}

/* Whether LD_PRELOAD (entries separated by spaces or colons) already
 * names the file at `real_library`. */
static int preloaded_already(const char *list, const char *real_library)
{
    char entry[PATH_MAX], resolved[PATH_MAX];

    while (*list != '\0') {
        size_t length = strcspn(list, " :");
        if (length > 0 && length < sizeof entry) {
            memcpy(entry, list, length);
            entry[length] = '\0';
            if (realpath(entry, resolved) != NULL && strcmp(resolved, real_library) == 0)
                return 1;
        }
        list += length;
        list += strspn(list, " :");
    }
    return 0;
}

int hsw_set_preload(const char *library)
{
    const char *existing = getenv("LD_PRELOAD");
    char real_library[PATH_MAX], *value;
    int result;

    if (existing == NULL || existing[0] == '\0')
        return setenv("LD_PRELOAD", library, 1);
    if (realpath(library, real_library) != NULL && preloaded_already(existing, real_library))
        return 0;
    if (asprintf(&value, "%s %s", library, existing) < 0)
        return -1;
    result = setenv("LD_PRELOAD", value, 1);
    free(value);
    return result;
}
