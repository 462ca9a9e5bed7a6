// The one thing Swift cannot express: libbpf's printf-style callback (a va_list), which this file
// formats into a buffer handed on in chunks.
#include "CBTFDumpShim.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

struct bpfrun_btf_c_dump {
    struct btf *btf;
    size_t size;
};

struct output_buffer {
    char data[1 << 16];
    size_t length;
    /// Everything written so far, handed on or buffered.
    size_t total;
    int failed;
    /// Whether the previous callback's format was exactly "(" (a prototype's parameter list).
    int after_open_parenthesis;
    bpfrun_btf_dump_write write;
    void *context;
};

/// The most C text a dump may produce (a whole kernel's vmlinux.h is a few MiB). A struct whose
/// size field claims gigabytes makes libbpf pad it with `long: 64;` lines; stop instead.
static const size_t maximum_output = (size_t)64 << 20;

static void flush(struct output_buffer *buffer) {
    if (buffer->length == 0) return;
    buffer->write(buffer->context, buffer->data, buffer->length);
    buffer->length = 0;
}

/// Appends `length` bytes; text larger than the buffer goes out directly.
static void append(struct output_buffer *buffer, const char *text, size_t length) {
    if (buffer->total + length > maximum_output) {
        buffer->failed = -EFBIG;
        return;
    }
    buffer->total += length;
    if (buffer->length + length > sizeof(buffer->data)) flush(buffer);
    if (length > sizeof(buffer->data)) {
        buffer->write(buffer->context, text, length);
        return;
    }
    memcpy(buffer->data + buffer->length, text, length);
    buffer->length += length;
}

// bpftool 7.1 carries the libbpf of Linux 6.1-stable, whose C dumper differs from libbpf 1.1.2's
// in two ways, both visible in single callback formats: it writes an empty parameter list as
// "(void)" where 1.1.2 writes "()", and it has no mode(byte)/mode(word) attribute after enums of
// unusual sizes. This maps 1.1.2's output to 6.1's (a later libbpf already writes "void)").
static int rewrite_for_bpftool_7_1(struct output_buffer *buffer, const char *format) {
    int after_open = buffer->after_open_parenthesis;
    buffer->after_open_parenthesis = format[0] == '(' && format[1] == '\0';
    if (format[0] == ' ' && (strcmp(format, " __attribute__((mode(byte)))") == 0
                             || strcmp(format, " __attribute__((mode(word)))") == 0))
        return 1;
    if (after_open && format[0] == ')' && format[1] == '\0') {
        append(buffer, "void)", 5);
        return 1;
    }
    return 0;
}

static void collect(void *context, const char *format, va_list arguments) {
    struct output_buffer *buffer = context;
    if (buffer->failed) return;
    if (rewrite_for_bpftool_7_1(buffer, format)) return;
    // Most calls print one piece of text ("%s") or none; format those without vsnprintf.
    if (strcmp(format, "%s") == 0) {
        const char *text = va_arg(arguments, const char *);
        append(buffer, text, strlen(text));
        return;
    }
    if (strchr(format, '%') == NULL) {
        append(buffer, format, strlen(format));
        return;
    }
    size_t room = sizeof(buffer->data) - buffer->length;
    va_list copy;
    va_copy(copy, arguments);
    int needed = vsnprintf(buffer->data + buffer->length, room, format, copy);
    va_end(copy);
    if (needed < 0) {
        buffer->failed = -EINVAL;
        return;
    }
    if ((size_t)needed < room) {
        // Written in place; count it as append would.
        if (buffer->total + (size_t)needed > maximum_output) {
            buffer->failed = -EFBIG;
            return;
        }
        buffer->total += (size_t)needed;
        buffer->length += (size_t)needed;
        return;
    }
    char *text = malloc((size_t)needed + 1);
    if (!text) {
        buffer->failed = -ENOMEM;
        return;
    }
    vsnprintf(text, (size_t)needed + 1, format, arguments);
    append(buffer, text, (size_t)needed);
    free(text);
}

struct bpfrun_btf_c_dump *bpfrun_btf_c_dump_new(const void *data, size_t size, int pointer_size, int *error) {
    *error = 0;
    if (size > 0xffffffffu) {
        *error = -E2BIG;
        return NULL;
    }
    struct bpfrun_btf_c_dump *dump = calloc(1, sizeof(*dump));
    if (!dump) {
        *error = -ENOMEM;
        return NULL;
    }
    dump->btf = btf__new(data, (unsigned int)size);
    long failure = libbpf_get_error(dump->btf);
    if (failure) {
        *error = (int)(failure < 0 ? failure : -failure);
        free(dump);
        return NULL;
    }
    if (pointer_size) btf__set_pointer_size(dump->btf, (size_t)pointer_size);
    dump->size = size;
    return dump;
}

struct dump_job {
    struct btf *btf;
    struct output_buffer *buffer;
    int result;
};

static void *run_dump_job(void *argument) {
    struct dump_job *job = argument;
    struct btf_dump *dumper = btf_dump__new(job->btf, collect, job->buffer, NULL);
    long error = libbpf_get_error(dumper);
    if (error) {
        job->result = (int)(error < 0 ? error : -error);
        return NULL;
    }
    unsigned int count = btf__type_cnt(job->btf);
    int result = 0;
    for (unsigned int id = 1; id < count && result == 0 && !job->buffer->failed; id++) {
        result = btf_dump__dump_type(dumper, id);
    }
    btf_dump__free(dumper);
    job->result = result != 0 ? result : job->buffer->failed;
    return NULL;
}

int bpfrun_btf_c_dump_run(struct bpfrun_btf_c_dump *dump, bpfrun_btf_dump_write write, void *context) {
    struct output_buffer *buffer = malloc(sizeof(*buffer));
    if (!buffer) return -ENOMEM;
    buffer->length = 0;
    buffer->total = 0;
    buffer->failed = 0;
    buffer->after_open_parenthesis = 0;
    buffer->write = write;
    buffer->context = context;
    // libbpf's dumper recurses once per type along reference chains (at most once per type when
    // no unguarded cycle exists), so it runs on a thread whose stack grows with the type count:
    // 1 MiB plus 1 KiB per possible 12-byte record, at most 1 GiB (reserved, committed lazily).
    size_t stack = ((size_t)1 << 20) + dump->size / 12 * 1024;
    if (stack > ((size_t)1 << 30)) stack = (size_t)1 << 30;
    struct dump_job job = {dump->btf, buffer, 0};
    pthread_attr_t attributes;
    if (pthread_attr_init(&attributes) != 0) {
        free(buffer);
        return -ENOMEM;
    }
    int error = pthread_attr_setstacksize(&attributes, stack);
    pthread_t thread;
    if (error == 0) error = pthread_create(&thread, &attributes, run_dump_job, &job);
    pthread_attr_destroy(&attributes);
    if (error != 0) {
        free(buffer);
        return -error;
    }
    pthread_join(thread, NULL);
    if (job.result == 0) flush(buffer);
    int result = job.result;
    free(buffer);
    return result;
}

void bpfrun_btf_c_dump_free(struct bpfrun_btf_c_dump *dump) {
    if (!dump) return;
    btf__free(dump->btf);
    free(dump);
}
