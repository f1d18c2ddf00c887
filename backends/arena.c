/* The arena backend: heapswitch's own bump allocator, for request-scoped
 * work, where most blocks live exactly as long as one request.
 *
 * Each thread bumps a pointer through its current chunk. Chunks are
 * aligned to their size, so the chunk of any pointer is one mask away;
 * each block has a 16-byte header holding its usable size. The owner
 * keeps what its fast paths touch in its own thread-local state (next
 * block, chunk end, current chunk, and `live`: blocks handed out minus
 * its own frees, plain adds); every other free (another thread's, or any free
 * once the chunk is retired) is an atomic add to the chunk's
 * remote_freed. A current chunk whose blocks are all free (live ==
 * remote_freed) is rewound and reused; a retired one (full, or its thread
 * exited) is recycled by whoever frees its last block, into a small cache,
 * and unmapped beyond it. Requests over a quarter of a chunk get a mapping
 * of their own, also aligned so the mask finds its header. realloc grows
 * in place when the block is the last one of the caller's current chunk.
 *
 * Long-lived blocks keep their chunks from being recycled. Every free
 * marks its block's header, and retired chunks are listed, so that a
 * thread that finds no recycled chunk takes a retired one and bumps
 * through its runs of freed blocks, one after the other. What is left of
 * the price: a long-lived block pins its chunk while the program does not
 * allocate, and runs shorter than MIN_RUN stay unused. The fragmentation
 * figure shows it.
 *
 * One file of about 900 lines, on purpose: the fast paths (bump, free,
 * the counted pair) inline the chunk helpers and read the thread-local
 * state directly, and the chunk lifecycle shares that state; split across
 * files they would need link-time inlining and exported internals.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backends/backend.h"
#include "lib/backend_support.h"
#include "lib/segment_layout.h"


#define CHUNK_MAGIC UINT64_C(0x314e524157534848) /* "HHSWARN1" */
#define HEADER 16                                /* per block: its usable size */
#define DEFAULT_CHUNK ((size_t)1 << 20)
#define MIN_CHUNK ((size_t)64 << 10)
#define MAX_CHUNK ((size_t)256 << 20)
#define CACHE_LIMIT 8
#define LARGE_CACHE_SLOTS 8
#define LARGE_CACHE_BYTES ((size_t)256 << 20)
/* A freed block's header has this bit set beside its size (a multiple of
 * 16): a retired chunk's free space is found by walking its headers. */
#define FREED ((size_t)1)
/* Retired chunks a thread looks at, oldest first, when it needs one. */
#define TAKE_TRIES 8
/* Runs of freed blocks shorter than this are left alone. */
#define MIN_RUN 1024

/* Added to remote_freed when the chunk is retired: then one atomic add
 * tells a remote free both whether the chunk is retired and how many
 * blocks are free, with no second load that could race with the retiring
 * owner (or read a chunk the owner has just recycled and unmapped). */
#define RETIRED (UINT64_C(1) << 63)

enum chunk_kind { CHUNK_SMALL = 1, CHUNK_LARGE = 2 };

/* The owner writes nothing here while the chunk is current: remote frees
 * do not bounce a line the owner's fast paths write. 128 bytes, as when
 * it held the bump state, so that blocks and large-block usable sizes
 * start where they did. */
struct chunk {
    uint64_t magic;
    uint32_t kind;
    int recycled;          /* set once, by whoever recycles it */
    size_t mapping_size;   /* bytes mapped at this address */
    uint64_t remote_freed; /* atomic: every free but the owner's while
                              current; RETIRED added when retired */
    uint64_t final_live;   /* the owner's `live` when it retired it */
    struct chunk *next;    /* in the cache */
    char *used_end;        /* past the last block's header: the headers
                              from the first block's to here chain by size */
    struct chunk *older, *newer; /* in the retired list, under cache_lock */
    int listed;                  /* in it, under cache_lock */
    uint64_t walked_live;  /* its live blocks when a walk found little room
                              in it (0: none did): worth another walk once
                              half of them are free */
} __attribute__((aligned(128)));

_Static_assert(sizeof(struct chunk) == 128, "blocks start 128 bytes into a chunk");

