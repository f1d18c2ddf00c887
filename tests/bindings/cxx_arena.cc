/* heapswitch::arena and arena_resource (include/heapswitch.hpp), for
 * tests/bindings/cxx_arena.sh. Each of REQUESTS requests, marked with
 * request_scope, builds a vector of LINES strings too long for the small
 * string buffer and checksums them:
 *
 *   --arena  std::pmr::vector<std::pmr::string> over an arena_resource,
 *            the arena reset after every request: no malloc call per request
 *   --heap   std::vector<std::string>: exactly LINES + 1 malloc calls
 *
 * Both print the same line, with or without heapswitch; the program then
 * checks alignments (arena::alloc, the resource, an over-aligned element
 * type), that reset() reuses the memory, bad alignments, moves and the
 * memory_resource contract (std::bad_alloc, equality by identity), and
 * prints the problems found (none, on stdout, for the same output without
 * heapswitch). stderr says "backend: NAME ..." and whether heapswitch's
 * arena served. Exits with STATUS, or 1 on a problem.
 * Built without libheapswitch, with -Wall -Wextra -Werror, as C++17.
 *
 *   cxx_arena --arena|--heap REQUESTS STATUS
 */
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory_resource>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "include/heapswitch.hpp"

static const unsigned lines_per_request = 16;
static unsigned problems;
/* Keeps the compiler from dropping an allocation whose result is unused. */
static void *volatile escaped;

static void problem(const char *what, unsigned long detail)
{
    std::printf("problem: %s (%lu)\n", what, detail);
    problems++;
}

static bool aligned(const void *block, std::size_t alignment)
{
    return reinterpret_cast<std::uintptr_t>(block) % alignment == 0;
}

/* One request's work over either kind of vector of strings. */
template <typename Lines> static unsigned long handle(Lines &lines, unsigned long request)
{
    char text[64];
    unsigned long sum = 0;

    lines.reserve(lines_per_request);
    for (unsigned i = 0; i < lines_per_request; i++) {
        int length = std::snprintf(text, sizeof text, "request %06lu line %02u: some header value", request, i);
        lines.emplace_back(text, static_cast<std::size_t>(length));
    }
    for (const auto &line : lines)
        for (char c : line)
            sum = sum * 31 + static_cast<unsigned char>(c);
    return sum;
}

static unsigned long serve(bool use_arena, unsigned long requests, heapswitch::arena &arena)
{
    heapswitch::arena_resource resource(arena);
    unsigned long sum = 0;

    for (unsigned long request = 0; request < requests; request++) {
        heapswitch::request_scope scope;
        if (use_arena) {
            {
                std::pmr::vector<std::pmr::string> lines(&resource);
                sum ^= handle(lines, request);
            }
            arena.reset();
        } else {
            std::vector<std::string> lines;
            sum ^= handle(lines, request);
        }
    }
    return sum;
}

struct alignas(256) cell {
    unsigned char bytes[256];
};

static void check_alignments(heapswitch::arena &arena)
{
    heapswitch::arena_resource resource(arena);

    for (std::size_t alignment = 1; alignment <= 8192; alignment *= 2) {
        void *block = arena.alloc(24, alignment);
        if (block == nullptr || !aligned(block, alignment))
            problem("arena::alloc misaligned", alignment);
        void *from_resource = resource.allocate(40, alignment);
        if (!aligned(from_resource, alignment))
            problem("arena_resource misaligned", alignment);
        arena.alloc(1, 1); // leaves the next bump unaligned
    }
    void *large = arena.alloc(1 << 20, 4096); // larger than a chunk
    if (large == nullptr || !aligned(large, 4096))
        problem("large block misaligned or missing", 1 << 20);
    else
        std::memset(large, 1, 1 << 20);
    if (!aligned(arena.alloc(8), alignof(std::max_align_t)))
        problem("default alignment not honoured", alignof(std::max_align_t));
    {
        std::pmr::vector<cell> cells(3, cell(), &resource);
        if (!aligned(cells.data(), alignof(cell)))
            problem("over-aligned element misaligned", alignof(cell));
    }
    if (arena.alloc(8, 3) != nullptr || arena.alloc(8, 0) != nullptr)
        problem("an alignment not a power of two was accepted", 3);
    arena.reset();
}

/* The memory_resource contract: std::bad_alloc when out of memory, and
 * equality by identity. */
static void check_resource_contract(heapswitch::arena &arena)
{
    heapswitch::arena_resource resource(arena), other(arena);
    bool threw = false;

    try {
        escaped = resource.allocate(SIZE_MAX / 2, 16);
    } catch (const std::bad_alloc &) {
        threw = true;
    }
    if (!threw)
        problem("an impossible allocation did not throw std::bad_alloc", 0);
    if (!resource.is_equal(resource) || resource.is_equal(other) || resource == other)
        problem("resources are not equal by identity", 0);
    if (&resource.get_arena() != &arena)
        problem("get_arena() is not the arena", 0);
}

static void check_reset_and_move(heapswitch::arena &arena)
{
    arena.reset();
    void *first = arena.alloc(100);
    std::size_t held = arena.bytes_held();
    if (held < 100)
        problem("bytes_held below what was allocated", held);
    for (int round = 0; round < 3; round++) {
        arena.alloc(200 * 1024); // past the first chunk
        arena.reset();
        if (arena.alloc(100) != first)
            problem("reset does not reuse the first chunk", round);
        if (arena.bytes_held() != held)
            problem("reset does not give back the extra chunks", arena.bytes_held());
    }
    bool was_heapswitch = arena.is_heapswitch();
    heapswitch::arena moved(std::move(arena));
    if (moved.is_heapswitch() != was_heapswitch || arena.is_heapswitch() || arena.bytes_held() != 0)
        problem("a move did not transfer the arena", moved.bytes_held());
    if (!aligned(arena.alloc(32, 64), 64)) // a moved-from arena stays usable
        problem("a moved-from arena cannot allocate", 0);
    arena = std::move(moved);
    if (arena.is_heapswitch() != was_heapswitch || arena.bytes_held() != held)
        problem("a move assignment did not transfer the arena", arena.bytes_held());
}

int main(int argc, char **argv)
{
    if (argc != 4 || (std::strcmp(argv[1], "--arena") != 0 && std::strcmp(argv[1], "--heap") != 0)) {
        std::fprintf(stderr, "usage: cxx_arena --arena|--heap REQUESTS STATUS\n");
        return 2;
    }
    bool use_arena = std::strcmp(argv[1], "--arena") == 0;
    unsigned long requests = std::strtoul(argv[2], nullptr, 10);
    int status = std::atoi(argv[3]);

    heapswitch::arena arena;
    unsigned long sum = serve(use_arena, requests, arena);
    std::printf("%lu requests, checksum %lu\n", requests, sum);
    check_alignments(arena);
    check_resource_contract(arena);
    check_reset_and_move(arena);
    std::printf("%u problems\n", problems);

    const char *backend = heapswitch::backend_name();
    std::fprintf(stderr, "backend: %s (arena: %s)\n", backend ? backend : "none",
                 arena.is_heapswitch() ? "heapswitch" : "own");
    return problems ? 1 : status;
}
