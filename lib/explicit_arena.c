/* Explicit arenas (heapswitch_arena_*): request-scoped memory on purpose,
 * for C code that wants it whatever backend is active. Memory comes
 * straight from mmap, never from malloc, so an arena works the same under
 * every backend and even with HEAPSWITCH_STATS=0. One arena is used by
 * one thread at a time; blocks are freed all at once by reset or destroy.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "include/heapswitch.h"
#include "lib/export.h"

#define DEFAULT_CHUNK ((size_t)64 << 10)
#define MIN_CHUNK ((size_t)4 << 10)

struct arena_chunk {
    struct arena_chunk *next;
    size_t size; /* bytes mapped, this header included */
} __attribute__((aligned(16)));

struct heapswitch_arena {
    struct arena_chunk *chunks; /* the current one first; the first made last */
    char *bump;
    char *end;
    size_t chunk_size;
    size_t held; /* bytes mapped */
};

static struct arena_chunk *map_chunk(size_t size)
{
    struct arena_chunk *chunk =
        mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    if (chunk == MAP_FAILED) {
        errno = ENOMEM;
        return NULL;
    }
    chunk->size = size;
    return chunk;
}

HSW_EXPORT heapswitch_arena *heapswitch_arena_create(size_t chunk_size)
{
    struct arena_chunk *first;
    heapswitch_arena *arena;

    if (chunk_size == 0)
        chunk_size = DEFAULT_CHUNK;
    if (chunk_size < MIN_CHUNK)
        chunk_size = MIN_CHUNK;
    if (chunk_size > SIZE_MAX / 4) {
        errno = EINVAL;
        return NULL;
    }
    chunk_size = (chunk_size + 4095) & ~(size_t)4095;
    first = map_chunk(chunk_size);
    if (first == NULL)
        return NULL;
    first->next = NULL;
    /* The arena's own record lives at the start of its first chunk. */
    arena = (heapswitch_arena *)(first + 1);
    arena->chunks = first;
    arena->bump = (char *)(arena + 1);
    arena->end = (char *)first + chunk_size;
    arena->chunk_size = chunk_size;
    arena->held = chunk_size;
    return arena;
}

static void *carve(heapswitch_arena *arena, size_t alignment, size_t size)
{
    uintptr_t start = ((uintptr_t)arena->bump + alignment - 1) & ~(uintptr_t)(alignment - 1);

    if (start > (uintptr_t)arena->end || size > (uintptr_t)arena->end - start)
        return NULL;
    arena->bump = (char *)(start + size);
    return (void *)start;
}

HSW_EXPORT void *heapswitch_arena_alloc_aligned(heapswitch_arena *arena, size_t alignment,
                                               size_t size)
{
    struct arena_chunk *chunk;
    size_t needed;
    void *block;

    if (arena == NULL || alignment == 0 || (alignment & (alignment - 1)) != 0) {
        errno = EINVAL;
        return NULL;
    }
    if (alignment < 16)
        alignment = 16;
    block = carve(arena, alignment, size);
    if (block != NULL)
        return block;
    if (size > SIZE_MAX / 2 - alignment - sizeof *chunk) {
        errno = ENOMEM;
        return NULL;
    }
    needed = sizeof *chunk + alignment + size;
    needed = needed > arena->chunk_size ? (needed + 4095) & ~(size_t)4095 : arena->chunk_size;
    chunk = map_chunk(needed);
    if (chunk == NULL)
        return NULL;
    chunk->next = arena->chunks;
    arena->chunks = chunk;
    arena->held += needed;
    arena->bump = (char *)(chunk + 1);
    arena->end = (char *)chunk + needed;
    return carve(arena, alignment, size);
}

HSW_EXPORT void *heapswitch_arena_alloc(heapswitch_arena *arena, size_t size)
{
    return heapswitch_arena_alloc_aligned(arena, 16, size);
}

HSW_EXPORT char *heapswitch_arena_strndup(heapswitch_arena *arena, const char *text,
                                          size_t length)
{
    char *copy;

    length = strnlen(text, length);
    copy = heapswitch_arena_alloc_aligned(arena, 1, length + 1);
    if (copy != NULL) {
        memcpy(copy, text, length);
        copy[length] = '\0';
    }
    return copy;
}

/* Gives back every chunk but the first, the one holding the arena. */
static void release_extra_chunks(heapswitch_arena *arena)
{
    struct arena_chunk *chunk = arena->chunks;

    while (chunk->next != NULL) {
        struct arena_chunk *next = chunk->next;
        arena->held -= chunk->size;
        munmap(chunk, chunk->size);
        chunk = next;
    }
    arena->chunks = chunk;
}

HSW_EXPORT void heapswitch_arena_reset(heapswitch_arena *arena)
{
    if (arena == NULL)
        return;
    release_extra_chunks(arena);
    arena->bump = (char *)(arena + 1);
    arena->end = (char *)arena->chunks + arena->chunks->size;
}

HSW_EXPORT void heapswitch_arena_destroy(heapswitch_arena *arena)
{
    struct arena_chunk *first;

    if (arena == NULL)
        return;
    release_extra_chunks(arena);
    first = arena->chunks;
    munmap(first, first->size);
}

HSW_EXPORT size_t heapswitch_arena_bytes_held(const heapswitch_arena *arena)
{
    return arena != NULL ? arena->held : 0;
}
