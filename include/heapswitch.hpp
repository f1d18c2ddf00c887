/* heapswitch for C++: request marks and the backend's name, with an RAII
 * request scope. Header only, and nothing to link: the functions are
 * looked up at run time (dlsym(RTLD_DEFAULT, ...)), once, so a program
 * using this header runs unchanged without libheapswitch: marks are then
 * ignored and backend_name() is nullptr.
 *
 *   for (auto &query : queries) {
 *       heapswitch::request_scope request; // marked done at the end of the block
 *       handle(query);
 *   }
 *
 * heapswitch::arena is the explicit arena of heapswitch.h (request-scoped
 * memory freed at once by reset()), or without heapswitch a bump allocator
 * of its own that behaves the same; in C++17, heapswitch::arena_resource
 * puts std::pmr containers in it:
 *
 *   heapswitch::arena arena;
 *   heapswitch::arena_resource resource(arena);
 *   for (auto &query : queries) {
 *       {
 *           std::pmr::vector<std::pmr::string> fields(&resource);
 *           handle(query, fields);
 *       }                   // the containers go before the memory does
 *       arena.reset();
 *   }
 *
 * C++11 or later (arena_resource: C++17). On glibc before 2.34, link with -ldl.
 */
#ifndef HEAPSWITCH_HPP
#define HEAPSWITCH_HPP

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

#include <dlfcn.h>

#if __cplusplus >= 201703L && defined(__has_include)
#if __has_include(<memory_resource>)
#include <memory_resource>
#define HEAPSWITCH_HAVE_MEMORY_RESOURCE 1
#endif
#endif

namespace heapswitch {
namespace detail {

/* One lookup per symbol and process (a thread-safe function-local static). */
template <typename Function> Function lookup(const char *name)
{
    /* POSIX guarantees object and function pointers convert through dlsym. */
    return reinterpret_cast<Function>(dlsym(RTLD_DEFAULT, name));
}

typedef void (*void_function)();
typedef const char *(*string_function)();

inline void_function request_done_function()
{
    static const void_function function = lookup<void_function>("heapswitch_request_done");
    return function;
}

inline string_function backend_name_function()
{
    static const string_function function = lookup<string_function>("heapswitch_backend_name");
    return function;
}

inline string_function version_function()
{
    static const string_function function = lookup<string_function>("heapswitch_version");
    return function;
}

} // namespace detail

/* Whether libheapswitch is loaded in this process. */
inline bool loaded() { return detail::request_done_function() != nullptr; }

/* Marks the end of one request (or unit of work); ignored without heapswitch. */
inline void request_done()
{
    if (detail::void_function function = detail::request_done_function())
        function();
}

/* The backend serving this process ("system", "jemalloc", "mimalloc",
 * "arena"), or nullptr without heapswitch. The string is static. */
inline const char *backend_name()
{
    detail::string_function function = detail::backend_name_function();
    return function ? function() : nullptr;
}

/* The version of the loaded libheapswitch, or nullptr without it. */
inline const char *version()
{
    detail::string_function function = detail::version_function();
    return function ? function() : nullptr;
}

/* One request: marked done when the scope ends, also when an exception
 * leaves it (its allocations were made). */
class request_scope {
public:
    request_scope() = default;
    request_scope(const request_scope &) = delete;
    request_scope &operator=(const request_scope &) = delete;
    ~request_scope() { request_done(); }
};

namespace detail {

/* heapswitch.h's explicit arena API, usable only when all of it is there.
 * The arena is opaque: void * is the C struct pointer's representation. */
struct arena_api {
    void *(*create)(std::size_t chunk_size);
    void *(*alloc_aligned)(void *arena, std::size_t alignment, std::size_t size);
    void (*reset)(void *arena);
    void (*destroy)(void *arena);
    std::size_t (*bytes_held)(const void *arena);

    bool complete() const { return create && alloc_aligned && reset && destroy && bytes_held; }
};

inline const arena_api &arena_functions()
{
    static const arena_api api = {
        lookup<void *(*)(std::size_t)>("heapswitch_arena_create"),
        lookup<void *(*)(void *, std::size_t, std::size_t)>("heapswitch_arena_alloc_aligned"),
        lookup<void (*)(void *)>("heapswitch_arena_reset"),
        lookup<void (*)(void *)>("heapswitch_arena_destroy"),
        lookup<std::size_t (*)(const void *)>("heapswitch_arena_bytes_held"),
    };
    return api;
}

/* A chunk of the arena used without heapswitch; its blocks follow it. */
struct own_chunk {
    own_chunk *next; // older chunk
    std::size_t size; // bytes, this header included
};

} // namespace detail

/* Request-scoped memory: alloc() during a request, then reset() frees every
 * block at once (keeping the first chunk for the next request). With
 * heapswitch loaded it is heapswitch's explicit arena (memory from mmap, no
 * malloc call whatever the backend); without it, a bump allocator over
 * chunks from ::operator new with the same behaviour. Used by one thread
 * at a time; blocks are never freed one by one, and objects placed in it
 * are not destroyed by reset(). Move-only; a moved-from arena is empty and
 * usable (without heapswitch's arena). No exceptions: alloc() returns
 * nullptr when out of memory or for an alignment not a power of two. */
class arena {
public:
    /* Grows by chunks of chunk_size bytes (0: 64 KiB, as heapswitch's). */
    explicit arena(std::size_t chunk_size = 0)
        : chunk_size_(chunk_size ? chunk_size : 64 * 1024)
    {
        const detail::arena_api &api = detail::arena_functions();
        if (api.complete())
            heapswitch_ = api.create(chunk_size_);
    }
    arena(const arena &) = delete;
    arena &operator=(const arena &) = delete;
    arena(arena &&other) noexcept { take(other); }
    arena &operator=(arena &&other) noexcept
    {
        if (this != &other) {
            release();
            take(other);
        }
        return *this;
    }
    ~arena() { release(); }

