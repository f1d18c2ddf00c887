/* Marks requests through include/heapswitch.hpp, for tests/bindings/cxx.sh:
 * REQUESTS requests (half with request_scope, half with request_done()),
 * each with exactly 3 operator new calls; prints the same line with or
 * without heapswitch, the backend on stderr, and exits with STATUS.
 * Built without libheapswitch, with -Wall -Wextra -Werror, as C++11.
 *
 *   cxx_marks REQUESTS STATUS
 */
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "include/heapswitch.hpp"

/* The blocks escape through it, so the compiler cannot elide new and delete. */
static void *volatile escaped;

static unsigned long work(unsigned long i)
{
    std::unique_ptr<unsigned long> a(new unsigned long(i));
    std::unique_ptr<unsigned long> b(new unsigned long(i + 1));
    std::unique_ptr<unsigned long[]> c(new unsigned long[4]());
    escaped = a.get();
    escaped = b.get();
    escaped = c.get();
    c[3] = *a + *b;
    return c[3];
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        std::fprintf(stderr, "usage: cxx_marks REQUESTS STATUS\n");
        return 2;
    }
    unsigned long requests = std::strtoul(argv[1], nullptr, 10), sum = 0;
    int status = std::atoi(argv[2]);

    for (unsigned long i = 0; i < requests; i++) {
        if (i % 2 == 0) {
            heapswitch::request_scope request;
            sum += work(i);
        } else {
            sum += work(i);
            heapswitch::request_done();
        }
    }
    std::printf("%lu requests, sum %lu\n", requests, sum);
    const char *backend = heapswitch::backend_name();
    if (backend != nullptr)
        std::fprintf(stderr, "backend: %s (heapswitch %s)\n", backend, heapswitch::version());
    else
        std::fprintf(stderr, "backend: none (heapswitch not loaded, loaded() %d)\n", heapswitch::loaded());
    return status;
}
