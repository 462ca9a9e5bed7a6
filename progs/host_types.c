// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * host_types.c - the host's context types as BTF, and nothing else: no programs.
 *
 * The attach layer will resolve CO-RE relocations against the BTF of the hook descriptors,
 * i.e. exactly the types of hooks.h. Until then, tests load this object's BTF as that target
 * ("CO-RE against a target BTF given at load time"). A variable of each type roots it in BTF.
 */
#include "hooks.h"

struct inode host_inode;
struct file host_file;
struct sock_addr host_sock_addr;
struct request host_request;
