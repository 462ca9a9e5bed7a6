#include "attach_test_host.h"

#include "bpfrun_attach.h"

static __thread uint64_t original_calls;

uint64_t attach_test_host_original_calls(void) { return original_calls; }

BPFRUN_HOOK(long, widen_probe, BPFRUN_HOOK_OVERRIDABLE_ERRNO, int8_t a, uint8_t b, int16_t c, uint16_t d, uint32_t e)
{
	original_calls++;
	return (long)a + b + c + d + e;
}

BPFRUN_HOOK(int, reenter_probe, BPFRUN_HOOK_OVERRIDABLE_ERRNO, int value)
{
	original_calls++;
	return value < 0 ? value : 0;
}

/* The original of swift_policy is the Swift function swift_policy_body (AttachTests). */
BPFRUN_STATIC_CALL_HOOK(int, swift_policy, BPFRUN_HOOK_OVERRIDABLE_ERRNO, swift_policy_body, int a, int b)

/* Sites that must be refused: gcc's five 1-byte NOPs, a CET entry (endbr64 before the NOP), and a
 * 5-byte NOP that crosses an aligned 8-byte word. */
__asm__(".pushsection .text.attach_test_bad_sites,\"ax\",@progbits\n"
	".p2align 4\n"
	".globl gcc_style_hook\n.type gcc_style_hook,@function\ngcc_style_hook:\n"
	"\t.byte 0x90, 0x90, 0x90, 0x90, 0x90\n\tmovl %edi, %eax\n\tret\n"
	".p2align 4\n"
	".globl cet_hook\n.type cet_hook,@function\ncet_hook:\n"
	"\tendbr64\n\t.byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n\tmovl %edi, %eax\n\tret\n"
	".p2align 4\n"
	"\t.byte 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc\n"
	".globl straddling_hook\n.type straddling_hook,@function\nstraddling_hook:\n"
	"\t.byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n\tmovl %edi, %eax\n\tret\n"
	".popsection\n");

BPFRUN_HOOK_RECORD(gcc_style_hook, BPFRUN_SITE_ENTRY_NOP, BPFRUN_HOOK_OBSERVE_ONLY)
BPFRUN_HOOK_RECORD(cet_hook, BPFRUN_SITE_ENTRY_NOP, BPFRUN_HOOK_OBSERVE_ONLY)
BPFRUN_HOOK_RECORD(straddling_hook, BPFRUN_SITE_ENTRY_NOP, BPFRUN_HOOK_OBSERVE_ONLY)
