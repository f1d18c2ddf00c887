/* A shared library for tests/siteview/sitegen: a call site inside a library
 * the program links, so a stack crosses a module boundary. */
#include "tests/siteview/sitegen.h"

__attribute__((noinline)) int sitegen_library_site(sitegen_capture_fn capture, int which)
{
    int taken = capture(which, 0);

    return taken + 1; /* not a tail call: this frame stays on the stack */
}
