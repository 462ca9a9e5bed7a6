/* The timing loops built with -mretpoline: retpoline_* of hook_bench.h (HookHost). */
#ifndef HOOK_LOOPS_RETPOLINE_H
#define HOOK_LOOPS_RETPOLINE_H
#include "hook_bench.h"
#endif
