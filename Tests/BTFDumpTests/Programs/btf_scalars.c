// BTF test program: INT of every width and encoding (char, bool, __int128), FLOAT (float, double, long double), qualifiers, pointers, ENUM signed/unsigned/1-byte and ENUM64.
#include <linux/types.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>

char c_plain = 1;
signed char c_signed = -1;
unsigned char c_unsigned = 2;
short s_short = -3;
unsigned short s_ushort = 3;
int i_int = -4;
unsigned int i_uint = 4;
long l_long = -5;
unsigned long l_ulong = 5;
long long ll_long = -6;
unsigned long long ll_ulong = 6;
bool b_bool = true;
_Bool b_bool2;
__int128 i128;
unsigned __int128 u128;
float f_float = 1.5f;
double d_double = 2.5;
long double ld_double = 3.5;
__u8 u8v; __s16 s16v; __u32 u32v; __s64 s64v;
const int ci = 7;
volatile int vi;
const volatile int cvi = 9;
int *restrict rp;
const volatile int *cvp;
void *vp;
char **cpp;
const char *const ccp = "x";

enum color { RED, GREEN = 5, BLUE };
enum delta { NEG = -1, ZERO, POS };
enum big { BIG_A = 1, BIG_B = 0x100000000ULL };
enum sbig { SBIG_A = -0x100000001LL, SBIG_B = 2 };
enum umax { UMAX = 0xffffffffu };
enum small8 : unsigned char { S8A = 1, S8B = 200 };
enum neg8 : signed char { N8A = -100, N8B = 100 };
enum { ANON_X = 10, ANON_Y };
enum color gcolor = GREEN;
enum delta gdelta;
enum big gbig;
enum sbig gsbig;
enum umax gumax;
enum small8 gsmall8;
enum neg8 gneg8;
int anon_user = ANON_Y;

char LICENSE[] SEC("license") = "GPL";

SEC("socket")
int prog(void *ctx) { return i_int + c_plain; }
