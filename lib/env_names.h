/* The names of heapswitch's environment variables, one definition for
 * the runtime that reads them (lib/options.c) and the command that sets
 * them for the programs it runs (dashboard/launch.c and its callers). */
#ifndef HSW_ENV_NAMES_H
#define HSW_ENV_NAMES_H

#define HSW_ENV_BACKEND "HEAPSWITCH_BACKEND"
#define HSW_ENV_STRICT "HEAPSWITCH_STRICT"
#define HSW_ENV_TAG "HEAPSWITCH_TAG"
#define HSW_ENV_STATS "HEAPSWITCH_STATS"
#define HSW_ENV_REPORT "HEAPSWITCH_REPORT"
#define HSW_ENV_KEEP "HEAPSWITCH_KEEP"
#define HSW_ENV_FAULT_EVERY "HEAPSWITCH_FAULT_EVERY"
#define HSW_ENV_REFRESH_THREAD "HEAPSWITCH_REFRESH_THREAD"
#define HSW_ENV_SAMPLE "HEAPSWITCH_SAMPLE"
#define HSW_ENV_DIR "HEAPSWITCH_DIR"       /* where segments live (docs/containers.md) */
#define HSW_ENV_LABELS "HEAPSWITCH_LABELS" /* key=value,... published beside backend and tag */
#define HSW_ENV_WARNED "HEAPSWITCH_WARNED" /* set by the library: warnings its children need not repeat */
#define HSW_ENV_LATENCY "HEAPSWITCH_LATENCY"
#define HSW_ENV_LATENCY_CLOCK "HEAPSWITCH_LATENCY_CLOCK"
#define HSW_ENV_LIBRARY "HEAPSWITCH_LIBRARY" /* the command's: which libheapswitch.so */

#endif
