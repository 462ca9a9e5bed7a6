// The attach tests' host BTF: the eight hooks of hooks.h (as progs/host_hooks.c declares them)
// plus the test host's own hooks (Tests/AttachTestHost). The bodies are never run.
#include "../../../progs/host_hooks.c"

typedef signed char int8_t;
typedef unsigned char uint8_t;
typedef short int16_t;
typedef unsigned short uint16_t;
typedef unsigned int uint32_t;

#define TEST_HOOK(ret, name, ...) __attribute__((noinline)) ret name(__VA_ARGS__) { return 0; }
TEST_HOOK(long, widen_probe, int8_t a, uint8_t b, int16_t c, uint16_t d, uint32_t e)
TEST_HOOK(int, swift_policy, int a, int b)
TEST_HOOK(int, reenter_probe, int value)
TEST_HOOK(int, gcc_style_hook, int a)
TEST_HOOK(int, cet_hook, int a)
TEST_HOOK(int, straddling_hook, int a)
