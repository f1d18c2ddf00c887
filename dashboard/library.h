/* Where libheapswitch.so is, for the commands that preload it. */
#ifndef HSW_LIBRARY_H
#define HSW_LIBRARY_H

/* $HEAPSWITCH_LIBRARY if set; else the installed library; else the one of
 * the build tree this program was built in. NULL (with why set) if none
 * exists. The string is static. */
const char *hsw_library_path(const char **why);
/* Puts library first in LD_PRELOAD, keeping what was there; does
 * nothing if an entry there already is the same file. 0 or -1. */
int hsw_set_preload(const char *library);
/* Whether this build has the backend (system, jemalloc, mimalloc, arena). */
int hsw_backend_known(const char *name, const char **why);
/* The library that is this backend preloaded alone, for timing it without
 * heapswitch: "" for system (nothing to preload), a path for jemalloc and
 * mimalloc; NULL (with why) when there is none to use (arena, or the file
 * is missing). */
const char *hsw_backend_direct(const char *name, const char **why);
/* "system, jemalloc, mimalloc" */
const char *hsw_backend_list(void);

#endif
