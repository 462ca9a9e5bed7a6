// BTF test program: STRUCT/UNION with bitfields and anonymous members, multi-dimensional, zero-length and flexible arrays, FWD, typedef chains, function pointers (varargs too), packed and over-aligned structs.
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

struct opaque;
union opaque_u;
struct inner { int a; char b; };
struct bits {
    unsigned int a: 3;
    unsigned int b: 5;
    int c: 7;
    unsigned int : 0;
    unsigned long long d: 40;
    char e;
    unsigned int : 4;
    unsigned short f: 9;
    enum { BE_A, BE_B } g: 2;
    _Bool h: 1;
};
struct outer {
    int x;
    struct inner in;
    union { int u_i; float u_f; };
    struct { short s1; short s2; };
    struct inner arr[4];
    int matrix[2][3];
    char cube[2][3][4];
    struct opaque *op;
    union opaque_u *opu;
    struct outer *self;
    int (*fnptr)(int, char);
    void (*vfn)(void);
    long (*varfn)(int, ...);
    int (*(*fp_ret_fp)(int))(long);
    char *(*arr_of_fp[3])(void);
    int zero_len[0];
};
struct flex { __u32 n; __u32 items[]; };
union un { int i; char c[8]; struct inner s; };
typedef struct outer outer_t;
typedef struct { int q; } anon_t;
typedef union { long l; } anon_u_t;
typedef int myint;
typedef myint myint2;
typedef const myint2 cmyint;
typedef int arr_t[10];
typedef int (*cb_t)(void *, long);
typedef void fn_t(int);
struct __attribute__((packed)) packed { char a; int b; short c; };
struct aligned { char a; long b __attribute__((aligned(16))); };
struct __attribute__((aligned(32))) aligned_struct { int a; };
struct with_anon_bits { int a; struct { int b: 4; int c: 4; }; union { int d: 3; char e; }; };

struct outer g_outer;
struct flex *g_flex;
union un g_un;
outer_t g_outer_t;
anon_t g_anon;
anon_u_t g_anon_u;
myint2 g_myint2;
cmyint g_cmyint = 1;
arr_t g_arr;
cb_t g_cb;
fn_t *g_fn;
struct bits g_bits;
struct packed g_packed;
struct aligned g_aligned;
struct aligned_struct g_aligned_struct;
struct with_anon_bits g_wab;
struct opaque *g_opaque;

char LICENSE[] SEC("license") = "GPL";

SEC("socket")
int prog(void *ctx) { return g_outer.x + g_bits.a; }