    /* size bytes aligned to alignment (a power of two), valid until reset(). */
    void *alloc(std::size_t size, std::size_t alignment = alignof(std::max_align_t)) noexcept
    {
        if (alignment == 0 || (alignment & (alignment - 1)) != 0)
            return nullptr;
        if (heapswitch_)
            return detail::arena_functions().alloc_aligned(heapswitch_, alignment, size);
        return own_alloc(size, alignment);
    }

    /* Frees every block at once; keeps the first chunk for the next request. */
    void reset() noexcept
    {
        if (heapswitch_) {
            detail::arena_functions().reset(heapswitch_);
            return;
        }
        free_own_chunks_after_first();
        bump_ = first_ ? reinterpret_cast<char *>(first_ + 1) : nullptr;
        end_ = first_ ? reinterpret_cast<char *>(first_) + first_->size : nullptr;
    }

    /* Bytes the arena holds (from the OS, or from ::operator new). */
    std::size_t bytes_held() const noexcept
    {
        if (heapswitch_)
            return detail::arena_functions().bytes_held(heapswitch_);
        std::size_t held = 0;
        for (const detail::own_chunk *chunk = newest_; chunk; chunk = chunk->next)
            held += chunk->size;
        return held;
    }

    /* Whether heapswitch's own explicit arena serves this arena. */
    bool is_heapswitch() const noexcept { return heapswitch_ != nullptr; }

private:
    void *heapswitch_ = nullptr;
    std::size_t chunk_size_ = 64 * 1024;
    /* Without heapswitch: chunks newest first, the first (oldest) kept at reset. */
    detail::own_chunk *newest_ = nullptr;
    detail::own_chunk *first_ = nullptr;
    char *bump_ = nullptr;
    char *end_ = nullptr;

    void take(arena &other) noexcept
    {
        heapswitch_ = other.heapswitch_;
        chunk_size_ = other.chunk_size_;
        newest_ = other.newest_;
        first_ = other.first_;
        bump_ = other.bump_;
        end_ = other.end_;
        other.heapswitch_ = nullptr;
        other.newest_ = other.first_ = nullptr;
        other.bump_ = other.end_ = nullptr;
    }

    void release() noexcept
    {
        if (heapswitch_) {
            detail::arena_functions().destroy(heapswitch_);
            heapswitch_ = nullptr;
        }
        free_own_chunks_after_first();
        if (first_)
            ::operator delete(first_);
        newest_ = first_ = nullptr;
        bump_ = end_ = nullptr;
    }

    void free_own_chunks_after_first() noexcept
    {
        while (newest_ && newest_ != first_) {
            detail::own_chunk *older = newest_->next;
            ::operator delete(newest_);
            newest_ = older;
        }
    }

    /* Carves from the current chunk, in integers so that no out-of-range
     * pointer is ever formed. */
    void *carve(std::size_t size, std::size_t alignment) noexcept
    {
        if (!bump_)
            return nullptr;
        std::uintptr_t start = (reinterpret_cast<std::uintptr_t>(bump_) + alignment - 1) & ~(alignment - 1);
        std::uintptr_t end = reinterpret_cast<std::uintptr_t>(end_);
        if (start < reinterpret_cast<std::uintptr_t>(bump_) || start > end || size > end - start)
            return nullptr;
        char *block = bump_ + (start - reinterpret_cast<std::uintptr_t>(bump_));
        bump_ = block + size;
        return block;
    }

    void *own_alloc(std::size_t size, std::size_t alignment) noexcept
    {
        if (void *block = carve(size, alignment))
            return block;
        const std::size_t header = sizeof(detail::own_chunk);
        if (size > SIZE_MAX / 2 - alignment - header)
            return nullptr;
        std::size_t needed = header + alignment + size;
        if (needed < chunk_size_)
            needed = chunk_size_;
        void *memory = ::operator new(needed, std::nothrow);
        if (!memory)
            return nullptr;
        detail::own_chunk *chunk = static_cast<detail::own_chunk *>(memory);
        chunk->next = newest_;
        chunk->size = needed;
        newest_ = chunk;
        if (!first_)
            first_ = chunk;
        bump_ = reinterpret_cast<char *>(chunk + 1);
        end_ = static_cast<char *>(memory) + needed;
        return carve(size, alignment);
    }
};

#ifdef HEAPSWITCH_HAVE_MEMORY_RESOURCE
/* A std::pmr::memory_resource over an arena (which must outlive it):
 * std::pmr containers allocate from the arena, deallocation is a no-op,
 * and one reset() of the arena frees a whole request's memory — after the
 * containers using it are gone. Throws std::bad_alloc when the arena
 * cannot allocate, as the memory_resource contract asks. */
class arena_resource : public std::pmr::memory_resource {
public:
    explicit arena_resource(heapswitch::arena &arena) noexcept : arena_(&arena) {}
    heapswitch::arena &get_arena() const noexcept { return *arena_; }

private:
    heapswitch::arena *arena_;

    void *do_allocate(std::size_t bytes, std::size_t alignment) override
    {
        void *block = arena_->alloc(bytes, alignment);
        if (!block)
            throw_bad_alloc();
        return block;
    }
    void do_deallocate(void *, std::size_t, std::size_t) override {}
    bool do_is_equal(const std::pmr::memory_resource &other) const noexcept override
    {
        return this == &other;
    }

    [[noreturn]] static void throw_bad_alloc()
    {
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
        throw std::bad_alloc();
#else
        std::abort(); // built without exceptions: nothing else keeps the contract
#endif
    }
};
#endif


} // namespace heapswitch

#endif
