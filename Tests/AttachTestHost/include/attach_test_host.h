/*
 * attach_test_host.h - hooks of the attach tests' host, besides the eight of hooks.h:
 *
 *   widen_probe        integers of each narrow width and signedness, to check the slot layout
 *                      (BPF prototypes, which the host BTF is made of, take at most 5);
 *   swift_policy       a static-call hook whose original is a Swift function;
 *   reenter_probe      a hook a test helper calls again from inside a program;
 *   gcc_style_hook, cet_hook, straddling_hook: sites the attach layer must refuse.
 *
 * Their prototypes are also in Tests/AttachTests/Programs/test_host_btf.c (the host BTF).
 */
#ifndef ATTACH_TEST_HOST_H
#define ATTACH_TEST_HOST_H

#include <stdint.h>

long widen_probe(int8_t a, uint8_t b, int16_t c, uint16_t d, uint32_t e);
int swift_policy(int a, int b);
int reenter_probe(int value);
int gcc_style_hook(int a);
int cet_hook(int a);
int straddling_hook(int a);

/* How many times the calling thread ran widen_probe's and reenter_probe's bodies. */
uint64_t attach_test_host_original_calls(void);

#endif
