#!/usr/bin/env python3
"""Builds the crash regressions of Corpus/Load: small C programs compiled with clang, stripped of DWARF, then
patched to plant the malformation each crash needed (the same ones Tests/ObjectTests/MalformedObjectTests.swift
plants). Usage, from FuzzTesting: python3 Scripts/make-load-regressions.py Corpus/Load
"""
import os, struct, subprocess, sys, tempfile
OUT = sys.argv[1] if len(sys.argv) > 1 else '.'
TMP = tempfile.mkdtemp(prefix='load-regressions-')
HDR = '#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\nchar LICENSE[] SEC("license") = "GPL";\n'
def compile(src, name):
    path = os.path.join(TMP, name)
    open(path + '.c', 'w').write(HDR + src)
    # Compiled in the scratch directory by bare name, so that the objects do not depend on where it is.
    subprocess.check_call(['clang', '-O2', '-g', '-target', 'bpf', '-I/usr/include/x86_64-linux-gnu',
                           '-ffile-prefix-map=' + TMP + '=.', '-c', name + '.c', '-o', name + '.o'], cwd=TMP)
    subprocess.check_call(['llvm-objcopy', '--strip-debug', path + '.o', path + '.o'])
    return bytearray(open(path + '.o', 'rb').read())
def sections(b):
    shoff, = struct.unpack_from('<Q', b, 40); shnum, shstrndx = struct.unpack_from('<HH', b, 60)
    hdrs = [struct.unpack_from('<IIQQQQIIQQ', b, shoff + 64 * i) for i in range(shnum)]
    stroff = hdrs[shstrndx][4]
    out = []
    for i, h in enumerate(hdrs):
        n = b[stroff + h[0]:b.index(0, stroff + h[0])].decode()
        out.append(dict(index=i, name=n, type=h[1], offset=h[4], size=h[5], link=h[6], hdr=shoff + 64 * i))
    return out
def sec(b, name): return next(s for s in sections(b) if s['name'] == name)
def symbols(b):
    ss = sections(b); st = next(s for s in ss if s['type'] == 2); strs = ss[st['link']]
    res = []
    for i in range(st['size'] // 24):
        o = st['offset'] + 24 * i
        name, info, other, shndx, value, size = struct.unpack_from('<IBBHQQ', b, o)
        n = b[strs['offset'] + name:b.index(0, strs['offset'] + name)].decode()
        res.append(dict(name=n, entry=o, value=value, size=size, shndx=shndx))
    return res
def relocs(b, target):
    ss = sections(b); t = sec(b, target)
    for s in ss:
        if s['type'] == 9 and struct.unpack_from('<I', b, s['hdr'] + 44)[0] == t['index']:
            return [struct.unpack_from('<QQ', b, s['offset'] + 16 * i) for i in range(s['size'] // 16)]
    return []
def write(name, b): open(os.path.join(OUT, 'regression-' + name), 'wb').write(b)

# 1. lddw src 5, index 7, no relocation (the reviewer's crash: the binder indexed the program's maps with it)
b = compile('''struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, __u64); } counts SEC(".maps");
SEC("socket") int prog(void *ctx) { unsigned long long m; asm volatile("%0 = 0x1122334455667788 ll" : "=r"(m));
  __u32 key = 0; __u64 *c = bpf_map_lookup_elem(&counts, &key); return (c ? *c : 0) + (int)m; }''', 'pseudo')
s = sec(b, 'socket'); i = b.index(bytes([0x88, 0x77, 0x66, 0x55]), s['offset']) - 4
b[i + 1] = (b[i + 1] & 0x0f) | 0x50; struct.pack_into('<I', b, i + 4, 7)
write('pseudo-map-idx.o', b)

# 2. CO-RE record moved onto the map lddw
b = compile('''#include <bpf/bpf_core_read.h>
struct task { int a0, a1, a2, pid; } __attribute__((preserve_access_index));
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, __u64); } counts SEC(".maps");
SEC("socket") int prog(struct task *t) { __u32 key = 0; __u64 *c = bpf_map_lookup_elem(&counts, &key); return (c ? (int)*c : 0) + bpf_core_field_offset(t->pid); }''', 'core')
maprel = relocs(b, 'socket')[0][0]
s = sec(b, 'socket'); code = b[s['offset']:s['offset'] + s['size']]
movoff = next(k for k in range(0, len(code), 8) if code[k] in (0xb7, 0xb4) and struct.unpack_from('<i', code, k + 4)[0] == 12)
e = sec(b, '.BTF.ext'); n = 0
for o in range(e['offset'], e['offset'] + e['size'] - 15, 4):
    if struct.unpack_from('<I', b, o)[0] == movoff and struct.unpack_from('<I', b, o + 12)[0] == 0:
        struct.pack_into('<I', b, o, maprel); n += 1
assert n == 1, n
write('core-on-map-lddw.o', b)

# 3. .bss NOBITS of 1 TiB
b = compile('''__u64 total; SEC("socket") int prog(void *ctx) { return total; }''', 'bss')
struct.pack_into('<Q', b, sec(b, '.bss')['hdr'] + 32, 1 << 40)
write('huge-bss.o', b)

# 4. CO-RE access index overflow
b = compile('''#include <bpf/bpf_core_read.h>
struct task { int cells[2][2][2][2][2]; char pad[0x1fffff00]; } __attribute__((preserve_access_index));
SEC("socket") int prog(struct task *t) { return bpf_core_field_offset(t->cells[1][1][1][1][1]); }''', 'coreidx')
k = b.index(b'\x000:0:1:1:1:1:1\x00'); b[k + 1:k + 14] = b'9999999999:00'
write('core-index-overflow.o', b)

# 5. BTF map named like the .bss map (hash with 8-byte keys)
b = compile('''struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 4); __type(key, __u64); __type(value, __u64); } fuzz_bss SEC(".maps");
__u64 total; SEC("socket") int prog(void *ctx) { __u64 key = 0; __u64 *v = bpf_map_lookup_elem(&fuzz_bss, &key); return (v ? *v : 0) + total; }''', 'names')
b = bytearray(bytes(b).replace(b'fuzz_bss', b'fuzz.bss'))
write('map-named-like-bss.o', b)

# 6. global variable symbol past .bss
b = compile('''__u64 total; SEC("socket") int prog(void *ctx) { return total; }''', 'var')
sym = next(x for x in symbols(b) if x['name'] == 'total'); struct.pack_into('<Q', b, sym['entry'] + 8, 1 << 63)
write('variable-past-bss.o', b)

# 7. subprogram symbol value 2^63
b = compile('''static __attribute__((noinline)) int helper(int x) { return x * 3; }
SEC("socket") int prog(void *ctx) { return helper((long)ctx); }''', 'sub')
sym = next(x for x in symbols(b) if x['name'] == 'helper'); struct.pack_into('<Q', b, sym['entry'] + 8, 1 << 63)
write('subprogram-past-text.o', b)

# 8. .rodata of type SHT_NULL: no data, while its header's size still covers its variables (the host's global()
#    read past the one-byte map value)
b = compile('''const volatile __u64 limit = 5; SEC("socket") int prog(void *ctx) { return limit; }''', 'nulltype')
struct.pack_into('<I', b, sec(b, '.rodata')['hdr'] + 4, 0)
write('null-type-rodata.o', b)
