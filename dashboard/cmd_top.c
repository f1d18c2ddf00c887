#include "config.h"
#include "dashboard/command.h"
static int run(int argc, char **argv) { (void)argc; (void)argv; return 1; }
const struct hsw_command hsw_command_top = { .name = "top", .usage = "", .summary = "live dashboard", .run = run };