/* A thread's current chunk: all that malloc and free touch on their fast
 * paths, one initial-exec TLS block away. Without a chunk every field is
 * 0, so malloc finds no room and free no match without testing for it. */
struct thread_arena {
    char *next;          /* the next block (its header is just before):
                            what malloc returns, with no add */
    char *end;           /* the chunk's end: the room for the next block
                            is end - next, a multiple of 16 */
    struct chunk *chunk; /* the current chunk, or NULL */
    uint64_t live;       /* blocks handed out minus this thread's frees */
};

static size_t chunk_size = DEFAULT_CHUNK;
static uintptr_t chunk_mask = ~(uintptr_t)(DEFAULT_CHUNK - 1);
static size_t large_threshold = DEFAULT_CHUNK / 4;

static __thread struct thread_arena here __attribute__((tls_model("initial-exec")));

/* A thread's current chunk when it was taken from the retired list:
 * the thread bumps through its runs of freed blocks one after the other
 * (`scan` walks the headers). This is what stops one long-lived block in
 * fifty from pinning every chunk. */
struct thread_reuse {
    char *scan;          /* the next header to walk in the current chunk,
                            or NULL: no runs left (or a fresh chunk) */
    char *scan_end;      /* the current chunk's used_end when it was taken */
    size_t run_bytes;    /* bytes of the runs found since it was taken */
    bool taken;          /* whether the current chunk was a retired one */
};

static __thread struct thread_reuse reuse __attribute__((tls_model("initial-exec")));
static pthread_key_t exit_key;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct chunk *cache;
static unsigned cache_count;
static uint64_t mapped_bytes;  /* atomic */
static uint64_t cached_bytes;  /* under cache_lock */
/* Freed large mappings kept for reuse (their pages already touched), as
 * glibc does by raising its mmap threshold: under cache_lock. */
static struct chunk *large_cache[LARGE_CACHE_SLOTS];
static size_t large_cached_bytes;
/* Retired chunks with blocks still live, oldest first: under cache_lock.
 * A chunk is listed before its retirement is published and unlisted by
 * whoever recycles or takes it, so a listed chunk is always mapped. */
static struct chunk *oldest_retired, *newest_retired;

/* A block is never at the very start of a chunk, except a large block
 * aligned to a chunk size or more: that one's header is the chunk before
 * it. Both cases are the chunk holding the byte before the block. */
static struct chunk *chunk_of(const void *ptr)
{
    return (struct chunk *)(((uintptr_t)ptr - 1) & chunk_mask);
}

static size_t *size_slot(void *block)
{
    return (size_t *)((char *)block - HEADER);
}

/* Maps a chunk of `size` bytes, of `kind`, at a chunk-aligned address
 * `start` such that start + chunk_size is aligned to `alignment` (a
 * multiple of chunk_size), and fills in what its header says of it. */
static struct chunk *map_chunk(size_t size, size_t alignment, enum chunk_kind kind)
{
    struct chunk *chunk;
    size_t span = size + alignment;
    char *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *start;

    if (raw == MAP_FAILED) {
        errno = ENOMEM;
        return NULL;
    }
    start = (char *)((((uintptr_t)raw + chunk_size + alignment - 1) & ~(uintptr_t)(alignment - 1)) -
                     chunk_size);
    if (start > raw)
        munmap(raw, (size_t)(start - raw));
    if (raw + span > start + size)
        munmap(start + size, (size_t)(raw + span - (start + size)));
    __atomic_fetch_add(&mapped_bytes, size, __ATOMIC_RELAXED);
    chunk = (struct chunk *)start;
    chunk->magic = CHUNK_MAGIC;
    chunk->kind = kind;
    chunk->mapping_size = size;
    return chunk;
}

static void unmap(struct chunk *chunk)
{
    size_t size = chunk->mapping_size;

    __atomic_fetch_sub(&mapped_bytes, size, __ATOMIC_RELAXED);
    munmap(chunk, size);
}

/* Makes `chunk`, empty, the thread's current chunk, from its start.
 * Its blocks are all free, so no remote free can race with the reset. */
