/* Symbols for another process's return addresses, with elfutils' libdwfl:
 * the modules come from /proc/PID/maps (dwfl_linux_proc_report), their
 * ELF files from disk (or /proc/PID/root), separate debug information
 * from the standard places (/usr/lib/debug, .gnu_debuglink, build ID).
 * A frame's inlined calls come from dwarf_getscopes, each caller's line
 * from the inlined call's DW_AT_call_file/line, the innermost line from
 * the line table; without DWARF, the ELF symbol table names the function;
 * without that, module+0xOFFSET (the address in the file, as
 * `addr2line -e FILE` takes it). C++ names are demangled by libstdc++'s
 * __cxa_demangle.
 *
 * Results are cached per (build ID, address in the file), so the second
 * process of a binary, and the next refresh, resolve without DWARF.
 * Modules without a build ID are cached per process only.
 */
#include "config.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dashboard/symbols.h"

/* libstdc++'s demangler (cxxabi.h declares it extern "C"). */
extern char *__cxa_demangle(const char *mangled, char *output, size_t *length, int *status);

struct hsw_symbolizer {
    Dwfl *dwfl;
    pid_t pid;
};

static char *debuginfo_path; /* NULL: the default search path */

static const Dwfl_Callbacks proc_callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .debuginfo_path = &debuginfo_path,
};

/* ---- The cache: (key, address in the file) -> symbols -------------------- */

struct cache_entry {
    uint64_t key;     /* of the build ID, or of the pid and module without one */
    uint64_t address; /* the return address in the file */
    struct hsw_frame_symbols *symbols;
};

static struct cache_entry *cache;
static size_t cache_capacity, cache_used;

static uint64_t mix(uint64_t h, uint64_t value)
{
    h ^= value + UINT64_C(0x9e3779b97f4a7c15) + (h << 6) + (h >> 2);
    return h * UINT64_C(0xff51afd7ed558ccd);
}

static uint64_t hash_bytes(uint64_t h, const unsigned char *bytes, size_t length)
{
    for (size_t i = 0; i < length; i++)
        h = mix(h, bytes[i]);
    return h;
}

static struct cache_entry *cache_slot(uint64_t key, uint64_t address)
{
    size_t at;

    if (cache_capacity == 0)
        return NULL;
    at = (size_t)(mix(key, address) & (cache_capacity - 1));
    while (cache[at].symbols != NULL &&
           (cache[at].key != key || cache[at].address != address))
        at = (at + 1) & (cache_capacity - 1);
    return &cache[at];
}

static bool cache_grow(void)
{
    size_t capacity = cache_capacity == 0 ? 1024 : cache_capacity * 2;
    struct cache_entry *old = cache, *grown = calloc(capacity, sizeof *grown);
    size_t old_capacity = cache_capacity;

    if (grown == NULL)
        return false;
    cache = grown;
    cache_capacity = capacity;
    for (size_t i = 0; i < old_capacity; i++)
        if (old[i].symbols != NULL)
            *cache_slot(old[i].key, old[i].address) = old[i];
    free(old);
    return true;
}

static const struct hsw_frame_symbols *cache_find(uint64_t key, uint64_t address)
{
    struct cache_entry *slot = cache_slot(key, address);

    return slot != NULL ? slot->symbols : NULL;
}

/* A copy of the first count symbols goes in; out of memory, nothing does. */
static void cache_add(uint64_t key, uint64_t address, const struct hsw_frame_symbols *symbols)
{
    struct hsw_frame_symbols *copy;
    struct cache_entry *slot;
    size_t size = offsetof(struct hsw_frame_symbols, symbols) +
                  symbols->count * sizeof symbols->symbols[0];

    if ((cache_used + 1) * 2 > cache_capacity && !cache_grow())
        return;
    copy = malloc(sizeof *copy < size ? size : sizeof *copy);
    if (copy == NULL)
        return;
    memcpy(copy, symbols, size);
    slot = cache_slot(key, address);
    slot->key = key;
    slot->address = address;
    slot->symbols = copy;
    cache_used++;
}

void hsw_symbols_cache_clear(void)
{
    for (size_t i = 0; i < cache_capacity; i++)
        free(cache[i].symbols);
    free(cache);
    cache = NULL;
    cache_capacity = cache_used = 0;
}

/* ---- Opening a process ----------------------------------------------------- */

