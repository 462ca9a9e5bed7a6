#include "hook_bench.h"

#define LOOP_PREFIX retpoline_
#include "hook_bench_loops.inc"