static void adopt(struct thread_arena *t, struct chunk *chunk)
{
    __atomic_store_n(&chunk->remote_freed, 0, __ATOMIC_RELAXED);
    chunk->final_live = 0;
    chunk->recycled = 0;
    chunk->used_end = (char *)chunk + sizeof *chunk;
    chunk->walked_live = 0;
    t->chunk = chunk;
    t->next = (char *)chunk + sizeof *chunk + HEADER;
    t->end = (char *)chunk + chunk_size;
    t->live = 0;
    reuse.scan = NULL;
    reuse.taken = false;
    reuse.run_bytes = 0;
}

/* A recycled chunk from the cache, or NULL. */
static struct chunk *cached_chunk(void)
{
    struct chunk *chunk = NULL;

    pthread_mutex_lock(&cache_lock);
    if (cache != NULL) {
        chunk = cache;
        cache = chunk->next;
        cache_count--;
        cached_bytes -= chunk->mapping_size;
    }
    pthread_mutex_unlock(&cache_lock);
    return chunk;
}

/* Under cache_lock. */
static void unlist(struct chunk *chunk)
{
    if (!chunk->listed)
        return;
    if (chunk->older != NULL)
        chunk->older->newer = chunk->newer;
    else
        oldest_retired = chunk->newer;
    if (chunk->newer != NULL)
        chunk->newer->older = chunk->older;
    else
        newest_retired = chunk->older;
    chunk->listed = 0;
}

/* Under cache_lock. */
static void append_retired(struct chunk *chunk)
{
    chunk->older = newest_retired;
    chunk->newer = NULL;
    if (newest_retired != NULL)
        newest_retired->newer = chunk;
    else
        oldest_retired = chunk;
    newest_retired = chunk;
    chunk->listed = 1;
}

static void list_retired(struct chunk *chunk)
{
    pthread_mutex_lock(&cache_lock);
    append_retired(chunk);
    pthread_mutex_unlock(&cache_lock);
}

/* Its last block is free: into the cache, or back to the OS. */
static void recycle(struct chunk *chunk)
{
    int expected = 0;

    if (!__atomic_compare_exchange_n(&chunk->recycled, &expected, 1, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_RELAXED))
        return;
    pthread_mutex_lock(&cache_lock);
    unlist(chunk);
    if (cache_count < CACHE_LIMIT) {
        chunk->next = cache;
        cache = chunk;
        cache_count++;
        cached_bytes += chunk->mapping_size;
        chunk = NULL;
    }
    pthread_mutex_unlock(&cache_lock);
    if (chunk != NULL)
        unmap(chunk);
}

/* Ends the run the thread bumps through: in a taken chunk's interior,
 * the bytes left become one freed block, so that the headers still chain;
 * in a chunk's tail, used_end moves up to the next header. */
static void close_run(struct thread_arena *t)
{
    char *header = t->next - HEADER;

    if (t->end == (char *)t->chunk + chunk_size)
        t->chunk->used_end = header;
    else if (header < t->end)
        *(size_t *)header = (size_t)(t->end - t->next) | FREED;
}

/* The owner lets go of its current chunk: from now on every free of its
 * blocks is atomic, and the last one recycles it. final_live is written
 * before the release add that publishes RETIRED, so a remote free whose
 * add sees RETIRED also sees final_live. Exactly one add (this one, or a
 * remote free's) returns RETIRED + final_live. It is listed, to be walked
 * for free space, before that: then whoever recycles it finds it listed. */
static void retire(struct thread_arena *t)
{
    struct chunk *chunk = t->chunk;
    uint64_t live = t->live;

    close_run(t);
    *t = (struct thread_arena){0};
    list_retired(chunk);
    chunk->final_live = live;
    if (__atomic_add_fetch(&chunk->remote_freed, RETIRED, __ATOMIC_ACQ_REL) == RETIRED + live)
        recycle(chunk);
}

/* Marks a block of a chunk freed, before its free is counted: once
 * counted, the chunk may be recycled. A release store, so that a walk
 * that reads the mark (acquire) reuses the block after the program's
 * last use of it: plain moves on x86-64. */
static inline void mark_freed(void *block)
{
    size_t *slot = size_slot(block);

    __atomic_store_n(slot, __atomic_load_n(slot, __ATOMIC_RELAXED) | FREED, __ATOMIC_RELEASE);
}

