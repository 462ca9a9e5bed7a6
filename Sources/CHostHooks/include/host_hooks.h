/*
 * host_hooks.h - the eight hooks of progs/include/hooks.h (whose prototypes and context types it
 * includes), defined by this C target as bpfrun hooks (entry-patchable), for the tests and for
 * bpfrun. Their bodies are simple stand-ins (see host_hooks.c); issue 11 gives them real
 * behaviour.
 */
#ifndef BPFRUN_HOST_HOOKS_H
#define BPFRUN_HOST_HOOKS_H

#include "../../../progs/include/hooks.h"

/* How many times the calling thread ran a hook's original body (any of the eight). */
__u64 host_hooks_original_calls(void);

#endif
