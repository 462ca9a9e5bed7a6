// The one thing Swift cannot express: libbpf's printf-style callback (a va_list), which this
// file collects into a growing buffer.
#include "CBTFDumpShim.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

struct output_buffer {
    char *data;
    size_t length;
    size_t capacity;
    int failed;
    /// Whether the previous callback's format was exactly "(" (a prototype's parameter list).
    int after_open_parenthesis;
};

/// The most C text a dump may produce (a whole kernel's vmlinux.h is a few MiB). A struct whose
/// size field claims gigabytes makes libbpf pad it with `long: 64;` lines; stop instead.
static const size_t maximum_output = (size_t)64 << 20;

static int reserve(struct output_buffer *buffer, size_t extra) {
    if (buffer->length + extra + 1 <= buffer->capacity) return 0;
    if (buffer->length + extra + 1 > maximum_output) {
        buffer->failed = -EFBIG;
        return -EFBIG;
    }
    size_t capacity = buffer->capacity ? buffer->capacity : 4096;
    while (capacity < buffer->length + extra + 1) capacity *= 2;
    char *data = realloc(buffer->data, capacity);
    if (!data) return -ENOMEM;
    buffer->data = data;
    buffer->capacity = capacity;
    return 0;
}

static void append_text(struct output_buffer *buffer, const char *text) {
    size_t length = strlen(text);
    if (reserve(buffer, length) != 0) {
        if (!buffer->failed) buffer->failed = -ENOMEM;
        return;
    }
    memcpy(buffer->data + buffer->length, text, length + 1);
    buffer->length += length;
}

// bpftool 7.1 carries the libbpf of Linux 6.1-stable, whose C dumper differs from libbpf 1.1.2's
// in two ways, both visible in single callback formats: it writes an empty parameter list as
// "(void)" where 1.1.2 writes "()", and it has no mode(byte)/mode(word) attribute after enums of
// unusual sizes. This maps 1.1.2's output to 6.1's (a later libbpf already writes "void)").
static int rewrite_for_bpftool_7_1(struct output_buffer *buffer, const char *format) {
    int after_open = buffer->after_open_parenthesis;
    buffer->after_open_parenthesis = strcmp(format, "(") == 0;
    if (strcmp(format, " __attribute__((mode(byte)))") == 0 || strcmp(format, " __attribute__((mode(word)))") == 0)
        return 1;
    if (after_open && strcmp(format, ")") == 0) {
        append_text(buffer, "void)");
        return 1;
    }
    return 0;
}

static void collect(void *context, const char *format, va_list arguments) {
    struct output_buffer *buffer = context;
    if (buffer->failed) return;
    if (rewrite_for_bpftool_7_1(buffer, format)) return;
    va_list copy;
    va_copy(copy, arguments);
    int needed = vsnprintf(NULL, 0, format, copy);
    va_end(copy);
    if (needed < 0) {
        buffer->failed = -EINVAL;
        return;
    }
    if (reserve(buffer, (size_t)needed) != 0) {
        if (!buffer->failed) buffer->failed = -ENOMEM;
        return;
    }
    vsnprintf(buffer->data + buffer->length, (size_t)needed + 1, format, arguments);
    buffer->length += (size_t)needed;
}

static int dump_all_types(const void *data, size_t size, int pointer_size, char **output, size_t *output_length) {
    if (size > 0xffffffffu) return -E2BIG;
    struct btf *btf = btf__new(data, (unsigned int)size);
    long error = libbpf_get_error(btf);
    if (error) return (int)(error < 0 ? error : -error);
    if (pointer_size) btf__set_pointer_size(btf, (size_t)pointer_size);

    struct output_buffer buffer = {0};
    if (reserve(&buffer, 0) != 0) {
        btf__free(btf);
        return -ENOMEM;
    }
    buffer.data[0] = '\0';
    struct btf_dump *dumper = btf_dump__new(btf, collect, &buffer, NULL);
    error = libbpf_get_error(dumper);
    if (error) {
        btf__free(btf);
        free(buffer.data);
        return (int)(error < 0 ? error : -error);
    }
    int result = 0;
    unsigned int count = btf__type_cnt(btf);
    for (unsigned int id = 1; id < count && result == 0 && !buffer.failed; id++) result = btf_dump__dump_type(dumper, id);
    btf_dump__free(dumper);
    btf__free(btf);
    if (result == 0 && buffer.failed) result = buffer.failed;
    if (result != 0) {
        free(buffer.data);
        return result;
    }
    buffer.data[buffer.length] = '\0';
    *output = buffer.data;
    *output_length = buffer.length;
    return 0;
}

struct dump_job {
    const void *data;
    size_t size;
    int pointer_size;
    char *output;
    size_t output_length;
    int result;
};

static void *run_dump_job(void *argument) {
    struct dump_job *job = argument;
    job->result = dump_all_types(job->data, job->size, job->pointer_size, &job->output, &job->output_length);
    return NULL;
}

int bpfrun_btf_dump_c(const void *data, size_t size, int pointer_size, char **output, size_t *output_length) {
    *output = NULL;
    *output_length = 0;
    // libbpf's dumper recurses once per type along reference chains (at most once per type when
    // no unguarded cycle exists), so it runs on a thread whose stack grows with the type count:
    // 1 MiB plus 1 KiB per possible 12-byte record, at most 1 GiB (reserved, committed lazily).
    size_t stack = ((size_t)1 << 20) + size / 12 * 1024;
    if (stack > ((size_t)1 << 30)) stack = (size_t)1 << 30;
    struct dump_job job = {data, size, pointer_size, NULL, 0, 0};
    pthread_attr_t attributes;
    if (pthread_attr_init(&attributes) != 0) return -ENOMEM;
    int error = pthread_attr_setstacksize(&attributes, stack);
    pthread_t thread;
    if (error == 0) error = pthread_create(&thread, &attributes, run_dump_job, &job);
    pthread_attr_destroy(&attributes);
    if (error != 0) return -error;
    pthread_join(thread, NULL);
    *output = job.output;
    *output_length = job.output_length;
    return job.result;
}

void bpfrun_btf_dump_free(char *output) {
    free(output);
}