static void remote_free(struct chunk *chunk)
{
    uint64_t freed = __atomic_add_fetch(&chunk->remote_freed, 1, __ATOMIC_ACQ_REL);

    /* Only a retired chunk is recycled, and its final_live is then set. */
    if (freed >= RETIRED && freed - RETIRED == chunk->final_live)
        recycle(chunk);
}

/* Retires the current chunk. A taken one whose runs came to little is
 * mostly live: it is not walked again until half its blocks are free. */
static void let_go(struct thread_arena *t)
{
    t->chunk->walked_live = reuse.taken && reuse.run_bytes < chunk_size / 8 ? t->live : 0;
    retire(t);
    reuse.scan = NULL;
    reuse.taken = false;
}

static void thread_exit(void *unused)
{
    (void)unused;
    if (here.chunk != NULL)
        let_go(&here);
}

/* A cached large mapping of at least `total` bytes, not much more, made
 * with the plain chunk alignment; or NULL. */
static struct chunk *take_large(size_t total)
{
    struct chunk *found = NULL;

    pthread_mutex_lock(&cache_lock);
    for (unsigned i = 0; i < LARGE_CACHE_SLOTS && found == NULL; i++) {
        struct chunk *candidate = large_cache[i];
        if (candidate != NULL && candidate->mapping_size >= total &&
            candidate->mapping_size - total <= total) {
            found = candidate;
            large_cache[i] = NULL;
            large_cached_bytes -= candidate->mapping_size;
        }
    }
    pthread_mutex_unlock(&cache_lock);
    return found;
}

/* Keeps a freed large mapping for reuse if there is room, else unmaps it. */
static void release_large(struct chunk *chunk)
{
    bool kept = false;

    /* Only mappings aligned like chunks (alignment below a chunk) are reused. */
    if (chunk->recycled == 0 && chunk->mapping_size <= LARGE_CACHE_BYTES / 2) {
        pthread_mutex_lock(&cache_lock);
        for (unsigned i = 0; i < LARGE_CACHE_SLOTS && !kept; i++) {
            if (large_cache[i] == NULL &&
                large_cached_bytes + chunk->mapping_size <= LARGE_CACHE_BYTES) {
                large_cache[i] = chunk;
                large_cached_bytes += chunk->mapping_size;
                kept = true;
            }
        }
        pthread_mutex_unlock(&cache_lock);
    }
    if (!kept)
        unmap(chunk);
}

static void *large_alloc(size_t alignment, size_t size)
{
    size_t offset = sizeof(struct chunk) + HEADER, map_alignment = chunk_size;
    size_t page = (size_t)getpagesize(), total;
    struct chunk *chunk;

    if (alignment >= chunk_size) {
        /* The block starts a chunk; its header is the chunk before. */
        offset = chunk_size;
        map_alignment = alignment;
    } else if (alignment > HEADER) {
        offset = (offset + alignment - 1) & ~(alignment - 1);
    }
    if (size > SIZE_MAX / 2 - offset - map_alignment) {
        errno = ENOMEM;
        return NULL;
    }
    total = (offset + size + page - 1) & ~(page - 1);
    chunk = map_alignment == chunk_size ? take_large(total) : NULL;
    if (chunk == NULL) {
        chunk = map_chunk(total, map_alignment, CHUNK_LARGE);
        if (chunk == NULL)
            return NULL;
        /* `recycled` marks a mapping aligned beyond a chunk: never reused. */
        chunk->recycled = map_alignment != chunk_size;
    }
    *size_slot((char *)chunk + offset) = chunk->mapping_size - offset;
    return (char *)chunk + offset;
}

/* Carves a block from the current chunk, or returns NULL if it does not
 * fit. */
static void *carve(struct thread_arena *t, size_t alignment, size_t size)
{
    uintptr_t start = (uintptr_t)t->next;
    char *block;

    start = (start + alignment - 1) & ~(uintptr_t)(alignment - 1);
    block = (char *)start;
    if (block > t->end || size > (size_t)(t->end - block))
        return NULL;
    /* An alignment gap is a freed block, so that the headers chain. */
    if (block > t->next)
        *size_slot(t->next) = (size_t)(block - t->next) - HEADER + FREED;
    *size_slot(block) = size;
    t->next = block + size + HEADER;
    t->live++;
    return block;
}

