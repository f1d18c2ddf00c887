#include "config.h"
#include "dashboard/command.h"
static int run(int argc, char **argv) { (void)argc; (void)argv; return 1; }
const struct hsw_command hsw_command_ab = { .name = "ab", .usage = "", .summary = "compare backends", .run = run };