struct hsw_symbolizer *hsw_symbolizer_open(pid_t pid, char *why, size_t why_size)
{
    struct hsw_symbolizer *symbolizer;
    char path[64];
    int fd, status;

    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            snprintf(why, why_size, "process %d has exited: its symbols are unavailable", (int)pid);
        else
            snprintf(why, why_size, "cannot read %s (%s): symbols are unavailable", path,
                     strerror(errno));
        return NULL;
    }
    close(fd);
    symbolizer = calloc(1, sizeof *symbolizer);
    if (symbolizer == NULL) {
        snprintf(why, why_size, "out of memory");
        return NULL;
    }
    symbolizer->pid = pid;
    symbolizer->dwfl = dwfl_begin(&proc_callbacks);
    if (symbolizer->dwfl == NULL) {
        snprintf(why, why_size, "libdwfl: %s", dwfl_errmsg(-1));
        free(symbolizer);
        return NULL;
    }
    dwfl_report_begin(symbolizer->dwfl);
    status = dwfl_linux_proc_report(symbolizer->dwfl, pid);
    dwfl_report_end(symbolizer->dwfl, NULL, NULL);
    if (status != 0) {
        snprintf(why, why_size, "cannot read the maps of process %d (%s): symbols are unavailable",
                 (int)pid, status > 0 ? strerror(status) : dwfl_errmsg(-1));
        hsw_symbolizer_close(symbolizer);
        return NULL;
    }
    return symbolizer;
}

void hsw_symbolizer_close(struct hsw_symbolizer *symbolizer)
{
    if (symbolizer == NULL)
        return;
    dwfl_end(symbolizer->dwfl);
    free(symbolizer);
}

/* ---- Naming ------------------------------------------------------------------ */

/* Copies text, keeping its end when it is too long (file paths). */
static void copy_tail(char *out, size_t out_size, const char *text)
{
    size_t length = strlen(text);
    const char *from = length >= out_size ? text + length - (out_size - 1) : text;

    snprintf(out, out_size, "%s", from);
}

static void set_function(struct hsw_symbol *symbol, const char *name)
{
    char *demangled = NULL;
    int status = -1;

    if (name[0] == '_' && name[1] == 'Z')
        demangled = __cxa_demangle(name, NULL, NULL, &status);
    snprintf(symbol->function, sizeof symbol->function, "%s",
             status == 0 && demangled != NULL ? demangled : name);
    free(demangled);
}

static bool module_is_system(const char *module)
{
    static const char *const prefixes[] = {
        "libc.so", "libc-", "libstdc++", "libgcc_s", "ld-linux", "ld64.so",
        "libheapswitch", "libpthread", "libjemalloc", "libmimalloc",
    };

    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp(module, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return false;
}

void hsw_symbolize_bare(uint64_t return_address, struct hsw_frame_symbols *out)
{
    memset(out, 0, sizeof *out);
    out->count = 1;
    snprintf(out->symbols[0].function, sizeof out->symbols[0].function, "0x%" PRIx64,
             return_address);
}

/* The name of a function's DIE: its linkage name (demangled) or its name. */
static const char *die_function_name(Dwarf_Die *die)
{
    Dwarf_Attribute attribute;
    const char *name = NULL;

    if (dwarf_attr_integrate(die, DW_AT_linkage_name, &attribute) != NULL ||
        dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attribute) != NULL)
        name = dwarf_formstring(&attribute);
    if (name == NULL && dwarf_attr_integrate(die, DW_AT_name, &attribute) != NULL)
        name = dwarf_formstring(&attribute);
    return name;
}

/* Where an inlined call was made: its DW_AT_call_file and call_line. */
static void call_site(Dwarf_Die *cu, Dwarf_Die *inlined, struct hsw_symbol *caller)
{
    Dwarf_Attribute attribute;
    Dwarf_Word file_index, line;
    Dwarf_Files *files;
    size_t file_count;
    const char *file;

    if (dwarf_attr(inlined, DW_AT_call_line, &attribute) != NULL &&
        dwarf_formudata(&attribute, &line) == 0)
        caller->line = (unsigned)line;
    if (dwarf_attr(inlined, DW_AT_call_file, &attribute) != NULL &&
        dwarf_formudata(&attribute, &file_index) == 0 &&
        dwarf_getsrcfiles(cu, &files, &file_count) == 0 && file_index < file_count &&
        (file = dwarf_filesrc(files, file_index, NULL, NULL)) != NULL)
        copy_tail(caller->file, sizeof caller->file, file);
}

static bool is_function(Dwarf_Die *die)
{
    int tag = dwarf_tag(die);

    return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine;
}

/* The function or inlined call that contains an inlined call, in the
 * concrete tree (dwarf_getscopes would continue with the inlined
 * function's abstract definition instead). */
static bool containing_function(Dwarf_Die *inlined, Dwarf_Die *out)
{
    Dwarf_Die *chain = NULL;
    int count = dwarf_getscopes_die(inlined, &chain);
    bool found = false;

    for (int i = 1; i < count && !found; i++)
        if (is_function(&chain[i])) {
            *out = chain[i];
            found = true;
        }
    free(chain);
    return found;
}

/* The functions holding the address, innermost first: inlined calls,
 * then the function they are in. Returns how many were named. */
static unsigned dwarf_symbols(Dwfl_Module *module, Dwarf_Addr address,
                              struct hsw_frame_symbols *out)
{
    Dwarf_Addr bias;
    Dwarf_Die *cu = dwfl_module_addrdie(module, address, &bias);
    Dwarf_Die *scopes = NULL, function;
    unsigned count = 0;
    int scope_count, i;

