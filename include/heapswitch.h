/* heapswitch: the public C API.
 *
 * libheapswitch takes over malloc and its family in any program (through
 * LD_PRELOAD or by linking with -lheapswitch) and routes every call to the
 * backend that HEAPSWITCH_BACKEND names: system (glibc), jemalloc,
 * mimalloc or arena. Every name here starts with heapswitch_.
 */
#ifndef HEAPSWITCH_H
#define HEAPSWITCH_H

#ifdef __cplusplus
extern "C" {
#endif

#define HEAPSWITCH_VERSION "0.1.0"

/* The name of the backend serving this process's allocations: "system",
 * "jemalloc", "mimalloc" or "arena". Selects the backend if no allocation
 * has done so yet. The string is static. */
const char *heapswitch_backend_name(void);

/* The version of the loaded library, e.g. "0.1.0". */
const char *heapswitch_version(void);

#ifdef __cplusplus
}
#endif

#endif