/* Whether every block of the current chunk is free: the owner's count of
 * live blocks is what other threads have freed. */
static bool all_free(const struct thread_arena *t)
{
    return t->live == __atomic_load_n(&t->chunk->remote_freed, __ATOMIC_ACQUIRE);
}

/* The thread bumps through [start, end) of its taken chunk. */
static bool begin_run(struct thread_arena *t, char *start, char *end)
{
    reuse.run_bytes += (size_t)(end - start);
    t->next = start + HEADER;
    t->end = end;
    return true;
}

/* Moves the thread to the next run of freed blocks of its taken chunk,
 * from reuse.scan on (a run that reaches used_end takes in the unused
 * tail too). false when none of MIN_RUN bytes is left, or a header says
 * its block runs past used_end (the program overran one: stop there).
 * A block freed while the walk passes it may be taken for a live one: a
 * run can only come out shorter. */
static bool find_run(struct thread_arena *t)
{
    char *chunk_end = (char *)t->chunk + chunk_size;
    char *limit = reuse.scan_end;
    char *at = reuse.scan;
    char *start = NULL; /* the first header of the freed blocks walked */

    reuse.scan = NULL;
    while (at < limit) {
        size_t word = __atomic_load_n((size_t *)at, __ATOMIC_ACQUIRE);
        size_t size = word & ~(size_t)15;

        if (size > (size_t)(limit - at) - HEADER)
            return false;
        if ((word & FREED) != 0) {
            if (start == NULL)
                start = at;
        } else if (start != NULL) {
            if (at - start >= MIN_RUN) {
                reuse.scan = at;
                return begin_run(t, start, at);
            }
            start = NULL;
        }
        at += HEADER + size;
    }
    if (start == NULL)
        start = limit;
    return chunk_end - start >= MIN_RUN && begin_run(t, start, chunk_end);
}

static bool next_run(struct thread_arena *t)
{
    if (reuse.scan == NULL)
        return false;
    close_run(t);
    return find_run(t);
}

/* Takes one of the oldest retired chunks with blocks still live, so that
 * no remote free can recycle it: its count of frees goes from
 * RETIRED + k (k < final_live: some block is live) to 0 in one
 * compare-and-swap, and frees from then on count as for any current
 * chunk. Under cache_lock, which whoever recycles a listed chunk takes
 * before unmapping it. Of the oldest few, the one with the fewest live
 * blocks (the least to walk past); a mostly live one moves to the back,
 * so that the list turns over. `just_retired`, the caller's own, full of
 * blocks it is likely still using, is left alone. Returns the chunk and
 * its live blocks, or NULL. */
static struct chunk *take_retired(const struct chunk *just_retired, uint64_t *live)
{
    struct chunk *chunk = NULL;