    if (cu == NULL)
        return 0;
    scope_count = dwarf_getscopes(cu, address - bias, &scopes);
    for (i = 0; i < scope_count && !is_function(&scopes[i]); i++)
        continue;
    if (i >= scope_count) {
        free(scopes);
        return 0;
    }
    function = scopes[i];
    free(scopes);
    while (count < HSW_SYMBOL_INLINE_MAX) {
        struct hsw_symbol *symbol = &out->symbols[count++];
        const char *name = die_function_name(&function);
        Dwarf_Die caller;

        set_function(symbol, name != NULL ? name : "??");
        symbol->inlined = dwarf_tag(&function) == DW_TAG_inlined_subroutine;
        if (!symbol->inlined || count == HSW_SYMBOL_INLINE_MAX ||
            !containing_function(&function, &caller))
            break;
        call_site(cu, &function, &out->symbols[count]);
        function = caller;
    }
    return count;
}

/* Resolves address (a call's address, return address - 1) in module. */
static void resolve(Dwfl_Module *module, uint64_t return_address, Dwarf_Addr file_bias,
                    const char *module_name, struct hsw_frame_symbols *out)
{
    Dwarf_Addr address = return_address - 1;
    Dwfl_Line *line;
    unsigned count;

    memset(out, 0, sizeof *out);
    count = dwarf_symbols(module, address, out);
    if (count == 0) {
        GElf_Off offset;
        GElf_Sym symbol;
        const char *name =
            dwfl_module_addrinfo(module, address, &offset, &symbol, NULL, NULL, NULL);

        if (name != NULL)
            set_function(&out->symbols[0], name);
        else
            snprintf(out->symbols[0].function, sizeof out->symbols[0].function,
                     "%s+0x%" PRIx64, module_name, (uint64_t)(return_address - file_bias));
        count = 1;
    }
    line = dwfl_module_getsrc(module, address);
    if (line != NULL) {
        int line_number = 0;
        const char *file = dwfl_lineinfo(line, NULL, &line_number, NULL, NULL, NULL);

        if (file != NULL && line_number > 0) {
            copy_tail(out->symbols[0].file, sizeof out->symbols[0].file, file);
            out->symbols[0].line = (unsigned)line_number;
        }
    }
    out->count = count;
    for (unsigned i = 0; i < count; i++) {
        snprintf(out->symbols[i].module, sizeof out->symbols[i].module, "%s", module_name);
        out->symbols[i].system = module_is_system(module_name);
    }
}

void hsw_symbolize(struct hsw_symbolizer *symbolizer, uint64_t return_address,
                   struct hsw_frame_symbols *out)
{
    hsw_symbolize_within(symbolizer, return_address, out, NULL);
}

bool hsw_symbolize_within(struct hsw_symbolizer *symbolizer, uint64_t return_address,
                          struct hsw_frame_symbols *out, unsigned *budget)
{
    Dwfl_Module *module;
    const unsigned char *build_id;
    GElf_Addr build_id_address;
    const char *path, *module_name;
    Dwarf_Addr file_bias = 0, low_address = 0;
    const struct hsw_frame_symbols *cached;
    uint64_t key;
    int build_id_length;

    if (symbolizer == NULL || return_address == 0 ||
        (module = dwfl_addrmodule(symbolizer->dwfl, return_address - 1)) == NULL) {
        hsw_symbolize_bare(return_address, out);
        return true;
    }
    path = dwfl_module_info(module, NULL, &low_address, NULL, NULL, NULL, NULL, NULL);
    module_name = path != NULL && strrchr(path, '/') != NULL ? strrchr(path, '/') + 1
                  : path != NULL                             ? path
                                                             : "?";
    /* Without its file (deleted, unreadable): offsets from where it is mapped. */
    if (dwfl_module_getelf(module, &file_bias) == NULL)
        file_bias = low_address;
    build_id_length = dwfl_module_build_id(module, &build_id, &build_id_address);
    if (build_id_length > 0)
        key = hash_bytes(1, build_id, (size_t)build_id_length);
    else
        key = hash_bytes(mix(2, (uint64_t)symbolizer->pid), (const unsigned char *)module_name,
                         strlen(module_name));
    cached = cache_find(key, return_address - file_bias);
    if (cached != NULL) {
        memcpy(out, cached, offsetof(struct hsw_frame_symbols, symbols) +
                                cached->count * sizeof cached->symbols[0]);
        return true;
    }
    if (budget != NULL && *budget == 0) {
        hsw_symbolize_bare(return_address, out);
        return false;
    }
    if (budget != NULL)
        (*budget)--;
    resolve(module, return_address, file_bias, module_name, out);
    cache_add(key, return_address - file_bias, out);
    return true;
}
