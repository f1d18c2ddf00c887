// A C++ call site for tests/siteview/sitegen: a member of a class template
// in a namespace, whose symbol the reader must demangle.
#include "tests/siteview/sitegen.h"

namespace sitegen_demo {
template <typename T> struct Pool {
    __attribute__((noinline)) int grow(sitegen_capture_fn capture, int which)
    {
        int taken = capture(which, 0);
        return taken + static_cast<int>(sizeof(T));
    }
};
} // namespace sitegen_demo

extern "C" int sitegen_cxx_site(sitegen_capture_fn capture, int which)
{
    sitegen_demo::Pool<long> pool;
    return pool.grow(capture, which) + 1;
}