    pthread_mutex_lock(&cache_lock);
    while (chunk == NULL) {
        struct chunk *best = NULL, *candidate = oldest_retired;
        uint64_t best_freed = 0, best_live = UINT64_MAX;

        for (unsigned tries = 0; candidate != NULL && tries < TAKE_TRIES; tries++) {
            struct chunk *newer = candidate->newer;
            uint64_t freed = __atomic_load_n(&candidate->remote_freed, __ATOMIC_ACQUIRE);
            uint64_t candidate_live;

            /* Not yet retired, or its last block is being freed. */
            if (candidate == just_retired || freed < RETIRED ||
                freed - RETIRED >= candidate->final_live) {
                candidate = newer;
                continue;
            }
            candidate_live = candidate->final_live - (freed - RETIRED);
            if (candidate->walked_live != 0 && candidate_live > candidate->walked_live / 2) {
                if (newer != NULL) {
                    unlist(candidate);
                    append_retired(candidate);
                }
            } else if (candidate_live < best_live) {
                best = candidate;
                best_freed = freed;
                best_live = candidate_live;
            }
            candidate = newer;
        }
        if (best == NULL)
            break;
        /* A free in between: look again. */
        if (__atomic_compare_exchange_n(&best->remote_freed, &best_freed, 0, false,
                                        __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
            *live = best_live;
            unlist(best);
            chunk = best;
        }
    }
    pthread_mutex_unlock(&cache_lock);
    return chunk;
}

/* Makes a retired chunk the current one, at its first run of freed
 * blocks. false when none is listed, or the one taken has no run left. */
static bool take_retired_chunk(struct thread_arena *t, const struct chunk *just_retired)
{
    uint64_t live;
    struct chunk *chunk = take_retired(just_retired, &live);

    if (chunk == NULL)
        return false;
    chunk->final_live = 0;
    t->chunk = chunk;
    t->live = live;
    /* No room, and nothing for close_run to write, until a run is found. */
    t->end = chunk->used_end;
    t->next = t->end + HEADER;
    reuse.taken = true;
    reuse.run_bytes = 0;
    reuse.scan = (char *)chunk + sizeof *chunk;
    reuse.scan_end = chunk->used_end;
    if (find_run(t))
        return true;
    let_go(t);
    return false;
}

/* A block from the current chunk, or from the next runs of a taken one. */
static void *carve_here(struct thread_arena *t, size_t alignment, size_t size)
{
    void *block = carve(t, alignment, size);

    while (block == NULL && next_run(t))
        block = carve(t, alignment, size);
    return block;
}

static void *slow_alloc(size_t alignment, size_t size)
{
    struct thread_arena *t = &here;
    struct chunk *chunk, *just_retired = t->chunk;
    void *block;

    if (size > large_threshold || alignment > chunk_size / 8)
        return large_alloc(alignment, size);
    if (size == 0)
        size = 16;
    if (t->chunk != NULL) {
        block = carve_here(t, alignment, size);
        if (block != NULL)
            return block;
        if (all_free(t)) {
            adopt(t, t->chunk);
            return carve(t, alignment, size);
        }
        let_go(t);
    } else {
        /* The thread's first chunk: retire it when the thread exits. */
        pthread_setspecific(exit_key, (void *)1);
    }
    /* A recycled chunk; else the free space of a retired one (request-
     * scoped work recycles its chunks, and only long-lived blocks leave
     * the cache empty); else a new mapping. */
    chunk = cached_chunk();
    if (chunk == NULL && take_retired_chunk(t, just_retired)) {
        block = carve_here(t, alignment, size);
        if (block != NULL)
            return block;
        let_go(t);
    }
    if (chunk == NULL)
        chunk = map_chunk(chunk_size, chunk_size, CHUNK_SMALL);
    if (chunk == NULL)
        return NULL;
    adopt(t, chunk);
    return carve(t, alignment, size);
}

/* Out of line, so that the fast path needs no stack frame. */
__attribute__((noinline, cold)) static void *malloc_slow(size_t request)
{
    size_t size = (request + 15) & ~(size_t)15;

    /* A request near SIZE_MAX rounds to a small size: keep the request. */
    return slow_alloc(16, size >= request ? size : request);
}

static void *arena_malloc(size_t request)
{
    struct thread_arena *t = &here;
    char *block = t->next;

    /* The room is a multiple of 16, so a request below it fits rounded up
     * to 16 too, and a request of 0 (16 bytes) fits a room above 0. The
     * compare is signed: after a block that ends right at the chunk's end
     * the room is -16. Without a chunk the room is 0. */
    if (__builtin_expect((ptrdiff_t)request < t->end - block && request <= large_threshold, 1)) {
        /* Rounded up to 16, at least 16, without a branch. */
        size_t size = (request + 15 + (request == 0)) & ~(size_t)15;

        *size_slot(block) = size;
        t->next = block + size + HEADER;
        t->live++;
        return block;
    }
    return malloc_slow(request);
}

/* The slow paths of free below take free_counted's result and return it,
 * so that they are tail calls and the fast paths need no stack frame. */

/* Every block of the current chunk is free: start it over. */
__attribute__((noinline, cold)) static size_t rewind_current(size_t usable)
{
    adopt(&here, here.chunk);
    return usable;
}

/* A free that is not of a block of this thread's current chunk: NULL, a
 * large block, or a block of another chunk. */
__attribute__((noinline)) static size_t free_elsewhere(void *ptr, size_t usable)
{
    struct chunk *chunk;

    if (ptr == NULL)
        return usable;
    chunk = chunk_of(ptr);
    if (chunk->kind == CHUNK_LARGE) {
        release_large(chunk);
    } else {
        mark_freed(ptr);
        remote_free(chunk);
    }
    return usable;
}

/* free and free_counted: a block of the current chunk is a plain count
 * and one compare; everything else is out of line. chunk_of(NULL) is the
 * top of the address space, never a current chunk, so NULL needs no test
 * here. The remote_freed load is a plain move on x86-64. Returns usable. */
static inline __attribute__((always_inline)) size_t free_block(void *ptr, size_t usable)
{
    struct thread_arena *t = &here;
    struct chunk *chunk = chunk_of(ptr);

    if (__builtin_expect(chunk == t->chunk, 1)) {
        uint64_t live = --t->live;

        mark_freed(ptr);
        if (__builtin_expect(live == __atomic_load_n(&chunk->remote_freed, __ATOMIC_ACQUIRE), 0))
            return rewind_current(usable);
        return usable;
    }
    return free_elsewhere(ptr, usable);
}

static void arena_free(void *ptr)
{
    free_block(ptr, 0);
}

/* The header is read first: free may unmap a large block. */
static size_t arena_free_counted(void *ptr)
{
    return free_block(ptr, *size_slot(ptr));
}

/* With counting on: the size is at hand, so the call is counted here
 * (see malloc_and_count in backends/backend.h). */
__attribute__((noinline, cold)) static void *malloc_and_count_slow(size_t request)
{
    void *block = malloc_slow(request);

    if (block == NULL)
        hsw_count_failure(HSW_CALL_MALLOC, request);
    else
        hsw_count_alloc(HSW_CALL_MALLOC, request, *size_slot(block), 0);
    return block;
}

static void *arena_malloc_and_count(size_t request)
{
    struct thread_arena *t = &here;
    char *block = t->next;

    /* As in arena_malloc. */
    if (__builtin_expect((ptrdiff_t)request < t->end - block && request <= large_threshold, 1)) {
        size_t size = (request + 15 + (request == 0)) & ~(size_t)15;

        /* large_threshold is at most MAX_CHUNK / 4: the size class needs
         * no clamp. */
        if (request > MAX_CHUNK / 4)
            __builtin_unreachable();
        *size_slot(block) = size;
        t->next = block + size + HEADER;
        t->live++;
        hsw_count_alloc(HSW_CALL_MALLOC, request, size, 0);
        return block;
    }
    return malloc_and_count_slow(request);
}

/* A thread without its own slot yet (or ever). */
__attribute__((noinline, cold)) static void free_and_count_slow(void *ptr, size_t usable)
{
    hsw_count_free_slow(HSW_CALL_FREE, usable);
    free_block(ptr, usable);
}

/* Counted first, so that free_block's slow paths stay tail calls and the
 * fast path needs no stack frame. */
static void arena_free_and_count(void *ptr)
{
    size_t usable = ptr != NULL ? *size_slot(ptr) : 0;

    if (__builtin_expect(!hsw_count_free_own(HSW_CALL_FREE, usable), 0)) {
        free_and_count_slow(ptr, usable);
        return;
    }
    free_block(ptr, usable);
}

static size_t arena_usable_size(void *ptr)
{
    return *size_slot(ptr);
}

static void *arena_calloc(size_t count, size_t size)
{
    size_t total;
    void *block;

    if (__builtin_mul_overflow(count, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    block = arena_malloc(total);
    if (block != NULL)
        memset(block, 0, total);
    return block;
}

static void *arena_aligned_alloc(size_t alignment, size_t size)
{
    if (alignment <= 16)
        return arena_malloc(size);
    if (size <= SIZE_MAX - 15)
        size = (size + 15) & ~(size_t)15;
    return slow_alloc(alignment, size);
}

static void *arena_realloc(void *ptr, size_t size)
{
    struct chunk *chunk;
    size_t old_size, new_size;
    void *fresh;

    if (ptr == NULL)
        return arena_malloc(size);
    old_size = *size_slot(ptr);
    if (size <= old_size)
        return ptr;
    chunk = chunk_of(ptr);
    new_size = (size + 15) & ~(size_t)15;
    /* The last block of the caller's current chunk grows in place. */
    if (chunk == here.chunk && size <= large_threshold &&
        (char *)ptr + old_size + HEADER == here.next &&
        new_size <= (size_t)(here.end - (char *)ptr)) {
        *size_slot(ptr) = new_size;
        here.next = (char *)ptr + new_size + HEADER;
        return ptr;
    }
    fresh = arena_malloc(size);
    if (fresh == NULL)
        return NULL;
    memcpy(fresh, ptr, old_size);
    arena_free(ptr);
    return fresh;
}

static void fork_prepare(void)
{
    pthread_mutex_lock(&cache_lock);
}

static void fork_release(void)
{
    pthread_mutex_unlock(&cache_lock);
}

/* HEAPSWITCH_ARENA_CHUNK: a power of two from 64K to 256M (K, M suffixes). */
static void read_chunk_size(const struct hsw_backend_options *options)
{
    const char *text = options->lookup("HEAPSWITCH_ARENA_CHUNK");
    uint64_t value = 0;

    if (text == NULL || text[0] == '\0')
        return;
    if (!hsw_parse_size(text, &value) || value < MIN_CHUNK || value > MAX_CHUNK ||
        (value & (value - 1)) != 0) {
        hsw_log("ignoring HEAPSWITCH_ARENA_CHUNK='", text,
                "' (a power of two from 64K to 256M, e.g. 1M)", (const char *)NULL);
        return;
    }
    chunk_size = value;
    chunk_mask = ~(uintptr_t)(value - 1);
    large_threshold = value / 4;
}

static struct hsw_size_table size_table;

/* malloc's rounding: up to 16, at least 16. For the table's index
 * (requested + 7) / 8, requests 8i-7 .. 8i round alike (to 8i for even i,
 * 8i + 8 for odd i), and index 0 (a request of 0) is 16: the table is
 * exact for every request, and so is the counters' usable size. Every
 * table request (at most 16 KiB) is at most large_threshold (a quarter of
 * at least 64 KiB), so none is a large block. */
static size_t arena_good_size(size_t size)
{
    return size == 0 ? 16 : (size + 15) & ~(size_t)15;
}

static int arena_owns(const void *ptr);

static int arena_init(struct hsw_backend_ops *ops, const struct hsw_backend_options *options,
                      const char **why)
{
    read_chunk_size(options);
    if (pthread_key_create(&exit_key, thread_exit) != 0) {
        *why = "no pthread key is left for its thread-exit hook";
        return -1;
    }
    pthread_atfork(fork_prepare, fork_release, fork_release);
    ops->malloc = arena_malloc;
    ops->free = arena_free;
    ops->calloc = arena_calloc;
    ops->realloc = arena_realloc;
    ops->aligned_alloc = arena_aligned_alloc;
    ops->usable_size = arena_usable_size;
    ops->free_counted = arena_free_counted;
    ops->malloc_and_count = arena_malloc_and_count;
    ops->free_and_count = arena_free_and_count;
    ops->owns = arena_owns;
    ops->new_block_usable = hsw_size_table_build(&size_table, arena_good_size, ops);
    return 0;
}

static int arena_heap_figures(struct hsw_backend_heap *heap)
{
    uint64_t mapped = __atomic_load_n(&mapped_bytes, __ATOMIC_RELAXED);

    pthread_mutex_lock(&cache_lock);
    heap->retained = cached_bytes + large_cached_bytes;
    pthread_mutex_unlock(&cache_lock);
    heap->mapped = mapped;
    heap->resident = mapped;
    heap->committed = mapped;
    heap->active = mapped > heap->retained ? mapped - heap->retained : 0;
    heap->present = HEAPSWITCH_HEAP_RESIDENT | HEAPSWITCH_HEAP_ACTIVE | HEAPSWITCH_HEAP_MAPPED |
                    HEAPSWITCH_HEAP_COMMITTED;
    return 0;
}

/* Whether ptr, a live block from malloc while this backend is active, is
 * one of its blocks: its chunk header says so. */
static int arena_owns(const void *ptr)
{
    const struct chunk *chunk;

    if (ptr == NULL)
        return 0;
    chunk = chunk_of(ptr);
    return chunk->magic == CHUNK_MAGIC;
}

const struct hsw_backend hsw_backend_arena = {
    .name = "arena",
    .description = "heapswitch's bump allocator (per-thread chunks)",
    .init = arena_init,
    .heap_figures = arena_heap_figures,
};
