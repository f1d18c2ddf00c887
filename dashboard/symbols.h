/* Symbols for the return addresses of another process, with elfutils'
 * libdw: from /proc/PID/maps and the files it maps, never from the
 * process itself. A frame resolves to one or more functions (inlined
 * calls first, innermost first), each with file:line where debug
 * information exists, or to module+0xOFFSET, or to its bare address. */
#ifndef HSW_SYMBOLS_H
#define HSW_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HSW_SYMBOL_INLINE_MAX 8

struct hsw_symbol {
    char function[192]; /* demangled; "module+0xOFFSET" or "0xADDRESS" when unknown */
    char file[128];     /* source file (its last components), "" without debug info */
    unsigned line;      /* 0 without debug info */
    char module[64];    /* the mapped file's name, "" when outside any */
    bool inlined;       /* inlined into the next symbol of the same frame */
    bool system;        /* in libc, libstdc++, libgcc, the loader or libheapswitch */
};

/* One frame: its symbols, innermost first (inlined calls, then the function). */
struct hsw_frame_symbols {
    unsigned count; /* at least 1 */
    struct hsw_symbol symbols[HSW_SYMBOL_INLINE_MAX];
};

struct hsw_symbolizer;

/* A symbolizer for one process. NULL with a reason in why when its maps
 * cannot be read (it exited, or /proc hides it). */
struct hsw_symbolizer *hsw_symbolizer_open(pid_t pid, char *why, size_t why_size);
void hsw_symbolizer_close(struct hsw_symbolizer *symbolizer);

/* Resolves a return address (the call is looked up at address - 1).
 * Results are cached per build ID and offset, across symbolizers. */
void hsw_symbolize(struct hsw_symbolizer *symbolizer, uint64_t return_address,
                   struct hsw_frame_symbols *out);

/* The same, but resolving (not finding in the cache) spends one unit of
 * *budget; with none left, the frame is left bare and false returned. */
bool hsw_symbolize_within(struct hsw_symbolizer *symbolizer, uint64_t return_address,
                          struct hsw_frame_symbols *out, unsigned *budget);

/* A frame without symbols: its bare address. */
void hsw_symbolize_bare(uint64_t return_address, struct hsw_frame_symbols *out);

/* Frees the cache shared by all symbolizers (at exit, for leak checkers). */
void hsw_symbols_cache_clear(void);

#endif
