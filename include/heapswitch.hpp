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
 * C++11 or later. On glibc before 2.34, link with -ldl.
 */
#ifndef HEAPSWITCH_HPP
#define HEAPSWITCH_HPP

#include <dlfcn.h>

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

} // namespace heapswitch

#endif
