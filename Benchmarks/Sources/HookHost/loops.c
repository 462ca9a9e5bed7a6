#include "hook_bench.h"

#define LOOP_PREFIX plain_
#include "hook_bench_loops.inc"
