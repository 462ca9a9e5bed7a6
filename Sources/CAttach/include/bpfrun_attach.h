/*
 * bpfrun_attach.h - what a host needs to declare hooks bpfrun can attach programs to, and the
 * few things the attach layer does below Swift (per-thread state reached from generated code,
 * membarrier, writing code bytes).
 *
 * A C hook:
 *
 *     BPFRUN_HOOK(int, file_open, BPFRUN_HOOK_OVERRIDABLE_ERRNO, struct file *file, int flags)
 *     {
 *         return 0;
 *     }
 *
 * defines `file_open` with one 5-byte NOP at its entry (clang's patchable_function_entry(5, 0))
 * and records its descriptor (name, site, which program kinds and overrides it allows) in the
 * `bpfrun_hooks` section, where the runtime finds it. Its BTF prototype comes from the host's
 * BTF (the same declarations compiled for BPF).
 *
 * A static-call hook, for hosts whose functions cannot reserve entry NOPs (Swift):
 *
 *     BPFRUN_STATIC_CALL_HOOK(int, swift_policy, BPFRUN_HOOK_OBSERVE_ONLY, swift_policy_body, int a)
 *
 * declares `swift_policy`, a stub whose only instruction is `jmp swift_policy_body` (the
 * original, e.g. a Swift `@_cdecl("swift_policy_body")` function); callers call the stub
 * directly, and attaching retargets its jmp.
 */
#ifndef BPFRUN_ATTACH_H
#define BPFRUN_ATTACH_H

#include <stdint.h>
#include <stddef.h>

/* Program kinds a hook may allow (bits of bpfrun_hook_record.kinds). */
#define BPFRUN_KIND_FENTRY 0x1u
#define BPFRUN_KIND_FEXIT 0x2u
#define BPFRUN_KIND_FMOD_RET 0x4u
#define BPFRUN_KIND_LSM 0x8u

/* How the site is patched. */
#define BPFRUN_SITE_ENTRY_NOP 0 /* the function starts with one 5-byte NOP */
#define BPFRUN_SITE_STATIC_CALL 1 /* a stub holding one `jmp original` */

/* One hook as the host declares it. */
struct bpfrun_hook_record {
	const char *name;
	const void *site;
	uint32_t site_kind;
	uint32_t kinds;
	/* Whether programs may replace the return value (fmod_ret, lsm), and within which range. */
	uint32_t overridable;
	int64_t override_min;
	int64_t override_max;
};

/* Policies: the kinds allowed and the override range. */
#define BPFRUN_HOOK_OVERRIDABLE_ERRNO \
	BPFRUN_KIND_FENTRY | BPFRUN_KIND_FEXIT | BPFRUN_KIND_FMOD_RET | BPFRUN_KIND_LSM, 1, -4095, 0
#define BPFRUN_HOOK_OBSERVE_ONLY BPFRUN_KIND_FENTRY | BPFRUN_KIND_FEXIT, 0, 0, 0

#define BPFRUN_HOOK_RECORD(name, site_kind, ...) \
	__attribute__((used, retain, section("bpfrun_hooks"), aligned(8))) \
	static const struct bpfrun_hook_record bpfrun_hook_record_##name = { #name, (const void *)name, site_kind, __VA_ARGS__ };

#define BPFRUN_HOOK(ret, name, policy, ...) \
	__attribute__((patchable_function_entry(5, 0), noinline, used, aligned(16))) ret name(__VA_ARGS__); \
	BPFRUN_HOOK_RECORD(name, BPFRUN_SITE_ENTRY_NOP, policy) \
	__attribute__((patchable_function_entry(5, 0), noinline, used, aligned(16))) ret name(__VA_ARGS__)

#define BPFRUN_STATIC_CALL_HOOK(ret, name, policy, original, ...) \
	ret name(__VA_ARGS__); \
	ret original(__VA_ARGS__); \
	__asm__(".pushsection .text.bpfrun_static_call." #name ",\"ax\",@progbits\n" \
		".globl " #name "\n.type " #name ",@function\n.p2align 4\n" #name ":\n" \
		"\tjmp " #original "\n\tud2\n.size " #name ", . - " #name "\n.popsection\n"); \
	BPFRUN_HOOK_RECORD(name, BPFRUN_SITE_STATIC_CALL, policy)

/* The hooks this process declares (every record of the bpfrun_hooks section). */
const struct bpfrun_hook_record *bpfrun_hook_records(size_t *count);

/* ---- per-thread state, read and written by generated code through fs: --------------- */

/* Hooks a process may have (each gets an index). */
#define BPFRUN_MAX_HOOKS 256

/* The attach layer's state of one thread, in static TLS at a fixed offset from the thread
 * pointer: generated code reaches it as [fs:0 + offset]. */
struct bpfrun_thread_state {
	/* Non-zero once the thread is registered (the reclaimer sees its counters). */
	uint64_t registered;
	/* Per hook: trampolines of the hook this thread is inside (nested calls count each). */
	uint64_t depth[BPFRUN_MAX_HOOKS];
	/* Per hook: how many times depth went back to 0. */
	uint64_t quiescent[BPFRUN_MAX_HOOKS];
	/* Per hook: non-zero while the thread runs the hook's programs (the recursion guard). */
	uint8_t active[BPFRUN_MAX_HOOKS];
	struct bpfrun_thread_state *next;
};

/* The offset of the calling thread's state from its thread pointer (the same in every thread). */
intptr_t bpfrun_thread_state_offset(void);
/* Registers the calling thread (called from a hook's entry the first time the thread enters one). */
void bpfrun_register_thread(void);

/* A thread inside a hook when a trampoline was retired: the trampoline may be freed once the
 * thread has left the hook (its quiescent count moved or its depth is 0). */
struct bpfrun_busy_thread {
	const struct bpfrun_thread_state *thread;
	uint64_t quiescent;
};
/* Fills `out` (capacity `capacity`) with the threads inside hook `hook`; returns how many there
 * are (which may exceed `capacity`: call again with more room). */
size_t bpfrun_busy_threads(uint32_t hook, struct bpfrun_busy_thread *out, size_t capacity);
/* Whether every thread of `busy` has left hook `hook` since (or exited). */
int bpfrun_threads_left(uint32_t hook, const struct bpfrun_busy_thread *busy, size_t count);

/* The recursion guard's flag and depth of the calling thread, for tests. */
uint64_t bpfrun_thread_depth(uint32_t hook);

/* ---- code patching ---------------------------------------------------------------------- */

/* Registers the process for membarrier(PRIVATE_EXPEDITED_SYNC_CORE): 0, or an errno. */
int bpfrun_membarrier_register(void);
/* Serialises every running thread of the process (after a code change): 0, or an errno. */
int bpfrun_membarrier_sync_core(void);
/* Replaces the aligned 8-byte word at `word` (in code pages, made writable for the store and
 * read+execute again after) by `new_value` if it holds `old_value`: 0, -1 when it did not
 * hold it (nothing written), or an errno. */
int bpfrun_patch_code_word(uint64_t *word, uint64_t old_value, uint64_t new_value);

/* Copies `count` bytes of code at `code` to `out` (not instrumented by sanitizers: code pages lie
 * outside the memory they keep shadow state for). */
void bpfrun_read_code(const void *code, void *out, size_t count);

/* Cycles (rdtsc), for run statistics and benchmarks. */
static inline uint64_t bpfrun_cycles(void) { return __builtin_ia32_rdtsc(); }

#endif
