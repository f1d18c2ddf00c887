/* The runtime's list of backends, made from backends/list.h. A backend
 * this build lacks stays in the list with the reason, so that errors can
 * say "not in this build" rather than "unknown". */
#include "config.h"

#include <stddef.h>

#include "backends/backend.h"
#include "backends/list.h"

/* Declared for every backend; only a built one is referenced (its
 * DESCRIPTOR), so an unbuilt one needs no definition. */
#define DECLARE(name, built, descriptor, why_not, direct) \
    extern const struct hsw_backend hsw_backend_##name;
HSW_BACKEND_LIST(DECLARE)

#define ENTRY(name, built, descriptor, why_not, direct) \
    {#name, descriptor, (built) ? NULL : (why_not)},
const struct hsw_backend_entry hsw_backend_registry[] = {HSW_BACKEND_LIST(ENTRY)};

const size_t hsw_backend_registry_count =
    sizeof hsw_backend_registry / sizeof hsw_backend_registry[0];
