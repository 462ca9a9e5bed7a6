// Programs the attach layer must refuse, each for its own reason.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__s64 anything;

// No hook of that name.
SEC("fentry/no_such_hook")
int unknown_hook(__u64 *ctx) { return 0; }

// request_handle's status must come from the handler: no override, no lsm.
SEC("fmod_ret/request_handle")
int override_request(__u64 *ctx) { return -1; }

SEC("lsm/request_handle")
int lsm_on_request(__u64 *ctx) { return 0; }

// An LSM program that may return 1, outside [-4095, 0].
SEC("lsm/file_open")
int allow_or_one(__u64 *ctx) { return anything > 0 ? 1 : 0; }

// An fmod_ret program that may return below -4095.
SEC("fmod_ret/file_open")
int modify_out_of_range(__u64 *ctx) { return anything > 0 ? -5000 : 0; }

// Many of these attach to config_set (the 39th is refused).
SEC("fexit/config_set")
int count_config(__u64 *ctx) { return 0; }

// Sites that cannot be patched.
SEC("fentry/gcc_style_hook")
int on_gcc_site(__u64 *ctx) { return 0; }

SEC("fentry/cet_hook")
int on_cet_site(__u64 *ctx) { return 0; }

SEC("fentry/straddling_hook")
int on_straddling_site(__u64 *ctx) { return 0; }

char LICENSE[] SEC("license") = "GPL";
