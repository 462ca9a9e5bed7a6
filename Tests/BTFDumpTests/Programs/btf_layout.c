// BTF test program: Layouts the C dumper must reproduce: holes, padding, packed, aligned, wide bitfields, empty structs, name conflicts.
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

struct hole_bits { char a; int : 12; int b : 3; long c; };
struct tail_pad { long a; char b; };
struct __attribute__((packed)) pk1 { char a; long b; };
struct __attribute__((packed, aligned(4))) pk2 { char a; int b; char c; };
struct pk_member { char a; struct pk1 p; char z; };
struct over_aligned { char a; int b __attribute__((aligned(64))); };
struct bf_packed { unsigned a: 1; unsigned b: 31; unsigned c: 2; } __attribute__((packed));
struct bf_wide { unsigned long long a: 63; unsigned long long b: 2; };
struct bf_chars { char a: 3; char b: 5; char c: 2; };
struct nested { struct { struct { int deep; } l2; union { char x; short y; } u; } l1; int arr[0]; };
union big_union { char c; long l; struct { int a, b, c; } s; };
struct fnptrs { void (*a)(void); int (*b)(int (*)(char), ...); void (*(*c)[4])(int); };
typedef struct fnptrs fnptrs_t;
typedef void (*sighandler_t)(int);
typedef sighandler_t handlers[8];
enum e16 : short { E16A = -2, E16B = 300 };
enum e64small : unsigned long long { E64S = 1 };
enum e64u : unsigned long { E64U_A = 1, E64U_B = 0xffffffffffffffffULL };
enum { ANON1 = 1 } anon_enum_var;
struct conflict { int x; };
typedef int conflict;
struct has_enum { enum e16 a; enum e64small b; enum e64u c; };
struct empty {};
union empty_u {};
struct only_flex { int n; char data[]; };
struct int128s { __int128 a; unsigned __int128 b; char c; };
struct volatile_members { volatile int a; const char *const b; int *restrict c; const volatile long d[3]; };
struct float_members { float f; double d; long double ld; char c; };

struct hole_bits g1; struct tail_pad g2; struct pk1 g3; struct pk2 g4; struct pk_member g5;
struct over_aligned g6; struct bf_packed g7; struct bf_wide g8; struct bf_chars g9; struct nested g10;
union big_union g11; fnptrs_t g12; handlers g13; struct has_enum g14; struct conflict g15; conflict g16;
struct empty g17; union empty_u g18; struct only_flex *g19; struct int128s g20; struct volatile_members g21;
struct float_members g22; enum e16 g23; enum e64small g24;

char LICENSE[] SEC("license") = "GPL";
SEC("socket") int entry(void *ctx) { return g1.b; }
