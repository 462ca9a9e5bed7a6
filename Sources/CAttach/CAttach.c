#define _GNU_SOURCE
#include "bpfrun_attach.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- hook records ------------------------------------------------------------------------ */

extern const struct bpfrun_hook_record __start_bpfrun_hooks[] __attribute__((weak));
extern const struct bpfrun_hook_record __stop_bpfrun_hooks[] __attribute__((weak));

const struct bpfrun_hook_record *bpfrun_hook_records(size_t *count) {
	if (!__start_bpfrun_hooks || !__stop_bpfrun_hooks) {
		*count = 0;
		return NULL;
	}
	*count = (size_t)(__stop_bpfrun_hooks - __start_bpfrun_hooks);
	return __start_bpfrun_hooks;
}

/* ---- per-thread state --------------------------------------------------------------------- */

static __thread struct bpfrun_thread_state thread_state __attribute__((tls_model("initial-exec")));

/* Registered threads, linked through `next`, under `registry_lock`. */
static struct bpfrun_thread_state *registry;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;

intptr_t bpfrun_thread_state_offset(void) {
	return (intptr_t)&thread_state - (intptr_t)__builtin_thread_pointer();
}

/* At thread exit: out of the registry before its TLS goes away. */
static void unregister_thread(void *state) {
	pthread_mutex_lock(&registry_lock);
	for (struct bpfrun_thread_state **link = &registry; *link; link = &(*link)->next) {
		if (*link == state) {
			*link = ((struct bpfrun_thread_state *)state)->next;
			break;
		}
	}
	pthread_mutex_unlock(&registry_lock);
}

static void make_exit_key(void) { pthread_key_create(&exit_key, unregister_thread); }

void bpfrun_register_thread(void) {
	if (thread_state.registered) return;
	pthread_once(&exit_key_once, make_exit_key);
	pthread_setspecific(exit_key, &thread_state);
	pthread_mutex_lock(&registry_lock);
	thread_state.next = registry;
	registry = &thread_state;
	__atomic_store_n(&thread_state.registered, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&registry_lock);
}

size_t bpfrun_busy_threads(uint32_t hook, struct bpfrun_busy_thread *out, size_t capacity) {
	size_t count = 0;
	pthread_mutex_lock(&registry_lock);
	for (struct bpfrun_thread_state *thread = registry; thread; thread = thread->next) {
		uint64_t quiescent = __atomic_load_n(&thread->quiescent[hook], __ATOMIC_ACQUIRE);
		if (__atomic_load_n(&thread->depth[hook], __ATOMIC_ACQUIRE) == 0) continue;
		if (count < capacity) out[count] = (struct bpfrun_busy_thread){thread, quiescent};
		count++;
	}
	pthread_mutex_unlock(&registry_lock);
	return count;
}

int bpfrun_threads_left(uint32_t hook, const struct bpfrun_busy_thread *busy, size_t count) {
	int left = 1;
	pthread_mutex_lock(&registry_lock);
	for (size_t i = 0; i < count && left; i++) {
		for (struct bpfrun_thread_state *thread = registry; thread; thread = thread->next) {
			if (thread != busy[i].thread) continue;
			uint64_t quiescent = __atomic_load_n(&thread->quiescent[hook], __ATOMIC_ACQUIRE);
			uint64_t depth = __atomic_load_n(&thread->depth[hook], __ATOMIC_ACQUIRE);
			if (depth != 0 && quiescent == busy[i].quiescent) left = 0;
			break;
		}
	}
	pthread_mutex_unlock(&registry_lock);
	return left;
}

uint64_t bpfrun_thread_depth(uint32_t hook) { return thread_state.depth[hook]; }

/* ---- patching ------------------------------------------------------------------------------ */

#ifndef MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE
#define MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE (1 << 5)
#define MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE (1 << 6)
#endif

int bpfrun_membarrier_register(void) {
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0) != 0) return errno;
	return 0;
}

int bpfrun_membarrier_sync_core(void) {
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0) != 0) return errno;
	return 0;
}

__attribute__((no_sanitize("thread", "address"))) void bpfrun_read_code(const void *code, void *out, size_t count) {
	const volatile uint8_t *from = code;
	uint8_t *to = out;
	for (size_t i = 0; i < count; i++) to[i] = from[i];
}

int bpfrun_patch_code_word(uint64_t *word, uint64_t old_value, uint64_t new_value) {
	long page_size = sysconf(_SC_PAGESIZE);
	void *page = (void *)((uintptr_t)word & ~(uintptr_t)(page_size - 1));
	/* Other threads may be running code on this page: it stays executable while writable. */
	if (mprotect(page, (size_t)page_size, PROT_READ | PROT_WRITE | PROT_EXEC) != 0) return errno;
	int result = 0;
	/* One `lock cmpxchg` on the aligned word, written out so that no sanitizer instruments it
	 * (code pages lie outside the memory a sanitizer keeps shadow state for). */
	uint64_t expected = old_value;
	uint8_t replaced;
	__asm__ volatile("lock cmpxchgq %3, %1\n\tsete %0"
			 : "=q"(replaced), "+m"(*word), "+a"(expected)
			 : "r"(new_value)
			 : "memory", "cc");
	if (!replaced) result = -1;
	if (mprotect(page, (size_t)page_size, PROT_READ | PROT_EXEC) != 0 && result == 0) result = errno;
	return result;
}
