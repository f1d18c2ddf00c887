#include "config.h"
#include "dashboard/command.h"
static int run(int argc, char **argv) { (void)argc; (void)argv; return 1; }
const struct hsw_command hsw_command_export = { .name = "export", .usage = "", .summary = "serve Prometheus metrics", .run = run };
